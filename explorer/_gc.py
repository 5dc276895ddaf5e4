"""``no_gc()``: the cyclic garbage collector paused while big acyclic structures are built.

Parsing a whole ICD-11 release makes millions of small lists and tuples; each allocation burst
triggers a collection that rescans the growing heap (about 40 % of a parse). Nothing built there
forms a cycle, so pausing the collector loses nothing.

The collector is switched for the whole process: one ``no_gc()`` may run while another thread
is in one too (the sandbox parses in the background); it is back on when the last one ends.

>>> import gc
>>> with no_gc():
...     gc.isenabled()
False
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["no_gc"]

_lock = threading.Lock()
_state = {"depth": 0, "was": False}


@contextmanager
def no_gc() -> Iterator[None]:
    """Pause the cyclic garbage collector for the block; when the last block running in any
    thread ends, the collector is as it was before the first began (errors too)."""
    with _lock:
        if _state["depth"] == 0:
            _state["was"] = gc.isenabled()
            gc.disable()
        _state["depth"] += 1
    try:
        yield
    finally:
        with _lock:
            _state["depth"] -= 1
            if _state["depth"] == 0 and _state["was"]:
                gc.enable()
