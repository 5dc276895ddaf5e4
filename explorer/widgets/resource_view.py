"""``ResourceView``: pick a collection of an ITCare, GOPACS or Jindexe session, set filters,
see the DataFrame.

>>> import explorer
>>> itcare = explorer.connect("itcare", sandbox=True)
>>> view = ResourceView(itcare)
>>> view.collection.value = "instances"
>>> view.filters["environments"].value = "PRODUCTION"
>>> view.load_button.click(); view.frame.shape
(100, 53)

Collections are the session's own DataFrame methods (``itcare.instances``…) when it has them;
otherwise the documented collection routes through ``session.frame``.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from html import escape
from typing import Any

import ipywidgets as w
import pandas as pd

from ._util import WAITING, Busy, error_html, frame_html, message_html, when_connected

__all__ = ["COLLECTIONS", "Collection", "ResourceView"]


@dataclass(frozen=True)
class Collection:
    """A collection the view can load: a session method, or else a route and its filters."""

    name: str
    path: str
    base: str = "base_url"
    filters: tuple[str, ...] = ()


_ITCARE_FILTERS = ("names", "types", "families", "environments", "statuses", "tags", "az",
                   "ip", "vlan", "services")
#: Known collections per provider (method name, route fallback, route filters).
COLLECTIONS: dict[str, tuple[Collection, ...]] = {
    "itcare": (
        Collection("instances", "/compute/instances", filters=_ITCARE_FILTERS),
        Collection("resources", "/compute/resources", filters=_ITCARE_FILTERS),
        Collection("services", "/compute/services"),
        Collection("environments", "/compute/environments"),
        Collection("actions", "/actions", filters=("statuses",)),
    ),
    "gopacs": (
        Collection("announcements", "/public/announcements", base="idcons_url"),
        Collection("machine_announcements", "/machineannouncements", base="idcons_url",
                   filters=("postalcode", "starttime", "endtime", "type", "state")),
        Collection("cleared_buckets", "/clearedbuckets", base="reporting_url"),
        Collection("expenses", "/expenses", base="reporting_url"),
        Collection("performance_metrics", "/performance-metrics", base="reporting_url"),
    ),
    "jindexe": (
        Collection("establishments", "/public/establishments", filters=("q", "city")),
    ),
}
#: Method parameters that are not filters (they get their own controls, or none).
_NOT_FILTERS = {"self", "limit", "progress", "workers", "page_size", "explode", "spec",
                "paging", "base", "params", "kwargs", "args", "session"}


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
        known = COLLECTIONS.get(session.provider)
        if known is None:
            raise ValueError(f"no collections known for {session.provider!r}; "
                             f"use one of {sorted(COLLECTIONS)}")
        self.session = session
        self._collections = {c.name: c for c in known}
        self.collection.options = list(self._collections)
        self.collection.value = next(iter(self._collections))
        self.load_button.disabled = False
        self.header.value = (f"<b>{escape(session.profile.title)}</b> "
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
        method = self._method(name)
        if method is None:
            return list(self._collections[name].filters)
        params = inspect.signature(method).parameters.values()
        return [p.name for p in params if p.name not in _NOT_FILTERS
                and p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)]

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
        spec = self._collections[name]
        return self.session.frame(spec.path, base=spec.base, limit=limit, progress=False,
                                  **filters)

    def __repr__(self) -> str:
        return f"<ResourceView {self.collection.value!r} rows={len(self.frame)}>"
