"""JSON → pandas DataFrame: flattening and declared time fields.

Rules (the same for every API):

* a list of objects becomes rows; an object holding a list under a well-known key (``content``,
  ``items``, ``results``, ``data``, ``value``, ``entries``) becomes those rows; any other object
  one row;
* nested objects flatten to dotted columns (``network.cidr``); lists stay list columns, and
  ``explode="network.dns"`` gives one row per element (elements that are objects flatten too:
  ``network.dns.alias``);
* times are converted **by declared field**, never by guessing from values: a
  :class:`~explorer.session.collections.Collection`
  lists the ISO-8601 fields (``2024-01-15T10:00:00+0100``, ``…Z``; parsed to UTC-aware
  datetimes) and the epoch-millisecond fields (UTC-aware datetimes);
* an empty collection gives an empty DataFrame with the declared columns (and datetime dtypes).

Paging over whole collections is :mod:`explorer.session.paging`.

>>> to_frame({"content": [{"id": 1, "a": {"b": 2}}]}).columns.tolist()
['id', 'a.b']
>>> collection = Collection(iso_times=("at",), columns=("id", "at"))
>>> to_frame([], collection).dtypes.astype(str).tolist()
['object', 'datetime64[us, UTC]']
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable, Sequence
from operator import itemgetter
from typing import Any

import pandas as pd

from .collections import Collection

__all__ = [
    "RECORD_KEYS",
    "TIME_DTYPE",
    "convert_times",
    "flatten",
    "parse_times",
    "records_of",
    "to_frame",
    "to_series",
]

RECORD_KEYS = ("content", "items", "results", "data", "value", "entries")
#: dtype of every converted time column.
TIME_DTYPE = "datetime64[us, UTC]"


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


def convert_times(df: pd.DataFrame, collection: Collection | None) -> pd.DataFrame:
    """Convert the declared time columns of ``df`` that exist (in place; returns ``df``)."""
    if collection is None:
        return df
    for name, kind in collection.times.items():
        if name in df.columns:
            df[name] = parse_times(df[name], kind, name)
    return df


# -- DataFrames ------------------------------------------------------------------------------------
def _empty(collection: Collection | None) -> pd.DataFrame:
    columns = list(collection.columns) if collection else []
    times = collection.times if collection else {}
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


def to_frame(payload: Any, collection: Collection | None = None, *, explode: str | None = None,
             sep: str = ".") -> pd.DataFrame:
    """Flatten the records of ``payload`` into a DataFrame (declared times converted).

    ``payload`` is a JSON answer (see :func:`records_of`) or a list of records.

    >>> df = to_frame([{"id": 1, "at": 1730000000000, "tags": ["a", "b"]}],
    ...               Collection(epoch_ms=("at",)), explode="tags")
    >>> df[["id", "tags"]].values.tolist(), str(df["at"][0])
    ([[1, 'a'], [1, 'b']], '2024-10-27 03:33:20+00:00')
    """
    records = records_of(payload)
    if not records:
        df = _empty(collection)
        if explode is not None and explode not in df.columns:
            df[explode] = pd.Series([], dtype=object)
        return df
    columns = flatten(records, sep)
    df = pd.DataFrame(columns)
    if collection is not None and collection.columns:
        missing = [c for c in collection.columns if c not in columns]
        for name in missing:
            df[name] = None
        order = list(collection.columns) + [c for c in columns if c not in set(collection.columns)]
        df = df[order]
    if explode is not None:
        df = _explode(df, explode, sep)
    return convert_times(df, collection)


# -- single records ------------------------------------------------------------------------------
def to_series(record: Any, collection: Collection | None = None, *, name: Any = None) -> pd.Series:
    """One JSON object as a Series: dotted names, declared times converted.

    >>> s = to_series({"id": 7, "at": "2024-01-15T10:00:00+0100", "n": {"a": 1}},
    ...               Collection(iso_times=("at",)))
    >>> s["n.a"], str(s["at"])
    (1, '2024-01-15 09:00:00+00:00')
    """
    columns = flatten([record])
    values = {k: v[0] for k, v in columns.items()}
    for column in (collection.columns if collection else ()):
        values.setdefault(column, None)
    for column, kind in (collection.times.items() if collection else ()):
        if column in values:
            values[column] = parse_times([values[column]], kind, column).iloc[0]
    try:
        hash(name)
    except TypeError:
        name = None
    return pd.Series(values, dtype=object, name=name)
