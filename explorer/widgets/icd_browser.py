"""``IcdBrowser``: search ICD-11, read an entity, walk its hierarchy, fill a basket, export it.

One view: a search box; the results in a :class:`~explorer.widgets.grid.DataGrid` (a click,
or Enter, opens a row; the arrow keys move through them and the entity follows); the
hierarchy from the chapter down (expand, collapse, the open entity highlighted, ``(no
children)`` under a leaf); the entity (definition, synonyms, inclusions, exclusions as links,
postcoordination axes, coding note, WHO's browser link); the basket (a grid) with Copy (to the
clipboard, in the browser), Save CSV and Save Parquet.

>>> import explorer
>>> icd = explorer.connect("icd", sandbox=True, cache=False, progress=False)
>>> browser = IcdBrowser(icd)
>>> browser.search("cholera")[["code", "title"]].iloc[0].tolist()
['1A00', 'Cholera']
>>> browser.select(0)["title"]                 # what a click on the first result does
'Cholera'
>>> browser.add()["code"].tolist()             # the basket (``browser.selection``)
['1A00']
>>> browser.export("basket.csv").name          # doctest: +SKIP
'basket.csv'

The browser uses the ICD session's methods only (``search``, ``entity``, ``children``,
``ancestors``, ``terms``, ``chapters``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from html import escape
from pathlib import Path
from typing import Any

import anywidget
import ipywidgets as w
import pandas as pd
import traitlets

from ._util import WAITING, Busy, error_html, message_html, when_connected
from .grid import DataGrid

__all__ = ["BASKET_COLUMNS", "RESULT_COLUMNS", "IcdBrowser"]

_STATIC = Path(__file__).with_name("static")

#: Columns of :attr:`IcdBrowser.selection` (the basket).
BASKET_COLUMNS = ["code", "title", "class_kind", "chapter", "id", "uri"]
#: Result columns shown in the results grid (the others stay in :attr:`IcdBrowser.results`).
RESULT_COLUMNS = ["code", "title", "chapter", "score"]
#: Term kinds shown in the entity pane, with their headings, in order.
TERM_SECTIONS = {"synonym": "Synonyms", "narrower_term": "Narrower terms",
                 "inclusion": "Inclusions", "exclusion": "Exclusions",
                 "child_elsewhere": "Coded elsewhere"}
_ENTITY_LISTS = {"synonym": "synonyms", "narrower_term": "narrower_terms",
                 "inclusion": "inclusions", "exclusion": "exclusions"}
_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")


class _Pane(anywidget.AnyWidget):
    """HTML built (and escaped) in Python, shown in the browser; clicks on ``[data-ref]`` and
    ``[data-action]`` elements come back as events (see ``static/icd_browser.js``).

    >>> pane = _Pane(kind="entity")
    >>> pane.on_event(lambda event: print(event))
    >>> pane._handle({"event": "open", "ref": "http://id.who.int/icd/entity/1"})
    {'event': 'open', 'ref': 'http://id.who.int/icd/entity/1'}
    """

    _esm = _STATIC / "icd_browser.js"
    _css = _STATIC / "icd_browser.css"

    #: What the pane shows (escaped HTML).
    html = traitlets.Unicode("").tag(sync=True)
    #: ``tree``, ``entity`` or ``copy`` (a CSS class).
    kind = traitlets.Unicode("").tag(sync=True)
    #: Greatest CSS height (the pane scrolls inside).
    height = traitlets.Unicode("").tag(sync=True)
    #: What ``[data-action=copy]`` puts on the clipboard.
    copy_text = traitlets.Unicode("").tag(sync=True)
    #: ArrowDown in the browser's search box focuses the results (one pane does it).
    query_keys = traitlets.Bool(False).tag(sync=True)

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._handlers = w.CallbackDispatcher()
        self.on_msg(lambda _w, content, _b: self._handle(content))

    def on_event(self, callback: Any) -> None:
        """Call ``callback(event)`` (a dict with ``event`` and ``ref`` or ``ok``)."""
        self._handlers.register_callback(callback)

    def _handle(self, content: Any) -> None:
        if not isinstance(content, Mapping) or not isinstance(content.get("event"), str):
            return
        ref = content.get("ref")
        event = {"event": content["event"]}
        if "ok" in content:
            event["ok"] = bool(content["ok"])
        else:
            event["ref"] = ref if isinstance(ref, str) else None
        self._handlers(event)


def _record(value: Any) -> dict[str, Any]:
    """A plain dict from a Series, a one-row DataFrame or a mapping."""
    if isinstance(value, pd.DataFrame):
        return value.iloc[0].to_dict() if len(value) else {}
    if isinstance(value, pd.Series):
        return value.to_dict()
    return dict(value) if isinstance(value, Mapping) else {}


def _items(value: Any) -> list[str]:
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return []
    if isinstance(value, str):
        return [value] if value else []
    return [str(v) for v in value if v is not None and str(v)]


def _get(record: Mapping[str, Any], *keys: str) -> str | None:
    """The first of ``keys`` with a value (DataFrame rows hold NaN for "nothing")."""
    for key in keys:
        value = record.get(key)
        if value is None or (isinstance(value, float) and pd.isna(value)) or value == "":
            continue
        return str(value)
    return None


def _ref(record: Mapping[str, Any]) -> str:
    return str(_get(record, "uri", "id"))


def _name(record: Mapping[str, Any]) -> str:
    """What names an entity in a list: its code, a block's range, or a chapter's number."""
    return _get(record, "code", "code_range") or ""


def _axis(name: str) -> str:
    """``infectiousAgent`` → ``Infectious agent``."""
    words = _CAMEL.sub(" ", name).lower()
    return words[:1].upper() + words[1:]


class IcdBrowser(w.VBox):
    """An ICD-11 browser over an ICD session (or a :class:`CredentialForm`: it waits for it).

    ``results`` is the search DataFrame on show; ``selection`` the basket (a DataFrame with
    :data:`BASKET_COLUMNS`); ``entity`` the entity on show (a dict), ``entity_children`` its
    children and ``ancestors`` its ancestors, chapter first (DataFrames); ``error`` the last
    failure or ``None``. What the widgets do is also code: :meth:`search`, :meth:`select`,
    :meth:`show`, :meth:`expand`, :meth:`collapse`, :meth:`add`, :meth:`remove`,
    :meth:`clear`, :meth:`export`.

    >>> import explorer
    >>> browser = IcdBrowser(explorer.login("icd", live=False))   # waits for Connect
    <CredentialForm icd: not connected>
    """

    def __init__(self, session: Any, *, max_results: int = 200,
                 results_height: str = "260px", tree_height: str = "400px",
                 entity_height: str = "366px", basket_height: str = "200px") -> None:
        self.max_results = max_results
        self.results = pd.DataFrame(columns=RESULT_COLUMNS)
        self.selection = pd.DataFrame(columns=BASKET_COLUMNS)
        self.entity: dict[str, Any] | None = None
        self.entity_children = pd.DataFrame()
        self.ancestors = pd.DataFrame()
        self.entity_terms = pd.DataFrame()
        self.error: BaseException | None = None
        self._session: Any = None
        self._kids: dict[str, list[dict[str, Any]]] = {}  # ref -> its children (records)
        self._expanded: set[str] = set()
        self._roots: list[dict[str, Any]] = []
        self._all_chapters = False
        self._quiet = False  # set while Python moves the results grid's highlight

        self.header = w.HTML()
        self.query = w.Text(placeholder="search ICD-11, e.g. cholera  (Enter searches, ↓ goes "
                                        "to the results)", continuous_update=False,
                            layout=w.Layout(flex="0 1 36em", width="auto"))
        self.query.add_class("xib-query")
        self.search_button = w.Button(description="Search", icon="search",
                                      button_style="primary", layout=w.Layout(width="auto"))
        self.busy = Busy()
        self.message = w.HTML()
        self.results_grid = DataGrid(columns=RESULT_COLUMNS, height=results_height, stretch="title",
                                     layout=w.Layout(width="100%"))
        self.results_grid.add_class("xib-results")
        self.tree = _Pane(kind="tree", height=tree_height, query_keys=True)
        self.details = _Pane(kind="entity", height=entity_height)
        self.add_button = w.Button(description="Add to basket", icon="plus", disabled=True,
                                   tooltip="Add the entity on show to the basket",
                                   layout=w.Layout(width="auto"))
        self.remove_button = w.Button(description="Remove", icon="minus",
                                      tooltip="Remove the highlighted basket row",
                                      layout=w.Layout(width="auto"))
        self.clear_button = w.Button(description="Clear", icon="trash",
                                     tooltip="Empty the basket", layout=w.Layout(width="auto"))
        self.copy_button = _Pane(kind="copy", html=(
            '<button type="button" class="jupyter-button widget-button xib-copy-button" '
            'data-action="copy" title="Copy the basket to the clipboard (tab-separated, '
            'with a header: paste it into a spreadsheet)"><i class="fa fa-copy"></i> '
            "Copy</button>"))
        self.export_path = w.Text(value="icd-basket", placeholder="file name",
                                  tooltip="Where Save CSV / Save Parquet write (the suffix is "
                                          "theirs), relative to the notebook",
                                  layout=w.Layout(flex="0 1 12em", width="auto"))
        self.csv_button = w.Button(description="Save CSV", icon="download",
                                   layout=w.Layout(width="auto"))
        self.parquet_button = w.Button(description="Save Parquet", icon="download",
                                       layout=w.Layout(width="auto"))
        self.basket_grid = DataGrid(self.selection,
                                    columns=["code", "title", "class_kind", "chapter", "uri"],
                                    visible_columns=["code", "title", "class_kind", "chapter"],
                                    height=basket_height, stretch="title",
                                    layout=w.Layout(width="100%"))
        self.basket_grid.add_class("xib-basket")
        self.busy.disable_while_busy(self.search_button, self.add_button)

        self._shown_query: str | None = None
        self.search_button.on_click(self._on_search_click)
        self.query.observe(self._on_query, names="value")
        self.results_grid.on_select(self._on_result_open)
        self.results_grid.observe(self._on_result_moved, names="selected")
        self.tree.on_event(self._on_pane_event)
        self.details.on_event(self._on_pane_event)
        self.copy_button.on_event(self._on_pane_event)
        self.add_button.on_click(lambda _b: self.add())
        self.remove_button.on_click(lambda _b: self.remove())
        self.clear_button.on_click(lambda _b: self.clear())
        self.csv_button.on_click(lambda _b: self._save("csv"))
        self.parquet_button.on_click(lambda _b: self._save("parquet"))

        left = w.VBox([self.tree])
        left.add_class("xib-column")
        left.add_class("xib-left")
        right = w.VBox([self.add_button, self.details])
        right.add_class("xib-column")
        right.add_class("xib-right")
        main = w.HBox([left, right])
        main.add_class("xib-main")
        basket_bar = w.HBox([w.HTML("<b>Basket</b>"), self.remove_button, self.clear_button,
                             self.copy_button, self.export_path, self.csv_button,
                             self.parquet_button])
        basket_bar.add_class("xib-bar")
        search_bar = w.HBox([self.query, self.search_button, self.busy.widget])
        search_bar.add_class("xib-bar")
        super().__init__(children=[self.header, search_bar, self.message, self.results_grid,
                                   main, basket_bar, self.basket_grid],
                         layout=w.Layout(width="100%", max_width="100%"))
        self.add_class("xib")
        self._draw_tree()
        self._draw_entity()
        self._draw_basket()
        self._attach(session)

    # -- connection -----------------------------------------------------------------------------
    def _attach(self, source: Any) -> None:
        name = getattr(source, "api", None)
        name = getattr(name, "name", name)  # a session's provider, or a form's API name
        if name is not None and name != "icd":
            raise ValueError(f"IcdBrowser needs an ICD session or form, not {name!r}")

        def waiting() -> None:
            self._set_enabled(False)
            self.header.value = message_html(WAITING)

        when_connected(source, self._connected, waiting)

    def _connected(self, session: Any) -> None:
        missing = [m for m in ("search", "entity", "children", "ancestors")
                   if not callable(getattr(session, m, None))]
        if missing:
            raise ValueError(f"IcdBrowser needs an ICD session (no {', '.join(missing)})")
        self._session = session
        self._set_enabled(True)
        self.header.value = (f"<b>ICD-11 browser</b> <small>{escape(session.api.title)} "
                             f"[{escape(session.deployment)}] {escape(session.base_url)}</small>")

    @property
    def session(self) -> Any:
        """The ICD session in use (``None`` while waiting for a form)."""
        return self._session

    def _set_enabled(self, enabled: bool) -> None:
        for widget in (self.query, self.search_button):
            widget.disabled = not enabled

    def _fail(self, exc: BaseException) -> None:
        self.error = exc
        redact = getattr(self.session, "redact", None)
        self.message.value = error_html(exc, redact)

    def _say(self, text: str, color: str = "#555") -> None:
        self.message.value = message_html(text, color=color)

    # -- search ---------------------------------------------------------------------------------
    def _on_search_click(self, _button: Any) -> None:
        # Typing then clicking syncs the text first (which searches): don't search twice.
        if self.query.value.strip() != self._shown_query or self.error is not None:
            self.search()

    def _on_query(self, change: Mapping[str, Any]) -> None:
        if change["new"].strip():
            self.search()

    def search(self, query: str | None = None) -> pd.DataFrame:
        """Search (what Enter and the Search button do) and show the results; returns them
        (all of them; the grid shows the first ``max_results``)."""
        if query is not None:
            with self.query.hold_trait_notifications():
                self.query.unobserve(self._on_query, names="value")
                self.query.value = query
                self.query.observe(self._on_query, names="value")
        text = self.query.value.strip()
        if self._session is None:
            self._say("Not connected yet.", "#a60")
            return self.results
        if not text:
            self._say("Type something to search for.", "#a60")
            return self.results
        self.error = None
        self._shown_query = None
        self.message.value = ""
        try:
            with self.busy(f"Searching {text!r}…"):
                results = self._session.search(text)
        except Exception as exc:  # noqa: BLE001 - shown in the widget
            self._fail(exc)
            return self.results
        self.results = results
        self._shown_query = text
        self._quiet = True
        try:
            self.results_grid.df = results.head(self.max_results).reset_index(drop=True)
        finally:
            self._quiet = False
        if results.empty:
            self._say(f"No match for {text!r}.")
        elif len(results) > self.max_results:
            self._say(f"{len(results)} matches, the first {self.max_results} shown "
                      "(browser.results has them all).")
        return results

    def _on_result_open(self, row: pd.Series) -> None:
        """A click on a result, or Enter on it."""
        if self.entity is None or _ref(row.to_dict()) != self.entity.get("uri"):
            self.show(_ref(row.to_dict()))

    def _on_result_moved(self, change: Mapping[str, Any]) -> None:
        """The arrow keys moved the highlight: the entity follows."""
        if self._quiet or change["new"] is None:
            return
        row = self.results_grid.df.iloc[change["new"]].to_dict()
        if self.entity is None or _ref(row) != self.entity.get("uri"):
            self.show(_ref(row))

    # -- entities -------------------------------------------------------------------------------
    def select(self, row: int | str) -> dict[str, Any] | None:
        """Open result row ``row`` (a position in :attr:`results`), or a result's code —
        what a click on a result does; anything else goes to :meth:`show`."""
        if isinstance(row, int):
            return self._open_result(row)
        if "code" in self.results and len(self.results):
            hits = (self.results["code"] == row).to_numpy().nonzero()[0]
            if len(hits):
                return self._open_result(int(hits[0]))
        return self.show(row)

    def _open_result(self, position: int) -> dict[str, Any] | None:
        record = self.results.iloc[position].to_dict()
        entity = self.show(_ref(record))
        return entity

    def show(self, ref: str, *, keep_tree: bool = False) -> dict[str, Any] | None:
        """Show the entity ``ref`` (URI, id or code): its text, where it sits in the
        hierarchy (expanded from its chapter down) and its children. ``keep_tree`` keeps the
        branches opened before (a click in the tree does)."""
        if self._session is None:
            return None
        self.error = None
        self.message.value = ""
        session = self._session
        try:
            with self.busy("Loading the entity…"):
                entity = _record(session.entity(ref))
                uri = _ref(entity)
                self.busy.step(0.3, "Loading its children…")
                children = session.children(uri, progress=False)
                self.busy.step(0.5, "Loading its ancestors…")
                ancestors = session.ancestors(uri)
                self.busy.step(0.7, "Loading the hierarchy…")
                self._kids[uri] = children.to_dict("records")
                for record in ancestors.to_dict("records"):
                    self._children(_ref(record))
                terms = self._terms(uri)
        except Exception as exc:  # noqa: BLE001 - shown in the widget
            self._fail(exc)
            return None
        self.entity, self.entity_children, self.ancestors = entity, children, ancestors
        self.entity_terms = terms
        path = [_ref(r) for r in ancestors.to_dict("records")] + [uri]
        self._expanded = (self._expanded if keep_tree else set()) | set(path)
        chapter = ancestors.iloc[0].to_dict() if len(ancestors) else entity
        if not any(_ref(r) == _ref(chapter) for r in self._roots):
            self._roots, self._all_chapters = [chapter], False
        self._draw_tree()
        self._draw_entity()
        self._highlight_result(uri)
        self.add_button.disabled = False
        code = _name(entity)
        self.add_button.description = f"Add {code} to basket" if code else "Add to basket"
        return entity

    def up(self) -> dict[str, Any] | None:
        """Show the parent of the entity on show."""
        if self.ancestors is None or self.ancestors.empty:
            return None
        return self.show(_ref(self.ancestors.iloc[-1].to_dict()), keep_tree=True)

    def _children(self, ref: str) -> list[dict[str, Any]]:
        if ref not in self._kids:
            self._kids[ref] = self._session.children(ref, progress=False).to_dict("records")
        return self._kids[ref]

    def _terms(self, uri: str) -> pd.DataFrame:
        terms = getattr(self._session, "terms", None)
        if not callable(terms):
            return pd.DataFrame()
        try:
            return terms(uri)
        except Exception:  # noqa: BLE001 - the entity's own lists are shown instead
            return pd.DataFrame()

    def _highlight_result(self, uri: str) -> None:
        df = self.results_grid.df
        hits = (df["uri"] == uri).to_numpy().nonzero()[0] if "uri" in df and len(df) else []
        self._quiet = True
        try:
            self.results_grid.selected = int(hits[0]) if len(hits) else None
        finally:
            self._quiet = False

    # -- the hierarchy --------------------------------------------------------------------------
    def expand(self, ref: str) -> None:
        """Open a node of the hierarchy (loading its children)."""
        if self._session is None:
            return
        try:
            with self.busy("Loading the children…"):
                self._children(ref)
        except Exception as exc:  # noqa: BLE001 - shown in the widget
            self._fail(exc)
            return
        self._expanded.add(ref)
        self._draw_tree()

    def collapse(self, ref: str) -> None:
        """Close a node of the hierarchy."""
        self._expanded.discard(ref)
        self._draw_tree()

    def show_chapters(self) -> None:
        """Put every chapter at the top of the hierarchy (the open branch stays open)."""
        if self._session is None:
            return
        try:
            with self.busy("Loading the chapters…"):
                chapters = self._session.chapters(progress=False)
        except Exception as exc:  # noqa: BLE001 - shown in the widget
            self._fail(exc)
            return
        self._roots, self._all_chapters = chapters.to_dict("records"), True
        self._draw_tree()

    @property
    def hierarchy(self) -> pd.DataFrame:
        """The hierarchy as shown: one row per visible node (``depth``, ``code``, ``title``,
        ``open``, ``current``, ``uri``)."""
        rows = [{"depth": depth, "code": _name(r), "title": _get(r, "title"),
                 "open": _ref(r) in self._expanded, "current": _ref(r) == self._current(),
                 "uri": _ref(r)} for depth, r in self._walk()]
        return pd.DataFrame(rows, columns=["depth", "code", "title", "open", "current", "uri"])

    def _current(self) -> str | None:
        return None if self.entity is None else _ref(self.entity)

    def _walk(self) -> list[tuple[int, dict[str, Any]]]:
        out: list[tuple[int, dict[str, Any]]] = []

        def visit(record: dict[str, Any], depth: int) -> None:
            out.append((depth, record))
            ref = _ref(record)
            if ref in self._expanded and ref in self._kids:
                for child in self._kids[ref]:
                    visit(child, depth + 1)

        for root in self._roots:
            visit(root, 0)
        return out

    def _draw_tree(self) -> None:
        current = self._current()
        head = ('<div class="xib-tree-head"><b>Hierarchy</b>'
                + ("" if self._all_chapters else
                   '<a class="xib-link" href="#" data-action="chapters" data-ref="">'
                   "all chapters</a>") + "</div>")
        if not self._roots:
            self.tree.html = (head + '<div class="xib-empty">Open a result to see where it '
                              "sits in the classification, or browse "
                              '<a class="xib-link" href="#" data-action="chapters" '
                              'data-ref="">all chapters</a>.</div>')
            return
        lines = [head, '<div role="tree">']
        for depth, record in self._walk():
            ref = _ref(record)
            leaf = record.get("is_leaf") is True or (ref in self._kids and not self._kids[ref])
            is_open = ref in self._expanded and ref in self._kids
            state = "leaf" if leaf else ("true" if is_open else "false")
            caret = ("•" if leaf else
                     f'<span data-action="toggle" data-ref="{escape(ref)}">'
                     f'{"▾" if is_open else "▸"}</span>')
            here = ref == current
            title = _get(record, "title") or ""
            expanded = "" if leaf else f'aria-expanded="{str(is_open).lower()}" '
            lines.append(
                f'<div class="xib-node{" xib-current" if here else ""}" role="treeitem" '
                f'aria-level="{depth + 1}" aria-selected="{str(here).lower()}" {expanded}'
                f'tabindex="{0 if here else -1}" data-ref="{escape(ref)}" data-open="{state}" '
                f'title="{escape(title)}" style="padding-left:{4 + depth * 16}px">'
                f'<span class="xib-caret">{caret}</span>'
                f'<span class="xib-code">{escape(_name(record))}</span>'
                f'<span class="xib-title">{escape(title)}</span></div>')
            if (here and leaf) or (is_open and not self._kids.get(ref)):
                lines.append(f'<div class="xib-none" style="padding-left:{24 + depth * 16 + 16}'
                             'px">(no children)</div>')
        lines.append("</div>")
        self.tree.html = "".join(lines)

    # -- the entity pane ------------------------------------------------------------------------
    def _draw_entity(self) -> None:
        entity = self.entity
        if entity is None:
            self.details.html = ('<div class="xib-empty">Search, then click a result (or move '
                                 "to it with the arrow keys) to read it here.</div>")
            return

        def link(ref: str | None, text: str, title: str = "") -> str:
            if not ref:
                return escape(text)
            return (f'<a class="xib-link" href="#" data-ref="{escape(ref)}" '
                    f'title="{escape(title or ref)}">{escape(text)}</a>')

        crumbs = ' <span class="xib-sep">›</span> '.join(
            link(_ref(r), _name(r) or "?", _get(r, "title") or "")
            for r in self.ancestors.to_dict("records"))
        parts = [f'<div class="xib-crumbs">{crumbs}</div>' if crumbs else ""]
        kind = _get(entity, "class_kind") or ""
        code = _name(entity)
        badge = f'<span class="xib-code">{escape(code)}</span>' if code else ""
        parts.append(f'<h3>{badge}{escape(_get(entity, "title") or "")} '
                     f'<span class="xib-kind">{escape(kind)}</span></h3>')
        for key in ("definition", "long_definition"):
            text = _get(entity, key)
            if text:
                parts.append(f"<p>{escape(text)}</p>")
        fsn = _get(entity, "fully_specified_name")
        if fsn and fsn != _get(entity, "title"):
            parts.append(f"<p><i>Fully specified name:</i> {escape(fsn)}</p>")
        terms = self.entity_terms
        for kind_name, heading in TERM_SECTIONS.items():
            if len(terms) and "kind" in terms:
                rows = terms[terms["kind"] == kind_name].to_dict("records")
                items = [link(_get(r, "linearization_reference", "reference"),
                              _get(r, "label") or "") for r in rows]
            else:
                items = [escape(x) for x in _items(entity.get(_ENTITY_LISTS.get(kind_name, "")))]
            if items:
                parts.append(f"<h4>{escape(heading)}</h4><ul>"
                             + "".join(f"<li>{x}</li>" for x in items) + "</ul>")
        axes = _items(entity.get("postcoordination_axes"))
        if axes:
            parts.append("<h4>Postcoordination axes</h4><div class='xib-axes'>" + "".join(
                f'<span class="xib-axis" title="{escape(a)}">{escape(_axis(a))}</span>'
                for a in axes) + "</div>")
        note = _get(entity, "coding_note")
        if note:
            parts.append(f'<h4>Coding note</h4><p class="xib-note">{escape(note)}</p>')
        children = len(self.entity_children)
        parts.append(f"<h4>Children</h4><p>{children or '(no children)'}"
                     f"{' — in the hierarchy' if children else ''}</p>")
        url = _get(entity, "browser_url")
        foot = []
        if url and url.startswith("https://"):
            foot.append(f'<a class="xib-link" href="{escape(url)}" target="_blank" '
                        'rel="noopener noreferrer">Open in WHO\'s ICD-11 browser ↗</a>')
        foot.append(f'<span class="xib-code">{escape(_ref(entity))}</span>')
        parts.append(f'<div class="xib-foot">{" · ".join(foot)}</div>')
        self.details.html = "".join(parts)

    def _on_pane_event(self, event: Mapping[str, Any]) -> None:
        kind, ref = event.get("event"), event.get("ref")
        if kind == "open" and ref:
            self.show(ref, keep_tree=True)
        elif kind == "toggle" and ref:
            if ref in self._expanded and ref in self._kids:
                self.collapse(ref)
            else:
                self.expand(ref)
        elif kind == "chapters":
            self.show_chapters()
        elif kind == "copied":
            n = len(self.selection)
            if event.get("ok"):
                self._say(f"Copied {n} basket row{'s' if n != 1 else ''} to the clipboard "
                          "(tab-separated).")
            else:
                self._say("The browser refused the clipboard: use browser.selection or Save "
                          "CSV instead.", "#a60")

    # -- basket ---------------------------------------------------------------------------------
    def add(self, ref: str | None = None) -> pd.DataFrame:
        """Add the entity on show (or ``ref``) to the basket (what "Add to basket" does)."""
        if ref is not None and self.show(ref) is None:
            return self.selection
        if self.entity is None:
            return self.selection
        row = {c: self.entity.get(c) for c in BASKET_COLUMNS}
        if not _get(row, "code"):
            row["code"] = _name(self.entity) or None
        known = set(self.selection["uri"].dropna()) | set(self.selection["id"].dropna())
        if (row["uri"] or row["id"]) not in known:
            new = pd.DataFrame([row], columns=BASKET_COLUMNS)
            self.selection = new if self.selection.empty else \
                pd.concat([self.selection, new], ignore_index=True)
        self._draw_basket()
        return self.selection

    def remove(self, which: int | str | Sequence[int | str] | None = None) -> pd.DataFrame:
        """Remove basket rows: positions, codes or URIs; by default the highlighted row."""
        if which is None:
            which = self.basket_grid.selected
            if which is None:
                self._say("Click a basket row first, then Remove.", "#a60")
                return self.selection
        wanted = [which] if isinstance(which, int | str) else list(which)
        drop = set()
        for item in wanted:
            if isinstance(item, int) and 0 <= item < len(self.selection):
                drop.add(item)
            elif isinstance(item, str):
                for column in ("code", "uri", "id"):
                    drop |= set((self.selection[column] == item).to_numpy().nonzero()[0])
        keep = [i for i in range(len(self.selection)) if i not in drop]
        self.selection = self.selection.iloc[keep].reset_index(drop=True)
        self._draw_basket()
        return self.selection

    def clear(self) -> pd.DataFrame:
        """Empty the basket."""
        self.selection = pd.DataFrame(columns=BASKET_COLUMNS)
        self._draw_basket()
        return self.selection

    def export(self, path: str | Path, format: str | None = None) -> Path:
        """Write the basket to ``path``: CSV or Parquet (from the suffix, or ``format``);
        returns the absolute path.

        >>> import explorer
        >>> browser = IcdBrowser(explorer.connect("icd", sandbox=True, cache=False))
        >>> browser.export("basket.csv")                 # doctest: +SKIP
        PosixPath('/home/me/notebooks/basket.csv')
        """
        target = Path(path).expanduser()
        kind = (format or target.suffix.lstrip(".")).lower()
        if kind == "csv":
            self.selection.to_csv(target, index=False)
        elif kind in ("parquet", "pq"):
            self.selection.astype({"code": "string", "title": "string", "class_kind": "string",
                                   "chapter": "string", "id": "string", "uri": "string"}
                                  ).to_parquet(target, index=False)
        else:
            raise ValueError(f"cannot tell the format of {str(path)!r}: end it with .csv or "
                             ".parquet, or pass format='csv' / 'parquet'")
        return target.resolve()

    def _save(self, kind: str) -> None:
        stem = self.export_path.value.strip() or "icd-basket"
        path = Path(stem)
        if path.suffix.lower() in (".csv", ".parquet", ".pq"):
            path = path.with_suffix("")
        try:
            written = self.export(path.with_name(f"{path.name}.{kind}"))
        except Exception as exc:  # noqa: BLE001 - shown in the widget
            self._fail(exc)
            return
        n = len(self.selection)
        self._say(f"Saved {n} row{'s' if n != 1 else ''} to {written}")

    def _draw_basket(self) -> None:
        self.basket_grid.df = self.selection
        self.copy_button.copy_text = self.selection[["code", "title", "chapter", "uri"]].to_csv(
            sep="\t", index=False)
        empty = self.selection.empty
        for button in (self.remove_button, self.clear_button, self.csv_button,
                       self.parquet_button):
            button.disabled = empty

    def __repr__(self) -> str:
        return (f"<IcdBrowser results={len(self.results)} "
                f"basket={len(self.selection)} entity={(self.entity or {}).get('code')!r}>")
