"""Small helpers shared by the widgets: DataFrame tables, error boxes, busy indicators.

>>> import pandas as pd
>>> frame_html(pd.DataFrame({"code": ["1A00"], "title": ["<Cholera>"]}))  # doctest: +ELLIPSIS
'<div class="explorer-frame">...&lt;Cholera&gt;...'
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterable, Iterator
from html import escape
from typing import Any

import ipywidgets as w
import pandas as pd

from ..errors import ExplorerError

__all__ = ["WAITING", "Busy", "all_widgets", "error_html", "frame_html", "message_html",
           "when_connected"]


def frame_html(df: pd.DataFrame | None, *, max_rows: int = 50,
               columns: Iterable[str] | None = None, css_class: str = "explorer-table") -> str:
    """An escaped HTML table of ``df`` (at most ``max_rows`` rows) with its shape underneath."""
    if df is None:
        return ""
    shown = df
    if columns is not None:
        shown = df[[c for c in columns if c in df.columns]]
    if shown.empty:
        table = "<p><em>No rows.</em></p>"
    else:
        table = shown.head(max_rows).to_html(index=False, escape=True, border=0,
                                             classes=css_class, na_rep="")
    more = f", showing the first {max_rows}" if len(df) > max_rows else ""
    rows = "row" if len(df) == 1 else "rows"
    return (f'<div class="explorer-frame">{_TABLE_CSS}{table}'
            f"<small>{len(df)} {rows} × {df.shape[1]} columns{more}</small></div>")


# Left-aligned, lightly ruled rows: readable in JupyterLab, Notebook and Voilà alike.
_TABLE_CSS = ("<style>.explorer-frame table{border-collapse:collapse}"
              ".explorer-frame th,.explorer-frame td{text-align:left;padding:2px 10px;"
              "border-bottom:1px solid #ddd}</style>")


def error_html(exc: BaseException, redact: Callable[[str], str] | None = None) -> str:
    """The error in the provider's own words (explorer's messages hold provider, URL and hint).

    Errors that are not explorer's own show their type too. Text passes through ``redact``.
    """
    text = str(exc) if isinstance(exc, ExplorerError) else f"{type(exc).__name__}: {exc}"
    if redact is not None:
        text = redact(text)
    return ('<div class="explorer-error" style="color:#a00;white-space:pre-wrap;'
            'line-height:1.45;margin:4px 0;'
            f'border-left:3px solid #a00;padding-left:.5em">{escape(text)}</div>')


def when_connected(source: Any, connected: Callable[[Any], None],
                   waiting: Callable[[], None]) -> None:
    """Call ``connected(session)`` now for a session, or when ``source`` (a form: anything with
    ``on_connect`` and ``session``) connects — after ``waiting()`` when it has not yet."""
    if not callable(getattr(source, "on_connect", None)):
        connected(source)
        return
    if source.session is None:
        waiting()
    source.on_connect(connected)


WAITING = "Waiting for the connection: fill the form above and click Connect."


def message_html(text: str, *, color: str = "#555") -> str:
    """A one-line escaped message."""
    return f'<div style="color:{color}">{escape(text)}</div>'


def all_widgets(root: w.Widget) -> list[w.Widget]:
    """``root`` and every widget below it (children of boxes, accordions, tabs)."""
    out: list[w.Widget] = []
    stack: list[Any] = [root]
    while stack:
        item = stack.pop()
        if not isinstance(item, w.Widget) or any(item is seen for seen in out):
            continue
        out.append(item)
        stack.extend(getattr(item, "children", ()) or ())
    return out


class Busy:
    """A progress indicator for long work: a pulsing bar and a message, hidden when idle.

    >>> busy = Busy()
    >>> with busy("Searching…"):
    ...     busy.active
    True
    >>> busy.active
    False
    """

    def __init__(self) -> None:
        self.bar = w.FloatProgress(value=0, min=0, max=1, bar_style="info",
                                   layout=w.Layout(width="12em", visibility="hidden"))
        self.label = w.Label(value="")
        self.widget = w.HBox([self.bar, self.label])
        self.active = False
        self._disable: list[w.Widget] = []

    def disable_while_busy(self, *widgets: w.Widget) -> None:
        """These widgets are disabled while work runs (a double click does nothing)."""
        self._disable.extend(widgets)

    @contextlib.contextmanager
    def __call__(self, message: str) -> Iterator[Busy]:
        self.active = True
        self.label.value = message
        self.bar.value = 0.5
        self.bar.layout.visibility = "visible"
        previous = [getattr(x, "disabled", False) for x in self._disable]
        for x in self._disable:
            x.disabled = True
        try:
            yield self
        finally:
            for x, was in zip(self._disable, previous, strict=True):
                x.disabled = was
            self.bar.value = 0
            self.bar.layout.visibility = "hidden"
            self.label.value = ""
            self.active = False

    def step(self, fraction: float, message: str | None = None) -> None:
        """Show progress as a fraction in [0, 1]."""
        self.bar.value = max(0.0, min(1.0, fraction))
        if message is not None:
            self.label.value = message
