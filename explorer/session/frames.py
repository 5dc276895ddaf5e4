"""JSON → pandas DataFrame: flattening and declared time fields.

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

Paging over whole collections is :mod:`explorer.session.paging`.

>>> to_frame({"content": [{"id": 1, "a": {"b": 2}}]}).columns.tolist()
['id', 'a.b']
>>> spec = Spec(iso_times=("at",), columns=("id", "at"))
>>> to_frame([], spec).dtypes.astype(str).tolist()
['object', 'datetime64[us, UTC]']
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from operator import itemgetter
from typing import TYPE_CHECKING, Any

import pandas as pd

from ..errors import ApiError

if TYPE_CHECKING:
    from .paging import Paging
    from .session import Session

__all__ = [
    "RECORD_KEYS",
    "TIME_DTYPE",
    "Spec",
    "comma_list",
    "convert_times",
    "epoch_ms",
    "find_spec",
    "flatten",
    "object_of",
    "parse_times",
    "records_of",
    "timestamp",
    "to_frame",
    "to_series",
]

RECORD_KEYS = ("content", "items", "results", "data", "destinationEntities")
#: dtype of every converted time column.
TIME_DTYPE = "datetime64[us, UTC]"


# -- declarations ----------------------------------------------------------------------------------
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
