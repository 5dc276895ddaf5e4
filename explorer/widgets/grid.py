"""``DataGrid``: a virtualised data grid for DataFrames, as an ipywidgets-compatible widget.

Fixed-height rows (only the rows in view exist in the browser), list and dict cells shown on
one line (``app:web, env:prod``; the full value on hover), horizontal scrolling inside the
widget, sorting by a header click, a column chooser, and row events sent to Python: a click or
Enter *opens* a row (``on_select`` callbacks), the arrow keys move :attr:`DataGrid.selected`.

>>> import pandas as pd
>>> df = pd.DataFrame({"name": ["web01", "db01"], "cpu": [2, 8],
...                    "tags": [[{"key": "app", "value": "web"}], []]})
>>> grid = DataGrid(df, height="200px")
>>> grid
<DataGrid 2 rows × 3 columns (3 shown)>
>>> grid.visible_columns = ["name", "tags"]
>>> grid.selected = 1                       # highlight (and scroll to) the second row
>>> grid.selected_row["name"]
'db01'
>>> format_cell([{"key": "app", "value": "web"}, {"key": "env", "value": "prod"}])
'app:web, env:prod'

Only the offered columns' display texts reach the browser (never the DataFrame itself): pass
``columns=`` to keep other columns out of the widget's synced state. The JavaScript and CSS
are package data under ``explorer/widgets/static/``; nothing is fetched from the network.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import anywidget
import ipywidgets as w
import numpy as np
import pandas as pd
import traitlets

__all__ = ["DataGrid", "format_cell"]

_STATIC = Path(__file__).with_name("static")

#: Display texts longer than this are cut (with "…"); hovering fetches the full value.
DISPLAY_CHARS = 200
#: The longest text sent for a hover (the "full value").
FULL_CHARS = 5000
#: A column whose texts are all this short is as wide as its longest text (else: 90% of them).
SHORT_CHARS = 16
#: Height of a grid row in CSS pixels (the JavaScript uses the same constant).
ROW_HEIGHT = 26

_SPACE = re.compile(r"\s+")
_DIGITS = re.compile(r"(\d+)")
#: Key names that make a dict read as one ``key:value`` pair (AWS/ITCare-style tags).
_PAIR_KEYS = (("key", "value"), ("Key", "Value"), ("name", "value"), ("k", "v"))


def _is_null(value: Any) -> bool:
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    if isinstance(value, float | np.floating):
        return math.isnan(value)
    if isinstance(value, np.datetime64 | np.timedelta64):
        return bool(np.isnat(value))
    return False


def _pair(value: Mapping[Any, Any]) -> tuple[Any, Any] | None:
    """``{"key": k, "value": v}`` (or a like-named pair) as ``(k, v)``; else ``None``."""
    if len(value) != 2:
        return None
    for key, val in _PAIR_KEYS:
        if key in value and val in value:
            return value[key], value[val]
    return None


def _compact(value: Any, depth: int = 0) -> str:
    """One-line text of ``value`` (no cutting): nested lists and dicts stay compact."""
    if _is_null(value):
        return ""
    if isinstance(value, str):
        return _SPACE.sub(" ", value).strip()
    if isinstance(value, bool | np.bool_):
        return "True" if value else "False"
    if isinstance(value, float | np.floating):
        return str(value)  # the shortest text that reads back (float32 too)
    if isinstance(value, bytes | bytearray | memoryview):
        return f"<{len(value)} bytes>"
    if isinstance(value, Mapping):
        pair = _pair(value)
        if pair is not None:
            return f"{_compact(pair[0], depth + 1)}:{_compact(pair[1], depth + 1)}"
        text = ", ".join(f"{_compact(k, depth + 1)}:{_compact(v, depth + 1)}"
                         for k, v in value.items())
        return f"{{{text}}}" if depth else text
    if isinstance(value, list | tuple | set | frozenset | np.ndarray | pd.Series | pd.Index):
        items = list(value)
        if items and all(isinstance(x, Mapping) for x in items):
            if all(_pair(x) is not None for x in items):
                text = ", ".join(_compact(x, depth + 1) for x in items)
            else:  # records: "alias:a, domain:x; alias:b, domain:y"
                text = "; ".join(_compact(x, 0) for x in items)
        else:
            text = ", ".join(_compact(x, depth + 1) for x in items)
        return f"[{text}]" if depth and len(items) > 1 else text
    return _SPACE.sub(" ", str(value)).strip()


def format_cell(value: Any, max_chars: int | None = DISPLAY_CHARS) -> str:
    """A cell's text on one line: lists as ``a, b``; dicts, and lists of ``{key, value}``
    dicts, as ``app:web, env:prod``; ``None``/NaN/NaT as ``""``; whitespace collapsed; text
    longer than ``max_chars`` cut with ``…`` (``None``: never cut).

    >>> format_cell(["a", "b"])
    'a, b'
    >>> format_cell({"app": "web", "env": "prod"})
    'app:web, env:prod'
    >>> format_cell([{"alias": "h1", "domain": "x.local"}, {"alias": "h2", "domain": "y"}])
    'alias:h1, domain:x.local; alias:h2, domain:y'
    >>> format_cell(float("nan")), format_cell(None), format_cell(2.5), format_cell(True)
    ('', '', '2.5', 'True')
    >>> format_cell("line one\\nline two " * 3, max_chars=20)
    'line one line two l…'
    """
    if type(value) is str and value.isprintable() and "  " not in value:
        text = value.strip()  # the common case, quickly
    elif type(value) is int:
        text = str(value)
    else:
        text = _compact(value)
    if max_chars is not None and len(text) > max_chars:
        return text[:max(max_chars - 1, 0)] + "…"
    return text


def _natural(text: str) -> list[Any]:
    """A sort key like the browser's ``Intl.Collator(numeric, base)``: case-folded text and
    numbers (``web9`` before ``web10``)."""
    parts: list[Any] = _DIGITS.split(text.casefold())
    parts[1::2] = [int(x) for x in parts[1::2]]
    return parts


class _Column:
    """One offered column, encoded for the browser: ``texts``, the distinct display texts
    (the last one always ``""``, for missing values), and ``codes``, per row an index into
    ``texts``. Numbers and dates have their texts in value order (``ordered``): sorting rows
    is sorting codes. Other texts are sorted naturally, in the browser (``Intl.Collator``,
    numeric, case-insensitive) and here by :meth:`sort_key` alike."""

    __slots__ = ("_ranks", "align", "codes", "cut", "empty", "label", "ordered", "source",
                 "texts", "typical", "width")

    def __init__(self, label: str, source: int, series: pd.Series) -> None:
        self.label, self.source = label, source
        dtype, types = series.dtype, pd.api.types
        by_value = (types.is_numeric_dtype(dtype) or types.is_datetime64_any_dtype(dtype)
                    or types.is_timedelta64_dtype(dtype))
        self.align = "right" if by_value and not types.is_bool_dtype(dtype) else "left"
        try:
            codes, uniques = pd.factorize(series, sort=by_value, use_na_sentinel=True)
        except TypeError:  # unhashable cells (lists, dicts) or incomparable values
            by_value = False
            full = [format_cell(v, None) for v in series.tolist()]
            codes, uniques = pd.factorize(np.asarray(full, dtype=object), use_na_sentinel=True)
        if dtype.kind == "f":  # numpy scalars: a float32 0.1 reads "0.1", not 0.100000001…
            raw = list(np.asarray(uniques))
        else:  # Python objects: Timestamps, ints, str…
            raw = np.asarray(uniques, dtype=object).tolist()
        texts = [format_cell(v) for v in raw]
        texts.append("")  # missing values (factorize's -1)
        self.codes = np.where(codes < 0, len(texts) - 1, codes)
        self.texts, self.empty, self.ordered = texts, len(texts) - 1, by_value
        self._ranks: np.ndarray | None = None
        self.cut = [i for i, t in enumerate(texts) if len(t) >= DISPLAY_CHARS and t[-1] == "…"]
        lengths = np.fromiter(map(len, texts), dtype=np.int64, count=len(texts))
        typical = int(np.quantile(lengths[self.codes], 0.9)) if len(self.codes) else 0
        longest = int(lengths.max()) if len(lengths) else 0
        if longest <= SHORT_CHARS:  # codes, ids, dates: short texts are never cut
            typical = longest
        self.typical = typical  # the column with the longest texts takes the spare width
        # the widest of (up to 200 of) the texts that long, 16 px of padding; room for the
        # header and its arrow
        chars = min(typical, 40)
        long_enough = np.flatnonzero(lengths >= chars)[:200]
        text_px = max((_text_px(texts[i][:chars]) for i in long_enough), default=chars * 8)
        self.width = int(max(text_px + 20, min(len(label), 24) * 8.5 + 34, 48))

    def payload(self) -> dict[str, Any]:
        n = len(self.texts)
        dtype = "<u1" if n <= 0xFF else "<u2" if n <= 0xFFFF else "<u4"
        return {"label": self.label, "dict": self.texts,
                "codes": memoryview(self.codes.astype(dtype).tobytes()),
                "bits": np.dtype(dtype).itemsize * 8, "ordered": self.ordered,
                "cut": self.cut, "align": self.align, "width": self.width,
                "chars": self.typical}

    def ranks(self) -> np.ndarray:
        """Per distinct text, its place in ascending order; empty texts last."""
        if self._ranks is None:
            texts = self.texts
            if self.ordered:
                order = list(range(len(texts)))
            else:
                keys = [_natural(t) for t in texts]
                order = sorted(range(len(texts)), key=keys.__getitem__)
            order = [i for i in order if texts[i]] + [i for i in order if not texts[i]]
            self._ranks = np.empty(len(texts), dtype=np.int64)
            self._ranks[np.asarray(order, dtype=np.int64)] = np.arange(len(texts))
        return self._ranks

    def sort_key(self, ascending: bool) -> np.ndarray:
        """Per row, a key whose stable ascending order is the shown order (empties last)."""
        ranks = self.ranks()
        if not ascending:
            blank = np.fromiter((not t for t in self.texts), dtype=bool, count=len(self.texts))
            last = len(self.texts) - 1 - int(blank.sum())
            ranks = np.where(blank, ranks, last - ranks)
        return ranks[self.codes]


#: Characters wider than the 8 px most take at 13 px (capitals about 9, W and m about 13).
_WIDER = {**dict.fromkeys("ABCDEFGHIJKLNOPQRSTUVXYZ", 1.2), **dict.fromkeys("Mw", 3.0),
          **dict.fromkeys("Wm", 4.8)}


def _text_px(text: str) -> float:
    """About how wide ``text`` is at 13 px, in CSS pixels (an estimate, a little generous).

    >>> _text_px("web01"), _text_px("QEBBYSWDB01")
    (43.0, 102.4)
    """
    return 8 * len(text) + sum(_WIDER.get(c, 0) for c in text)


def _labels(columns: Iterable[Any]) -> list[str]:
    """Unique string labels for DataFrame columns (``a``, ``a (2)`` for duplicates)."""
    out: list[str] = []
    for column in columns:
        base = " / ".join(map(str, column)) if isinstance(column, tuple) else str(column)
        label, k = base, 2
        while label in out:
            label, k = f"{base} ({k})", k + 1
        out.append(label)
    return out


class DataGrid(anywidget.AnyWidget):
    """A virtualised grid over a DataFrame: sort by clicking a header, choose the columns
    with the *Columns* button, scroll sideways inside the widget.

    ``df`` (settable) is the data; ``columns`` the columns offered (the others never reach
    the browser); ``visible_columns`` the ones shown. A click on a row, or Enter, *opens* it:
    it becomes :attr:`selected` and the ``on_select`` callbacks get it as a ``pd.Series``
    (its ``name`` is the index label). Arrow keys, PageUp/PageDown, Home and End move
    :attr:`selected` (observe it with ``grid.observe(f, "selected")``) without opening.
    Setting :attr:`selected` from Python highlights a row and scrolls it into view.

    >>> import pandas as pd
    >>> grid = DataGrid(pd.DataFrame({"id": [3, 1, 2], "name": ["c", "a", "b"]}))
    >>> grid.on_select(lambda row: print("open", row["name"]))  # a click on a row, or Enter
    >>> grid.sort_by, grid.ascending = "id", False              # what header clicks do
    >>> grid.view()["name"].tolist()
    ['c', 'b', 'a']
    >>> grid.selected = 2                                       # highlight df.iloc[2]
    >>> grid.selected_row["name"], grid.selected_label
    ('b', 2)
    """

    _esm = _STATIC / "grid.js"
    _css = _STATIC / "grid.css"

    #: Shown columns, in order (labels: the column names as strings).
    visible_columns = traitlets.List(traitlets.Unicode()).tag(sync=True)
    #: The highlighted row: a position in :attr:`df` (as ``df.iloc``), or ``None``.
    selected = traitlets.CInt(None, allow_none=True).tag(sync=True)
    #: The column the rows are sorted by (``None``: the DataFrame's order).
    sort_by = traitlets.Unicode(None, allow_none=True).tag(sync=True)
    #: Sort direction.
    ascending = traitlets.Bool(True).tag(sync=True)
    #: The column that takes the width the columns leave free (``None``: the text column with
    #: the longest texts); a column the user resized keeps its width.
    stretch = traitlets.Unicode(None, allow_none=True).tag(sync=True)
    #: Greatest CSS height of the whole widget (toolbar, header, rows); fewer rows, less.
    height = traitlets.Unicode("320px").tag(sync=True)
    #: The encoded display texts (see ``_Column``); only what is offered.
    _data = traitlets.Dict().tag(sync=True)

    def __init__(self, df: pd.DataFrame | None = None, *,
                 columns: Sequence[Any] | None = None,
                 visible_columns: Sequence[Any] | None = None,
                 height: str = "320px",
                 on_select: Callable[[pd.Series], Any] | None = None,
                 stretch: str | None = None,
                 **kwargs: Any) -> None:
        super().__init__(height=height, stretch=stretch, **kwargs)
        self._offered = None if columns is None else list(columns)
        self._frame = pd.DataFrame()
        self._columns: list[_Column] = []
        self._select_handlers = w.CallbackDispatcher()
        if on_select is not None:
            self.on_select(on_select)
        self.on_msg(self._on_msg)
        self.df = df if df is not None else pd.DataFrame()
        if visible_columns is not None:
            self.visible_columns = [self._label_of(c) for c in visible_columns]

    # -- data -----------------------------------------------------------------------------------
    @property
    def df(self) -> pd.DataFrame:
        """The DataFrame on show; setting it replaces the data (selection cleared, sort and
        hidden columns kept where the columns still exist)."""
        return self._frame

    @df.setter
    def df(self, df: pd.DataFrame | None) -> None:
        frame = pd.DataFrame() if df is None else df
        if not isinstance(frame, pd.DataFrame):
            raise TypeError(f"DataGrid needs a pandas DataFrame, not {type(frame).__name__}")
        names = list(frame.columns)
        if self._offered is None:
            positions = list(range(len(names)))
        else:  # the offered columns, in the order given, that this DataFrame has
            positions = [names.index(c) for c in self._offered if c in names]
        hidden = {c.label for c in self._columns} - set(self.visible_columns)
        encoded = [_Column(label, position, frame.iloc[:, position])
                   for label, position in zip(_labels(names[p] for p in positions), positions,
                                              strict=True)]
        self._frame, self._columns = frame, encoded
        labels = [c.label for c in encoded]
        with self.hold_sync():
            self.selected = None
            self._data = {"n": len(frame), "columns": [c.payload() for c in encoded]}
            self.visible_columns = [x for x in labels if x not in hidden]
            if self.sort_by not in labels:
                self.sort_by = None

    @property
    def columns(self) -> list[str]:
        """Every offered column's label (shown or not), in order."""
        return [c.label for c in self._columns]

    def _label_of(self, column: Any) -> str:
        """The label of a column given by label or by its DataFrame name."""
        names = list(self._frame.columns)
        for c in self._columns:
            if c.label == column:
                return c.label
        for c in self._columns:
            if names[c.source] == column:
                return c.label
        raise KeyError(f"no column {column!r} in this grid")

    @traitlets.validate("visible_columns")
    def _valid_columns(self, proposal: dict[str, Any]) -> list[str]:
        known = {c.label for c in self._columns}
        seen: list[str] = []
        for label in proposal["value"]:
            if label not in known:
                raise traitlets.TraitError(f"unknown column {label!r}; columns: "
                                           f"{', '.join(sorted(known)) or 'none'}")
            if label not in seen:
                seen.append(label)
        return seen

    @traitlets.validate("selected")
    def _valid_selected(self, proposal: dict[str, Any]) -> int | None:
        row = proposal["value"]
        if row is not None and not 0 <= row < len(self._frame):
            raise traitlets.TraitError(f"row {row} is outside 0..{len(self._frame) - 1}")
        return row

    @traitlets.validate("sort_by")
    def _valid_sort(self, proposal: dict[str, Any]) -> str | None:
        label = proposal["value"]
        if label is not None and label not in {c.label for c in self._columns}:
            raise traitlets.TraitError(f"unknown column {label!r}")
        return label

    # -- selection ------------------------------------------------------------------------------
    @property
    def selected_row(self) -> pd.Series | None:
        """The selected row of :attr:`df` (all its columns), or ``None``."""
        return None if self.selected is None else self._frame.iloc[self.selected]

    @property
    def selected_label(self) -> Any:
        """The index label of the selected row (``None`` when none); settable."""
        return None if self.selected is None else self._frame.index[self.selected]

    @selected_label.setter
    def selected_label(self, label: Any) -> None:
        if label is None:
            self.selected = None
            return
        position = self._frame.index.get_loc(label)
        if not isinstance(position, int | np.integer):
            raise KeyError(f"index label {label!r} is not unique")
        self.selected = int(position)

    def on_select(self, callback: Callable[[pd.Series], Any], remove: bool = False) -> None:
        """Call ``callback(row)`` when the user opens a row (a click, or Enter); ``row`` is
        ``df.iloc[position]``. ``remove=True`` unregisters it."""
        self._select_handlers.register_callback(callback, remove=remove)

    def _on_msg(self, _widget: Any, content: Any, _buffers: Any) -> None:
        if isinstance(content, Mapping):
            self._handle_event(content)

    def _handle_event(self, content: Mapping[str, Any]) -> None:
        """An event from the browser: ``{"event": "open", "row": position}`` (click, Enter)
        or ``{"event": "full", "row": position, "column": label}`` (hover on a cut text)."""
        row = content.get("row")
        if not isinstance(row, int) or isinstance(row, bool) or not 0 <= row < len(self._frame):
            return
        event = content.get("event")
        if event == "open":
            self.selected = row
            self._select_handlers(self._frame.iloc[row])
        elif event == "full":
            column = next((c for c in self._columns if c.label == content.get("column")), None)
            if column is not None:
                value = self._frame.iloc[row, column.source]
                self.send({"event": "full", "row": row, "column": column.label,
                           "text": format_cell(value, FULL_CHARS)})

    # -- order ----------------------------------------------------------------------------------
    def order(self) -> np.ndarray:
        """Row positions in the order shown (the browser sorts the same way)."""
        column = next((c for c in self._columns if c.label == self.sort_by), None)
        if column is None:
            return np.arange(len(self._frame))
        return np.argsort(column.sort_key(self.ascending), kind="stable")

    def view(self) -> pd.DataFrame:
        """The rows as shown: sorted like the grid, the visible columns only.

        >>> import pandas as pd
        >>> grid = DataGrid(pd.DataFrame({"a": [2, 1], "b": ["x", "y"]}))
        >>> grid.sort_by, grid.visible_columns = "a", ["b"]
        >>> grid.view()["b"].tolist()
        ['y', 'x']
        """
        by_label = {c.label: c.source for c in self._columns}
        return self._frame.iloc[self.order(), [by_label[x] for x in self.visible_columns]]

    def __repr__(self) -> str:
        rows, cols = self._frame.shape
        return (f"<DataGrid {rows} rows × {len(self._columns)} columns "
                f"({len(self.visible_columns)} shown)>")
