"""``ResourceView``: pick a collection of a session, set its filters, see the DataFrame.

The collections and their filters are the provider's declarations
(:class:`~explorer.session.collections.Collection`, :class:`~explorer.session.collections.Filter`):
a collection is loaded by the session's helper of the same name when it has one (e.g.
``itcare.instances``), else through ``session.frame`` on its path. Each filter gets the widget
its ``kind`` calls for (:func:`filter_widget`): a dropdown with an "any" entry for one known
value, a tags box limited to the known values for several, a date picker for dates, a
yes / no / any dropdown for booleans, and a text box only where the values are open. The
rows are shown in a :class:`~explorer.widgets.grid.DataGrid`.

>>> import explorer
>>> itcare = explorer.connect("itcare", sandbox=True)
>>> view = ResourceView(itcare)
>>> view.collection.value = "instances"
>>> view.filters["environments"].value = ["PRODUCTION"]   # several known values: a list
>>> view.filters["included_in_patch_party"].value = True  # yes / no / any (None)
>>> view.load_button.click(); view.frame.shape
(100, 53)
>>> view.grid.df is view.frame
True
"""

from __future__ import annotations

import datetime as dt
import inspect
from collections.abc import Callable, Mapping
from html import escape
from typing import Any

import ipywidgets as w
import pandas as pd

from ..session import Collection, Filter
from ._util import WAITING, Busy, error_html, message_html, when_connected
from .grid import DataGrid

__all__ = ["ResourceView", "filter_tooltip", "filter_widget"]

#: What "no filter" is called in the dropdowns and text boxes.
ANY = "any"
#: Each filter cell is at least this wide: two or three filters a row in a notebook cell.
_CELL_WIDTH = "17em"
#: ipywidgets' TagsInput draws only its text box, as wide as its placeholder: here the whole
#: box takes the filter's cell, with a border like the other inputs, the text box the rest of
#: the row after the tags.
_CSS = """<style>
.explorer-resource-view .jupyter-widget-tagsinput {
  box-sizing: border-box; min-height: var(--jp-widgets-inline-height); padding: 0 2px;
  border: var(--jp-widgets-input-border-width) solid var(--jp-widgets-input-border-color);
  background: var(--jp-widgets-input-background-color);
}
.explorer-resource-view .jupyter-widget-tagsinput:focus-within {
  border-color: var(--jp-widgets-input-focus-border-color);
}
.explorer-resource-view .jupyter-widget-tagsinput > div:has(> .jupyter-widget-taginput) {
  flex: 1 1 4em; min-width: 4em;
}
.explorer-resource-view .jupyter-widget-tagsinput .jupyter-widget-tag {
  height: calc(var(--jp-widgets-inline-height) - 4px);
  line-height: calc(var(--jp-widgets-inline-height) - 4px);
}
.explorer-resource-view .jupyter-widget-tagsinput input.jupyter-widget-taginput {
  width: 100%; box-sizing: border-box; border: 0; background: transparent;
}
</style>"""


def filter_tooltip(flt: Filter) -> str:
    """The hover text of a filter: its API parameter, its help and what it accepts.

    >>> from explorer.session import Filter
    >>> filter_tooltip(Filter("backup_status", param="backupStatus", kind="choices",
    ...                       choices=("SUCCESS", "FAILED"), help="last backup"))
    'API parameter: backupStatus — last backup (one or several of SUCCESS, FAILED)'
    """
    parts = [f"API parameter: {flt.query_name}"]
    if flt.help:
        parts.append(f" — {flt.help}")
    if flt.choices and flt.kind == "choices":
        parts.append(f" (one or several of {', '.join(flt.choices)})")
    elif flt.choices and flt.kind == "choice":
        parts.append(f" (one of {', '.join(flt.choices)})")
    elif flt.choices:
        parts.append(f" (for example {', '.join(flt.choices)}; any value)")
    elif flt.kind == "date":
        parts.append(" (a date, UTC)")
    elif flt.kind == "number":
        parts.append(" (a number; several comma-separated where the API takes a list)")
    return "".join(parts)


