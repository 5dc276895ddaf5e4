"""``no_gc()``: the cyclic garbage collector paused while big acyclic structures are built.

Parsing a whole ICD-11 release makes millions of small lists and tuples; each allocation burst
triggers a collection that rescans the growing heap (about 40 % of a parse). Nothing built there
forms a cycle, so pausing the collector loses nothing.

>>> import gc
>>> with no_gc():
...     gc.isenabled()
False
>>> gc.isenabled()
True
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["no_gc"]


@contextmanager
def no_gc() -> Iterator[None]:
    """Pause the cyclic garbage collector for the block (restored as it was, errors too)."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()
