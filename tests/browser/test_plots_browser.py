"""The charts of notebooks 02 (ICD) and 04 (GOPACS) in a real JupyterLab at 1280×800.

A throwaway notebook runs the cells of each notebook that its charts need (the charts' cells
and, transitively, the last earlier cell binding each name they read: not notebook 02's
whole-classification download, which they do not use) on the sandbox. Each chart must be
drawn: an image that has loaded, is not blank, shows distinct colours (bars, the stacked
change kinds, the required and remaining MW) and fits its cell. Screenshots go to
``test-artifacts/``.
"""

from __future__ import annotations

import pytest

from ._lab import NOTEBOOKS, distinct_colours, layout, notebook_slice, output_of, save_figures, shot

pytestmark = [pytest.mark.browser, pytest.mark.timeout(150)]

#: (notebook, chart, the fewest distinct strong colours it shows)
CHARTS = [("02-icd-browsing", "icd-categories-per-block", 1),
          ("02-icd-browsing", "icd-changes-per-chapter", 4),
          ("04-gopacs", "gopacs-profile", 2)]


def _charts(source: str) -> bool:
    return "plt.show()" in source


def test_charts_of_notebooks_02_and_04(page, notebook):
    cells = [cell for name in dict.fromkeys(n for n, _, _ in CHARTS)
             for cell in notebook_slice(NOTEBOOKS / f"{name}.ipynb", _charts)]
    figures: dict[str, object] = {"cells": len(cells)}
    try:
        notebook("charts.ipynb", cells)
        images = page.locator(".jp-OutputArea-output img")
        page.wait_for_function(
            "n => [...document.querySelectorAll('.jp-OutputArea-output img')]"
            ".filter(i => i.complete && i.naturalWidth > 0).length >= n",
            arg=len(CHARTS), timeout=90_000)
        assert images.count() == len(CHARTS)
        for i, (_notebook, name, fewest) in enumerate(CHARTS):
            image = images.nth(i)
            size = image.evaluate("i => [i.naturalWidth, i.naturalHeight]")
            colours, inked = distinct_colours(shot(image, f"chart-{name}"))
            figures[name] = {"natural_size": size, "strong_colours": colours,
                             "inked_share": round(inked, 3),
                             "layout": layout(output_of(image))}
            assert size[0] >= 400 and size[1] >= 200, (name, size)
            assert 0.03 < inked < 0.9, (name, inked)  # drawn, not blank, not a solid block
            assert colours >= fewest, (name, colours)
        shot(output_of(images.nth(2)), "readme/gopacs-plot")
    finally:
        save_figures("charts-browser", figures)
