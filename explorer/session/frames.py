"""JSON → pandas DataFrame: flattening, declared time fields, and paging over whole collections.

Rules (the same for every API):

* a list of objects becomes rows; an object holding a list under a well-known key (``content``,
  ``items``, ``results``, ``data``, ``destinationEntities``) becomes those rows; any other object
  one row;
* nested objects flatten to dotted columns (``network.cidr``); lists stay list columns, and
  ``explode="network.dns"`` gives one row per element (elements that are objects flatten too:
  ``network.dns.alias``);
* times are converted **by declared field**, never by guessing from values: a :class:`Spec`
  lists the ISO-8601 fields (``2024-01-15T10:00:00+0100``, ``…Z``; parsed to UTC-aware
  datetimes) and the epoch-millisecond fields (UTC-aware datetimes);
* an empty collection gives an empty DataFrame with the declared columns (and datetime dtypes).

Paging (:func:`fetch_records`) follows Spring ``Page`` answers (``content``, ``number``,
``size``, ``totalPages``, ``last``; 0-based ``page``), Jindexe pages (``items``, ``page``
1-based, ``limit``, ``total``) and bare arrays. Once the first page tells the total, the other
pages are fetched concurrently (:func:`explorer.session.parallel.parallel_map`, with a
``tqdm.auto`` bar); ``limit=`` stops at that many rows.

>>> to_frame({"content": [{"id": 1, "a": {"b": 2}}]}).columns.tolist()
['id', 'a.b']
>>> spec = Spec(iso_times=("at",), columns=("id", "at"))
>>> to_frame([], spec).dtypes.astype(str).tolist()
['object', 'datetime64[us, UTC]']
"""

from __future__ import annotations

import math
import re
import threading
import warnings
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from operator import itemgetter
from typing import TYPE_CHECKING, Any

import pandas as pd

from ..errors import ApiError
from .parallel import DEFAULT_WORKERS, parallel_map, progress_bar

if TYPE_CHECKING:
    from .session import Session

__all__ = [
    "JINDEXE_PAGES",
    "NO_PAGES",
    "RECORD_KEYS",
    "SPRING_PAGES",
    "TIME_DTYPE",
    "Page",
    "Paging",
    "Spec",
    "comma_list",
    "convert_times",
    "epoch_ms",
    "fetch_records",
    "find_spec",
    "flatten",
    "frame",
    "object_of",
    "parse_times",
    "page_of",
    "records_of",
    "timestamp",
    "to_frame",
    "to_series",
]

RECORD_KEYS = ("content", "items", "results", "data", "destinationEntities")
#: dtype of every converted time column.
TIME_DTYPE = "datetime64[us, UTC]"
#: Pages fetched one by one at most (when an API gives ``last`` but no total).
MAX_SEQUENTIAL_PAGES = 10_000
#: Most pages one collection may announce (a larger total is refused: pass ``limit=``).
MAX_PAGES = 100_000


class TooManyPages(ValueError):
    """The first page announced more pages than :data:`MAX_PAGES`."""


# -- declarations ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class Paging:
    """How an API pages: query parameter names, first page number and default page size.

    ``style`` is ``"spring"`` (``page`` 0-based + ``size``), ``"jindexe"`` (``page`` 1-based +
    ``limit``) or ``"none"`` (the first request carries no paging parameters; a Spring page in
    the answer is still followed, with the size the server chose).

    >>> SPRING_PAGES.first, JINDEXE_PAGES.size_param
    (0, 'limit')
    """

    style: str = "spring"
    size: int = 100
    page_param: str = "page"
    size_param: str = "size"
    first: int = 0

    def with_size(self, size: int | None) -> Paging:
        """The same paging with another default page size."""
        return self if not size else replace(self, size=int(size))


SPRING_PAGES = Paging("spring", 100, "page", "size", 0)
JINDEXE_PAGES = Paging("jindexe", 50, "page", "limit", 1)
NO_PAGES = Paging("none", 0, "page", "size", 0)


