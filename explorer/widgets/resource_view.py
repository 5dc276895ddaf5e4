"""``ResourceView``: pick a collection of a session, set its filters, see the DataFrame.

The collections and their filters are the provider's declarations
(:class:`~explorer.session.collections.Collection`, :class:`~explorer.session.collections.Filter`):
a collection is loaded by the session's helper of the same name when it has one (e.g.
``itcare.instances``), else through ``session.frame`` on its path.

>>> import explorer
>>> itcare = explorer.connect("itcare", sandbox=True)
>>> view = ResourceView(itcare)
>>> view.collection.value = "instances"
>>> view.filters["environments"].value = "PRODUCTION"
>>> view.load_button.click(); view.frame.shape
(100, 53)
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping
from html import escape
from typing import Any

import ipywidgets as w
import pandas as pd

from ..session import Collection
from ._util import WAITING, Busy, error_html, frame_html, message_html, when_connected

__all__ = ["ResourceView"]


class ResourceView(w.VBox):
    """Pick a collection (``collection`` Dropdown), fill ``filters`` (Text fields), click
    ``load_button``: ``frame`` is the DataFrame, shown as a table. ``error`` holds the last
    failure (shown in the widget), or ``None``.

    >>> import explorer
    >>> view = ResourceView(explorer.connect("gopacs", sandbox=True))
    >>> view.collection.options[:2]
    ('announcements', 'machine_announcements')
    """

    def __init__(self, session: Any, *, limit: int = 100, max_rows: int = 30) -> None:
        self.max_rows = max_rows
        self.frame = pd.DataFrame()
        self.error: BaseException | None = None
        self.session: Any = None
        self._collections: dict[str, Collection] = {}
        self.header = w.HTML()
        self.collection = w.Dropdown(options=[], description="Collection")
        self.limit = w.BoundedIntText(value=limit, min=1, max=1_000_000, description="Limit")
        self.filters: dict[str, w.Text] = {}
        self.filter_box = w.VBox()
        self.load_button = w.Button(description="Load", icon="table", button_style="primary")
        self.busy = Busy()
        self.busy.disable_while_busy(self.load_button)
        self.message = w.HTML()
        self.table = w.HTML()
        self.collection.observe(lambda _c: self._draw_filters(), names="value")
        self.load_button.on_click(lambda _b: self.load())
        super().__init__(children=[
            self.header, w.HBox([self.collection, self.limit]), self.filter_box,
            w.HBox([self.load_button, self.busy.widget]), self.message, self.table,
        ])
        self._attach(session)

    # -- connection -----------------------------------------------------------------------------
    def _attach(self, source: Any) -> None:
        def waiting() -> None:
            self.load_button.disabled = True
            self.header.value = message_html(WAITING)

        when_connected(source, self._connected, waiting)

    def _connected(self, session: Any) -> None:
        known = [c for c in session.api.collections if c.browsable]
        if not known:
            raise ValueError(f"{session.provider!r} declares no collection to browse")
        self.session = session
        self._collections = {c.name: c for c in known}
        self.collection.options = list(self._collections)
        self.collection.value = next(iter(self._collections))
        self.load_button.disabled = False
        self.header.value = (f"<b>{escape(session.api.title)}</b> "
                             f"<small>[{escape(session.deployment)}] "
                             f"{escape(session.base_url)}</small>")
        self._draw_filters()

    # -- filters --------------------------------------------------------------------------------
    def _method(self, name: str) -> Callable[..., Any] | None:
        if self.session is None:
            return None
        attr = getattr(type(self.session), name, None)
        return getattr(self.session, name) if callable(attr) else None

    def filter_names(self, name: str | None = None) -> list[str]:
        """The filters of collection ``name`` (default: the chosen one)."""
        name = name or self.collection.value
        if not name:
            return []
        return [f.name for f in self._collections[name].filters]

    def _draw_filters(self) -> None:
        self.filters = {
            name: w.Text(description=name, placeholder="any", continuous_update=False,
                         style={"description_width": "9em"}, layout=w.Layout(width="28em"))
            for name in self.filter_names()
        }
        self.filter_box.children = list(self.filters.values())

    def filter_values(self) -> dict[str, str]:
        """The filters that have a value."""
        return {k: t.value.strip() for k, t in self.filters.items() if t.value.strip()}

    # -- loading --------------------------------------------------------------------------------
    def load(self) -> pd.DataFrame:
        """Load the chosen collection with the filters (what the Load button does)."""
        name = self.collection.value
        if self.session is None or not name:
            self.message.value = message_html("Not connected yet.", color="#a60")
            return self.frame
        self.error = None
        self.message.value = ""
        filters = self.filter_values()
        try:
            with self.busy(f"Loading {name}…"):
                frame = self._fetch(name, filters)
        except Exception as exc:  # noqa: BLE001 - shown in the widget
            self.error = exc
            self.message.value = error_html(exc, getattr(self.session, "redact", None))
            return self.frame
        self.frame = frame
        self.table.value = frame_html(frame, max_rows=self.max_rows)
        return frame

    def _fetch(self, name: str, filters: Mapping[str, str]) -> pd.DataFrame:
        method = self._method(name)
        limit = int(self.limit.value)
        if method is not None:
            params = inspect.signature(method).parameters
            extra: dict[str, Any] = {}
            if "limit" in params:
                extra["limit"] = limit
            if "progress" in params:
                extra["progress"] = False
            frame = method(**filters, **extra)
            return frame.head(limit) if isinstance(frame, pd.DataFrame) else pd.DataFrame(frame)
        collection = self._collections[name]
        return self.session.frame(collection.path, base=collection.base, limit=limit,
                                  progress=False, **collection.query(filters))

    def __repr__(self) -> str:
        return f"<ResourceView {self.collection.value!r} rows={len(self.frame)}>"