def filter_widget(flt: Filter) -> w.ValueWidget:
    """The input widget for one declared filter; its ``value`` is what the session helper
    takes (``None``, ``""`` or ``[]``: no filter).

    ======================================  ====================================================
    ``kind``                                widget, ``value``
    ======================================  ====================================================
    ``"choice"`` with ``choices``           ``Dropdown``: "any" (``None``) or one value
    ``"choices"`` with ``choices``          ``TagsInput`` limited to the choices: a list
    ``"date"``                              ``DatePicker``: a ``datetime.date`` or ``None``
    ``"bool"``                              ``Dropdown``: any (``None``), yes (``True``), no
    ``"text"`` with ``choices``             ``Combobox``: suggestions, any text allowed
    otherwise (open values, numbers)        ``Text``
    ======================================  ====================================================

    >>> from explorer.session import Filter
    >>> type(filter_widget(Filter("env", kind="choices", choices=("QA", "PROD")))).__name__
    'TagsInput'
    >>> filter_widget(Filter("ok", kind="bool")).options
    (('any', None), ('yes', True), ('no', False))
    """
    tip = filter_tooltip(flt)
    layout = w.Layout(width="auto", min_width="0")
    widget: w.ValueWidget
    if flt.kind in ("choice", "bool") and (flt.choices or flt.kind == "bool"):
        options: list[tuple[str, Any]] = [(ANY, None)]
        options += ([("yes", True), ("no", False)] if flt.kind == "bool"
                    else [(c, c) for c in flt.choices])
        widget = w.Dropdown(options=options, index=0, tooltip=tip, layout=layout)
        widget.observe(_back_to_any, names="index")
    elif flt.kind == "choices" and flt.choices:
        widget = w.TagsInput(value=[], allowed_tags=list(flt.choices), allow_duplicates=False,
                             placeholder=ANY, tooltip=tip, layout=layout)
    elif flt.kind == "date":
        widget = w.DatePicker(value=None, tooltip=tip, layout=layout)
    elif flt.choices:
        widget = w.Combobox(options=list(flt.choices), ensure_option=False, placeholder=ANY,
                            continuous_update=False, tooltip=tip, layout=layout)
    else:
        widget = w.Text(placeholder=ANY, continuous_update=False, tooltip=tip, layout=layout)
    return widget


def _back_to_any(change: Mapping[str, Any]) -> None:
    """``dropdown.value = None`` leaves no option chosen: show "any" again (index 0)."""
    if change["new"] is None:
        change["owner"].index = 0


def _is_empty(value: Any) -> bool:
    if isinstance(value, str):
        return not value.strip()
    if isinstance(value, (list, tuple)):
        return not value
    return value is None