@dataclass(frozen=True)
class Spec:
    """How one collection becomes a DataFrame: its columns and declared time fields.

    ``path`` is a pattern (``{name}`` matches one segment) under the session URL named ``base``;
    ``columns`` are the flattened columns an empty answer still has (they come first, in this
    order); ``iso_times`` / ``epoch_ms`` are flattened column names converted to UTC datetimes;
    ``paging`` overrides the session's paging for this collection.

    >>> Spec(path="/compute/instances/{id}").matches("base_url", "/compute/instances/42")
    True
    """

    path: str = ""
    base: str = "base_url"
    columns: tuple[str, ...] = ()
    iso_times: tuple[str, ...] = ()
    epoch_ms: tuple[str, ...] = ()
    paging: Paging | None = None
    _regex: re.Pattern[str] | None = field(default=None, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.path:
            parts = [("[^/]+" if re.fullmatch(r"\{\w+\}", p) else re.escape(p))
                     for p in self.path.strip("/").split("/")]
            object.__setattr__(self, "_regex", re.compile("/?" + "/".join(parts) + "/?"))

    def matches(self, base: str, path: str) -> bool:
        """Whether a request to ``path`` (no query) under ``base`` is this collection."""
        return (self._regex is not None and base == self.base
                and self._regex.fullmatch(path.split("?", 1)[0]) is not None)

    @property
    def times(self) -> dict[str, str]:
        """Declared time columns → ``"iso"`` or ``"ms"``."""
        return {**dict.fromkeys(self.iso_times, "iso"), **dict.fromkeys(self.epoch_ms, "ms")}


def find_spec(specs: Iterable[Spec], base: str, path: str) -> Spec | None:
    """The first spec of ``specs`` that matches ``path`` under ``base`` (or ``None``)."""
    for spec in specs:
        if spec.matches(base, path):
            return spec
    return None


# -- records and flattening ------------------------------------------------------------------------
def records_of(payload: Any) -> list[Any]:
    """The records a JSON payload holds (see the module docstring).

    >>> records_of({"items": [1, 2], "total": 2})
    [1, 2]
    """
    if payload is None:
        return []
    if isinstance(payload, list):
        return payload
    if isinstance(payload, dict):
        for key in RECORD_KEYS:
            if isinstance(payload.get(key), list):
                return payload[key]
        return [payload]
    return [{"value": payload}]


_NONE = type(None)
_EMPTY: dict[str, Any] = {}


def _keys(records: Sequence[dict[str, Any]]) -> tuple[list[str], bool]:
    """All keys in first-seen order, and whether every record has exactly the same keys."""
    first = records[0].keys()
    order = dict.fromkeys(first)
    same = True
    for rec in records:
        if rec.keys() != first:
            same = False
            for key in rec:
                if key not in order:
                    order[key] = None
    return list(order), same


def _flatten_into(records: Sequence[dict[str, Any]], prefix: str, sep: str,
                  out: dict[str, list[Any]]) -> None:
    if not records:
        return
    keys, same = _keys(records)
    if not keys:
        return
    if same:
        columns: Iterable[list[Any]] = (list(map(itemgetter(key), records)) for key in keys)
    else:
        columns = ([rec.get(key) for rec in records] for key in keys)
    for key, column in zip(keys, columns, strict=True):
        name = prefix + key
        kinds = set(map(type, column))
        if dict in kinds or any(issubclass(k, dict) for k in kinds):
            nested = [v if isinstance(v, dict) else _EMPTY for v in column]
            others = kinds - {dict, _NONE}
            if others and not all(issubclass(k, dict) for k in others):
                out[name] = [None if isinstance(v, dict) else v for v in column]
            before = len(out)
            _flatten_into(nested, name + sep, sep, out)
            if len(out) == before and name not in out:
                out[name] = [None] * len(column)  # only empty objects: keep the column
        else:
            out[name] = column


def flatten(records: Sequence[Any], sep: str = ".") -> dict[str, list[Any]]:
    """Column name → values, nested objects flattened to ``a.b`` names, lists kept as values.

    Column-wise and mostly in C (``itemgetter``/``zip``) when records share their keys.

    >>> flatten([{"id": 1, "n": {"a": 2, "tags": [1]}}])
    {'id': [1], 'n.a': [2], 'n.tags': [[1]]}
    """
    rows = [r if isinstance(r, dict) else {"value": r} for r in records]
    out: dict[str, list[Any]] = {}
    _flatten_into(rows, "", sep, out)
    return out


# -- times -----------------------------------------------------------------------------------------
def parse_times(values: Any, kind: str, name: str) -> pd.Series:
    """Values of one declared time column → UTC datetimes (``NaT`` for missing).

    ``kind`` is ``"iso"`` or ``"ms"``; values that are not such times become ``NaT`` with a
    warning naming the column ``name``.

    >>> parse_times([0, None], "ms", "at").tolist()
    [Timestamp('1970-01-01 00:00:00+0000', tz='UTC'), NaT]
    """
    series = values if isinstance(values, pd.Series) else pd.Series(values, dtype=object)
    if isinstance(series.dtype, pd.DatetimeTZDtype):
        return series.dt.tz_convert("UTC").astype(TIME_DTYPE)
    try:
        if kind == "ms":
            numbers = pd.to_numeric(series, errors="raise")
            parsed = pd.to_datetime(numbers, unit="ms", utc=True)
        else:
            parsed = pd.to_datetime(series, format="ISO8601", utc=True)
    except (ValueError, TypeError, OverflowError):
        if kind == "ms":
            numbers = pd.to_numeric(series, errors="coerce")
            numbers = numbers.where(numbers.abs() < 9e15)  # beyond pandas' datetime range
            parsed = pd.to_datetime(numbers, unit="ms", utc=True, errors="coerce")
        else:
            parsed = pd.to_datetime(series, format="ISO8601", utc=True, errors="coerce")
        bad = int(parsed.isna().sum() - series.isna().sum())
        what = "epoch-millisecond" if kind == "ms" else "ISO-8601"
        warnings.warn(f"{bad} value(s) of {name!r} are not {what} times; they became NaT",
                      stacklevel=4)
    return parsed.astype(TIME_DTYPE)


def convert_times(df: pd.DataFrame, spec: Spec | None) -> pd.DataFrame:
    """Convert the declared time columns of ``df`` that exist (in place; returns ``df``)."""
    if spec is None:
        return df
    for name, kind in spec.times.items():
        if name in df.columns:
            df[name] = parse_times(df[name], kind, name)
    return df


# -- DataFrames ------------------------------------------------------------------------------------
def _empty(spec: Spec | None) -> pd.DataFrame:
    columns = list(spec.columns) if spec else []
    times = spec.times if spec else {}
    return pd.DataFrame({c: pd.Series([], dtype=TIME_DTYPE if c in times else object)
                         for c in columns})


def _explode(df: pd.DataFrame, column: str, sep: str) -> pd.DataFrame:
    if column not in df.columns:
        raise KeyError(f"cannot explode {column!r}: no such column (columns: "
                       f"{', '.join(map(str, df.columns))})")
    df = df.explode(column, ignore_index=True)
    values = df[column].tolist()
    if values and any(isinstance(v, dict) for v in values):
        parts = flatten([v if isinstance(v, dict) else {} for v in values], sep)
        position = df.columns.get_loc(column)
        left, right = df.iloc[:, :position], df.iloc[:, position + 1:]
        inner = pd.DataFrame({column + sep + k: v for k, v in parts.items()}, index=df.index)
        df = pd.concat([left, inner, right], axis=1)
    return df


def to_frame(payload: Any, spec: Spec | None = None, *, explode: str | None = None,
             sep: str = ".") -> pd.DataFrame:
    """Flatten the records of ``payload`` into a DataFrame (declared times converted).

    ``payload`` is a JSON answer (see :func:`records_of`) or a list of records.

    >>> df = to_frame([{"id": 1, "at": 1730000000000, "tags": ["a", "b"]}],
    ...               Spec(epoch_ms=("at",)), explode="tags")
    >>> df[["id", "tags"]].values.tolist(), str(df["at"][0])
    ([[1, 'a'], [1, 'b']], '2024-10-27 03:33:20+00:00')
    """
    records = records_of(payload)
    if not records:
        df = _empty(spec)
        if explode is not None and explode not in df.columns:
            df[explode] = pd.Series([], dtype=object)
        return df
    columns = flatten(records, sep)
    df = pd.DataFrame(columns)
    if spec is not None and spec.columns:
        missing = [c for c in spec.columns if c not in columns]
        for name in missing:
            df[name] = None
        order = list(spec.columns) + [c for c in columns if c not in set(spec.columns)]
        df = df[order]
    if explode is not None:
        df = _explode(df, explode, sep)
    return convert_times(df, spec)


# -- paging ----------------------------------------------------------------------------------------
@dataclass
class Page:
    """One page of a collection: its records and what it says about the rest."""

    records: list[Any]
    number: int
    size: int
    #: pages in the whole collection, when the API says (or its total and size tell).
    total_pages: int | None = None
    total: int | None = None
    last: bool | None = None
    #: the first page number of this API (0 for Spring, 1 for Jindexe).
    first: int = 0
    params: dict[str, str] = field(default_factory=dict)


def page_of(payload: Any, requested: int | None = None) -> Page | None:
    """The :class:`Page` a payload is, or ``None`` when it is not a page (array, object).

    >>> p = page_of({"content": [1, 2], "number": 0, "size": 2, "totalPages": 3, "last": False})
    >>> p.records, p.total_pages
    ([1, 2], 3)
    >>> page_of({"items": [1], "page": 1, "limit": 1, "total": 2}).total_pages
    2
    >>> page_of([1, 2]) is None
    True
    """
    if not isinstance(payload, dict):
        return None
    content = payload.get("content")
    if isinstance(content, list) and any(
            k in payload for k in ("totalPages", "last", "totalElements", "number")):
        size = _int(payload.get("size")) or len(content)
        total = _int(payload.get("totalElements"))
        pages = _int(payload.get("totalPages"))
        if pages is None and total is not None and size:
            pages = math.ceil(total / size)
        number = _int(payload.get("number"))
        last = payload.get("last") if isinstance(payload.get("last"), bool) else None
        return Page(content, requested if number is None else number, size, pages, total, last,
                    0, {"page": "page", "size": "size"})
    items = payload.get("items")
    if isinstance(items, list) and "total" in payload and ("limit" in payload
                                                           or "page" in payload):
        size = _int(payload.get("limit")) or len(items)
        total = _int(payload.get("total"))
        pages = math.ceil(total / size) if total is not None and size else None
        number = _int(payload.get("page"))
        return Page(items, requested if number is None else number, size, pages, total,
                    None, 1, {"page": "page", "size": "limit"})
    return None


def _int(value: Any) -> int | None:
    if isinstance(value, bool) or value is None:
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def fetch_records(
    get: Callable[[dict[str, Any]], Any],
    params: Mapping[str, Any] | None = None,
    *,
    paging: Paging = SPRING_PAGES,
    limit: int | None = None,
    progress: bool = True,
    workers: int = DEFAULT_WORKERS,
    desc: str = "pages",
) -> tuple[list[Any], Page | None]:
    """All records of a collection: first page, then the others concurrently.

    ``get(params)`` returns the parsed JSON of one request. A ``page`` parameter given by the
    caller fetches only that page. Returns the records and the first :class:`Page` (``None``
    when the answer was not paged).
    """
    if limit is not None and limit < 0:
        raise ValueError("limit must be >= 0")
    if limit == 0:
        return [], None
    query = {k: v for k, v in (params or {}).items() if v is not None}
    single = paging.page_param in query
    if paging.style != "none" and not single:
        size = query.get(paging.size_param) or paging.size
        if limit:
            size = min(int(size), limit)
        query[paging.size_param] = size
        query[paging.page_param] = paging.first
    payload = get(dict(query))
    page = page_of(payload, paging.first)
    if page is None:
        records = records_of(payload)
        return (records[:limit] if limit is not None else records), None
    records = list(page.records)
    if single or (limit is not None and len(records) >= limit) or not page.records:
        return (records[:limit] if limit is not None else records), page
    page_param = page.params["page"] if paging.style == "none" else paging.page_param
    size_param = page.params["size"] if paging.style == "none" else paging.size_param
    query.setdefault(size_param, page.size)

    if page.total_pages is not None:
        wanted = page.total_pages
        if limit is not None and page.size:
            wanted = min(wanted, math.ceil(limit / page.size))
        numbers = range(page.number + 1, page.first + wanted)
        if len(numbers) > MAX_PAGES:
            raise TooManyPages(f"the API announced {page.total_pages} pages")
        expected = page.total if page.total is not None else wanted * page.size
        if limit is not None:
            expected = min(expected, limit)
        lock = threading.Lock()
        with progress_bar(expected if numbers else 0, desc, progress) as bar:
            bar.update(min(len(records), expected))

            def one(number: int) -> list[Any]:
                chunk = records_of(get({**query, page_param: number}))
                with lock:
                    bar.update(len(chunk))
                return chunk

            # the bar counts rows, so parallel_map's own (page) bar stays off
            for chunk in parallel_map(one, numbers, workers=workers, progress=False):
                records.extend(chunk)
    elif page.last is False:
        number = page.number
        previous = page.records
        with progress_bar(None, desc, progress) as bar:
            bar.update(len(records))
            while number - page.number < MAX_SEQUENTIAL_PAGES:
                number += 1
                payload = get({**query, page_param: number})
                nxt = page_of(payload, number)
                chunk = records_of(payload) if nxt is None else nxt.records
                if chunk == previous:
                    warnings.warn(f"{desc}: page {number} repeats the previous page (the API "
                                  "ignores the page parameter?); stopped there", stacklevel=3)
                    break
                previous = chunk
                records.extend(chunk)
                bar.update(len(chunk))
                if not chunk or (nxt is not None and nxt.last is not False) or (
                        limit is not None and len(records) >= limit):
                    break
    if limit is not None:
        del records[limit:]
    if page.total is not None and limit is None and len(records) != page.total:
        warnings.warn(f"{desc}: the API announced {page.total} records but {len(records)} "
                      "came back (the collection changed while paging?)", stacklevel=3)
    return records, page


def frame(
    session: Session,
    path: str,
    *,
    base: str = "base_url",
    spec: Spec | None = None,
    paging: Paging | None = None,
    limit: int | None = None,
    explode: str | None = None,
    progress: bool = True,
    workers: int | None = None,
    page_size: int | None = None,
    params: Mapping[str, Any] | None = None,
) -> pd.DataFrame:
    """The whole collection at ``path`` as a DataFrame (see :meth:`Session.frame`).

    The spec is ``spec=``, else the first of ``session.frame_specs`` matching ``path``; paging
    is ``paging=``, else the spec's, else ``session.paging`` (default: detect from the answer).
    """
    if spec is None:
        spec = find_spec(getattr(session, "frame_specs", ()), base, path)
    paging = paging or (spec.paging if spec else None) or getattr(session, "paging", NO_PAGES)
    paging = paging.with_size(page_size)

    def get(query: dict[str, Any]) -> Any:
        return session.get(path, base=base, params=query)

    try:
        records, _ = fetch_records(get, params, paging=paging, limit=limit, progress=progress,
                                   workers=workers or DEFAULT_WORKERS, desc=f"GET {path}")
    except TooManyPages as exc:
        raise ApiError(f"{exc}; refusing to fetch more than {MAX_PAGES:,} pages",
                       provider=session.provider, url=session.url(path, base=base),
                       params=dict(params or {}), redact=session.redact,
                       hint="pass limit=… or a larger page_size=…") from None
    return to_frame(records, spec, explode=explode)


def object_of(session: Session, answer: Any, path: str, *,
              base: str = "base_url") -> dict[str, Any]:
    """``answer`` when it is a JSON object, else an :class:`ApiError` naming what came back."""
    if isinstance(answer, dict):
        return answer
    kind = "nothing" if answer is None else f"a JSON {type(answer).__name__}"
    raise ApiError(f"expected a JSON object, got {kind}", provider=session.provider,
                   url=session.url(path, base=base), redact=session.redact,
                   hint="check that the URL points at the API (and the id is right)")


# -- single records and query values ---------------------------------------------------------------
def to_series(record: Any, spec: Spec | None = None, *, name: Any = None) -> pd.Series:
    """One JSON object as a Series: dotted names, declared times converted.

    >>> s = to_series({"id": 7, "at": "2024-01-15T10:00:00+0100", "n": {"a": 1}},
    ...               Spec(iso_times=("at",)))
    >>> s["n.a"], str(s["at"])
    (1, '2024-01-15 09:00:00+00:00')
    """
    columns = flatten([record])
    values = {k: v[0] for k, v in columns.items()}
    for column in (spec.columns if spec else ()):
        values.setdefault(column, None)
    for column, kind in (spec.times.items() if spec else ()):
        if column in values:
            values[column] = parse_times([values[column]], kind, column).iloc[0]
    try:
        hash(name)
    except TypeError:
        name = None
    return pd.Series(values, dtype=object, name=name)


def comma_list(value: Any) -> str | None:
    """A query value as the APIs expect it: lists become comma lists, booleans ``true``/``false``.

    Mappings become ``key:value`` pairs (ITCare ``tags``); ``None`` stays ``None`` (dropped).

    >>> comma_list(["DEBIAN", "RHEL"]), comma_list({"app": "web"}), comma_list(True)
    ('DEBIAN,RHEL', 'app:web', 'true')
    """
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (str, int, float)):
        return str(value)
    if isinstance(value, Mapping):
        if set(value) == {"key", "value"}:
            return f"{value['key']}:{value['value']}"
        return ",".join(f"{k}:{v}" for k, v in value.items())
    if isinstance(value, Iterable):
        parts = [comma_list(v) for v in value]
        return ",".join(p for p in parts if p is not None)
    return str(value)


def epoch_ms(value: Any) -> int | None:
    """A time as epoch milliseconds: datetimes, dates, ISO strings or numbers (already ms).

    Naive datetimes and strings without an offset are taken as UTC.

    >>> epoch_ms("2024-01-01T00:00:00Z"), epoch_ms("2024-01-01T01:00:00+01:00")
    (1704067200000, 1704067200000)
    """
    if value is None:
        return None
    if isinstance(value, bool):
        raise TypeError("a time cannot be a boolean")
    if isinstance(value, (int, float)):
        return int(value)
    stamp = pd.Timestamp(value)
    if stamp is pd.NaT:
        raise ValueError(f"not a time: {value!r}")
    stamp = stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")
    return int(stamp.value // 1_000_000)


def timestamp(value: Any) -> pd.Timestamp | None:
    """A time as a UTC :class:`pandas.Timestamp` (naive → UTC); numbers are epoch ms."""
    ms = epoch_ms(value)
    return None if ms is None else pd.Timestamp(ms, unit="ms", tz="UTC")
