"""``IcdBrowser``: search ICD-11, read an entity, walk its children and ancestors, fill a basket.

>>> import explorer
>>> icd = explorer.connect("icd", sandbox=True, cache=False, progress=False)
>>> browser = IcdBrowser(icd)
>>> browser.query.value = "cholera"; browser.search_button.click()
>>> browser.results[["code", "title"]].iloc[0].tolist()
['1A00', 'Cholera']
>>> browser.select(0)["title"]
'Cholera'
>>> browser.add_button.click(); browser.selection["code"].tolist()
['1A00']

The browser uses the ICD session's methods only (``search``, ``entity``, ``children``,
``ancestors``).
"""

from __future__ import annotations

from collections.abc import Mapping
from html import escape
from typing import Any

import ipywidgets as w
import pandas as pd

from ._util import WAITING, Busy, error_html, frame_html, message_html, when_connected

__all__ = ["BASKET_COLUMNS", "IcdBrowser"]

#: Columns of :attr:`IcdBrowser.selection`.
BASKET_COLUMNS = ["code", "title", "class_kind", "chapter", "id", "uri"]
#: Result columns shown in the table.
RESULT_COLUMNS = ["code", "title", "chapter", "score"]


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
        return [value]
    return [str(v) for v in value]


class IcdBrowser(w.VBox):
    """A small ICD browser widget over an ICD session (or a :class:`CredentialForm`).

    ``results`` is the search DataFrame on show; ``selection`` the basket (a DataFrame with
    :data:`BASKET_COLUMNS`); ``entity`` the entity on show (a dict), ``entity_children`` its
    children and ``ancestors`` the breadcrumb, chapter first (DataFrames); ``error`` the last
    failure or ``None``.

    >>> import explorer
    >>> browser = IcdBrowser(explorer.login("icd", live=False))   # waits for Connect
    <CredentialForm icd: not connected>
    """

    def __init__(self, session: Any, *, max_results: int = 50) -> None:
        self.max_results = max_results
        self.results = pd.DataFrame(columns=RESULT_COLUMNS)
        self.selection = pd.DataFrame(columns=BASKET_COLUMNS)
        self.entity: dict[str, Any] | None = None
        self.entity_children = pd.DataFrame()
        self.ancestors = pd.DataFrame()
        self.error: BaseException | None = None
        self._session: Any = None

        self.header = w.HTML()
        self.query = w.Text(placeholder="search ICD-11, e.g. cholera", continuous_update=False,
                            layout=w.Layout(width="24em"))
        self.search_button = w.Button(description="Search", icon="search",
                                      button_style="primary")
        self.busy = Busy()
        self.message = w.HTML()
        self.table = w.HTML()
        self.result_list = w.Select(options=[], rows=8, description="Results",
                                    layout=w.Layout(width="34em"))
        self.breadcrumb = w.HBox(layout=w.Layout(flex_flow="row wrap"))
        self.details = w.HTML()
        self.child_list = w.Select(options=[], rows=6, description="Children",
                                   layout=w.Layout(width="34em"))
        self.add_button = w.Button(description="Add to basket", icon="plus", disabled=True)
        self.remove_button = w.Button(description="Remove", icon="minus")
        self.clear_button = w.Button(description="Clear basket", icon="trash")
        self.basket_list = w.SelectMultiple(options=[], rows=4, description="Basket",
                                            layout=w.Layout(width="34em"))
        self.basket = w.HTML()
        self.busy.disable_while_busy(self.search_button, self.add_button)

        self._shown_query: str | None = None
        self.search_button.on_click(self._on_search_click)
        self.query.observe(self._on_query, names="value")
        self.result_list.observe(self._on_pick, names="value")
        self.child_list.observe(self._on_pick, names="value")
        self.add_button.on_click(lambda _b: self.add())
        self.remove_button.on_click(lambda _b: self.remove())
        self.clear_button.on_click(lambda _b: self.clear())
        super().__init__(children=[
            self.header,
            w.HBox([self.query, self.search_button, self.busy.widget]),
            self.message, self.table, self.result_list,
            self.breadcrumb, self.details, self.child_list,
            w.HBox([self.add_button, self.remove_button, self.clear_button]),
            self.basket_list, self.basket,
        ])
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
        self.header.value = (f"<b>ICD browser</b> <small>{escape(session.api.title)} "
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

    # -- search ---------------------------------------------------------------------------------
    def _on_search_click(self, _button: Any) -> None:
        # Typing then clicking syncs the text first (which searches): don't search twice.
        if self.query.value.strip() != self._shown_query or self.error is not None:
            self.search()

    def _on_query(self, change: Mapping[str, Any]) -> None:
        if change["new"].strip():
            self.search()

    def search(self, query: str | None = None) -> pd.DataFrame:
        """Search (what the Search button does) and show the results; returns them."""
        if query is not None:
            with self.query.hold_trait_notifications():
                self.query.unobserve(self._on_query, names="value")
                self.query.value = query
                self.query.observe(self._on_query, names="value")
        text = self.query.value.strip()
        if self._session is None:
            self.message.value = message_html("Not connected yet.", color="#a60")
            return self.results
        if not text:
            self.message.value = message_html("Type something to search for.", color="#a60")
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
        shown = results.head(self.max_results)
        self.table.value = frame_html(results, max_rows=self.max_results,
                                      columns=RESULT_COLUMNS, css_class="explorer-results")
        self.result_list.unobserve(self._on_pick, names="value")
        self.result_list.options = [(_label(r), _ref(r)) for r in shown.to_dict("records")]
        self.result_list.value = None
        self.result_list.observe(self._on_pick, names="value")
        if results.empty:
            self.message.value = message_html(f"No match for {text!r}.")
        return results

    # -- entities -------------------------------------------------------------------------------
    def _on_pick(self, change: Mapping[str, Any]) -> None:
        if change["new"]:
            self.show(change["new"])

    def select(self, row: int | str) -> dict[str, Any] | None:
        """Show result row ``row`` (an index into :attr:`results`) or a code/id/URI."""
        if isinstance(row, int):
            record = self.results.iloc[row].to_dict()
            return self.show(_ref(record))
        match = self.results[self.results["code"] == row] if "code" in self.results else None
        if match is not None and len(match):
            return self.show(_ref(match.iloc[0].to_dict()))
        return self.show(row)

    def show(self, ref: str) -> dict[str, Any] | None:
        """Show the entity ``ref`` (URI or id), its children and its ancestors."""
        if self._session is None:
            return None
        self.error = None
        self.message.value = ""
        try:
            with self.busy("Loading the entity…"):
                entity = _record(self._session.entity(ref))
                self.busy.step(0.4, "Loading its children…")
                children = self._session.children(ref)
                self.busy.step(0.7, "Loading its ancestors…")
                ancestors = self._session.ancestors(ref)
        except Exception as exc:  # noqa: BLE001 - shown in the widget
            self._fail(exc)
            return None
        self.entity, self.entity_children, self.ancestors = entity, children, ancestors
        self.details.value = _entity_html(entity)
        self.child_list.unobserve(self._on_pick, names="value")
        self.child_list.options = [(_label(r), _ref(r)) for r in children.to_dict("records")]
        self.child_list.value = None
        self.child_list.observe(self._on_pick, names="value")
        self._draw_breadcrumb(ancestors)
        self.add_button.disabled = False
        return entity

    def up(self) -> dict[str, Any] | None:
        """Show the parent of the entity on show (the last breadcrumb step)."""
        if self.ancestors is None or self.ancestors.empty:
            return None
        return self.show(_ref(self.ancestors.iloc[-1].to_dict()))

    def _draw_breadcrumb(self, ancestors: pd.DataFrame) -> None:
        buttons = []
        for record in ancestors.to_dict("records"):
            text = _get(record, "code", "code_range", "title") or "?"
            button = w.Button(description=text[:24], tooltip=_get(record, "title") or "",
                              layout=w.Layout(width="auto"))
            ref = _ref(record)
            button.on_click(lambda _b, ref=ref: self.show(ref))
            buttons.append(button)
        if buttons:
            buttons.insert(0, w.HTML("<small>Ancestors:&nbsp;</small>"))
        self.breadcrumb.children = buttons

    # -- basket ---------------------------------------------------------------------------------
    def add(self) -> pd.DataFrame:
        """Add the entity on show to the basket (what "Add to basket" does)."""
        if self.entity is None:
            return self.selection
        row = {c: self.entity.get(c) for c in BASKET_COLUMNS}
        known = self.selection["uri"].tolist() + self.selection["id"].tolist()
        if (row["uri"] or row["id"]) not in known:
            new = pd.DataFrame([row], columns=BASKET_COLUMNS)
            self.selection = new if self.selection.empty else \
                pd.concat([self.selection, new], ignore_index=True)
        self._draw_basket()
        return self.selection

    def remove(self) -> pd.DataFrame:
        """Remove the rows picked in the basket list."""
        picked = set(self.basket_list.value)
        if picked:
            keep = [i for i in range(len(self.selection)) if i not in picked]
            self.selection = self.selection.iloc[keep].reset_index(drop=True)
        self._draw_basket()
        return self.selection

    def clear(self) -> pd.DataFrame:
        """Empty the basket."""
        self.selection = pd.DataFrame(columns=BASKET_COLUMNS)
        self._draw_basket()
        return self.selection

    def _draw_basket(self) -> None:
        self.basket_list.options = [(_label(r), i) for i, r in
                                    enumerate(self.selection.to_dict("records"))]
        self.basket.value = frame_html(self.selection, columns=["code", "title", "chapter"])

    def __repr__(self) -> str:
        return (f"<IcdBrowser results={len(self.results)} "
                f"basket={len(self.selection)} entity={(self.entity or {}).get('code')!r}>")


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


def _label(record: Mapping[str, Any]) -> str:
    code = _get(record, "code", "code_range") or ""
    return f"{code:<10} {_get(record, 'title') or ''}".rstrip()


def _entity_html(entity: Mapping[str, Any]) -> str:
    def section(title: str, values: list[str]) -> str:
        if not values:
            return ""
        items = "".join(f"<li>{escape(v)}</li>" for v in values)
        return f"<div><b>{escape(title)}</b><ul style='margin:0'>{items}</ul></div>"

    code = _get(entity, "code", "code_range") or ""
    head = (f"<h4 style='margin:.2em 0'>{escape(code)} {escape(_get(entity, 'title') or '')}"
            f" <small>({escape(_get(entity, 'class_kind') or '')})</small></h4>")
    definition = entity.get("definition")
    body = f"<p>{escape(str(definition))}</p>" if isinstance(definition, str) else ""
    parts = [
        head, body,
        section("Synonyms", _items(entity.get("synonyms"))),
        section("Inclusions", _items(entity.get("inclusions"))),
        section("Exclusions", _items(entity.get("exclusions"))),
        section("Postcoordination axes", _items(entity.get("postcoordination_axes"))),
    ]
    url = entity.get("browser_url")
    if isinstance(url, str) and url.startswith("http"):
        parts.append(f"<small>{escape(url)}</small>")
    return f"<div class='explorer-entity'>{''.join(parts)}</div>"
