"""``python -m explorer`` — see :mod:`explorer.cli`."""

from .cli import main

__all__ = []

raise SystemExit(main())