class ResourceView(w.VBox):
    """Pick a collection (``collection`` Dropdown), fill ``filters`` (by filter name, the
    widget of each, see :func:`filter_widget`), click ``load_button``: ``frame`` is the
    DataFrame, shown in ``grid`` (a :class:`~explorer.widgets.grid.DataGrid`). ``error``
    holds the last failure (shown in the widget), or ``None``.

    >>> import explorer
    >>> view = ResourceView(explorer.connect("gopacs", sandbox=True))
    >>> view.collection.options[:2]
    ('announcements', 'machine_announcements')
    >>> view.collection.value = "machine_announcements"
    >>> [(name, type(x).__name__) for name, x in view.filters.items()][:3]
    [('postal_code', 'Text'), ('start', 'DatePicker'), ('end', 'DatePicker')]
    """

    def __init__(self, session: Any, *, limit: int = 100, height: str = "360px") -> None:
        self.frame = pd.DataFrame()
        self.error: BaseException | None = None
        self.session: Any = None
        self._collections: dict[str, Collection] = {}
        self.header = w.HTML()
        self.collection = w.Dropdown(options=[], description="Collection",
                                     style={"description_width": "auto"},
                                     layout=w.Layout(width="auto", min_width="16em"))
        self.about = w.HTML(layout=w.Layout(min_width="0"))
        self.limit = w.BoundedIntText(value=limit, min=1, max=1_000_000, description="Limit",
                                      tooltip="the most rows to load",
                                      style={"description_width": "auto"},
                                      layout=w.Layout(width="9.5em"))
        self.filters: dict[str, w.ValueWidget] = {}
        self.filter_box = w.GridBox(layout=w.Layout(
            grid_template_columns=f"repeat(auto-fill, minmax({_CELL_WIDTH}, 1fr))",
            grid_gap="2px 14px", width="100%", margin="4px 0"))
        self.load_button = w.Button(description="Load", icon="table", button_style="primary",
                                    layout=w.Layout(width="7em"))
        self.busy = Busy()
        self.busy.disable_while_busy(self.load_button)
        self.message = w.HTML()
        self.summary = w.HTML()
        self.grid = DataGrid(height=height, layout=w.Layout(display="none", width="100%"))
        self.collection.observe(lambda _c: self._draw_filters(), names="value")
        self.load_button.on_click(lambda _b: self.load())
        bar = w.HBox([self.collection, self.limit, self.load_button, self.busy.widget],
                     layout=w.Layout(align_items="center", flex_flow="row wrap",
                                     grid_gap="8px"))
        style = w.HTML(_CSS, layout=w.Layout(display="none"))
        super().__init__(children=[style, self.header, bar, self.about, self.filter_box,
                                   self.message, self.summary, self.grid],
                         layout=w.Layout(width="100%", max_width="100%"))
        self.add_class("explorer-resource-view")
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
        name = self.collection.value
        collection = self._collections.get(name) if name else None
        declared = collection.filters if collection else ()
        self.filters = {f.name: filter_widget(f) for f in declared}
        self.filter_box.children = [self._cell(f, self.filters[f.name]) for f in declared]
        self.filter_box.layout.display = "grid" if declared else "none"
        if collection is None:
            self.about.value = ""
            return
        what = collection.title or collection.name
        base = "" if collection.base == "base_url" else f"{collection.base}: "
        self.about.value = (f"<small style='color:#555'>{escape(what)} — "
                            f"<code>{escape(base + collection.path)}</code>"
                            f"{'' if declared else ' — no filters'}</small>")

    @staticmethod
    def _cell(flt: Filter, widget: w.Widget) -> w.Widget:
        """A filter's label above its input; the label's hover shows the API parameter."""
        label = w.HTML(f"<span class='explorer-filter-label' title='{escape(widget.tooltip)}'"
                       f" style='font-size:12px;color:#444;white-space:nowrap'>"
                       f"{escape(flt.title)}</span>", layout=w.Layout(margin="0", height="18px"))
        return w.VBox([label, widget], layout=w.Layout(min_width="0", overflow="visible"))

    def filter_values(self) -> dict[str, Any]:
        """The filters that have a value: text stripped, several values as a list, a date as
        a ``datetime.date``, a yes/no as ``True``/``False``.

        >>> import explorer
        >>> view = ResourceView(explorer.connect("itcare", sandbox=True))
        >>> view.filters["families"].value = ("DEBIAN", "RHEL")
        >>> view.filters["names"].value = "  web* "
        >>> view.filter_values()
        {'names': 'web*', 'families': ['DEBIAN', 'RHEL']}
        """
        out: dict[str, Any] = {}
        for name, widget in self.filters.items():
            value = widget.value
            if _is_empty(value):
                continue
            if isinstance(value, str):
                value = value.strip()
            elif isinstance(value, (list, tuple)):
                value = list(value)
            elif isinstance(value, dt.datetime):
                value = value.date() if value.time() == dt.time() else value
            out[name] = value
        return out

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
        self.grid.df = frame
        self.grid.layout.display = None if len(frame.columns) else "none"
        self.summary.value = self._summary(name, frame)
        return frame

    def _summary(self, name: str, frame: pd.DataFrame) -> str:
        rows = "row" if len(frame) == 1 else "rows"
        text = f"{len(frame):,} {rows} × {frame.shape[1]} columns of {name}"
        if len(frame) >= self.limit.value:
            text += f" (the first {self.limit.value:,}: raise Limit for more)"
        elif frame.empty:
            text += ": nothing matches these filters"
        return message_html(text)

    def _fetch(self, name: str, filters: Mapping[str, Any]) -> pd.DataFrame:
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
