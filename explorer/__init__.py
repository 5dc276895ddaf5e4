"""explorer: authenticated web APIs, explorable in Jupyter."""
