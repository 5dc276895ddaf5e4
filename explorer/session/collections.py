"""Declared collections: where a list lives, its columns, its time fields, its paging and its
filters. Providers declare them; the session, ``frame()`` and the resource view read them.

>>> from explorer.session.paging import SpringPages
>>> c = Collection("/compute/instances", name="instances", paging=SpringPages(200),
...                filters=(Filter("environments", kind="choices", choices=("QA", "PRODUCTION")),))
>>> c.matches("base_url", "/compute/instances"), c.filters[0].encode(["QA", "PRODUCTION"])
(True, 'QA,PRODUCTION')
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import pandas as pd

if TYPE_CHECKING:
    from .paging import Paging

__all__ = ["FILTER_KINDS", "Collection", "Filter", "comma_list", "epoch_ms", "find_collection",
           "timestamp"]

#: What a filter's values are: free text, one or several known values, a date or time
#: (``"ms"``-encoded or ISO), a yes/no, a number.
FILTER_KINDS = ("text", "choice", "choices", "date", "bool", "number")


@dataclass(frozen=True)
class Filter:
    """One filter of a collection.

    ``name`` is the helper's keyword (and the form's key), ``param`` the API's query parameter
    (default: ``name``); ``label`` is for people, ``kind`` one of :data:`FILTER_KINDS`,
    ``choices`` the known values of ``"choice"``/``"choices"`` (of a ``"text"`` filter:
    suggestions, other values allowed); ``help`` says what a value looks like (the resource
    view shows it with ``param`` on hover); ``time_format`` ``"ms"`` sends
    dates as epoch milliseconds, ``"iso"`` as ISO strings; ``encode`` overrides the encoding.

    >>> Filter("starttime", kind="date", time_format="ms").encode("2024-01-01")
    '1704067200000'
    """

    name: str
    param: str | None = None
    label: str = ""
    kind: str = "text"
    choices: tuple[str, ...] = ()
    help: str = ""
    time_format: str = "iso"
    encode_value: Callable[[Any], str | None] | None = field(default=None, compare=False)

    def __post_init__(self) -> None:
        if self.kind not in FILTER_KINDS:
            raise ValueError(f"unknown filter kind {self.kind!r}; use one of {FILTER_KINDS}")

    @property
    def query_name(self) -> str:
        """The API's query parameter."""
        return self.param or self.name

    @property
    def title(self) -> str:
        """The label, or the name made readable (``backup_status`` → ``Backup status``)."""
        return self.label or self.name.replace("_", " ").capitalize()

    def encode(self, value: Any) -> str | None:
        """The query value for ``value`` (``None``/empty: no filter)."""
        if value is None or value == "" or value == () or value == []:
            return None
        if self.encode_value is not None:
            return self.encode_value(value)
        if self.kind == "date":
            if self.time_format == "ms":
                ms = epoch_ms(value)
                return None if ms is None else str(ms)
            stamp = timestamp(value)
            return None if stamp is None else stamp.isoformat()
        return comma_list(value)


@dataclass(frozen=True)
class Collection:
    """How one collection becomes a DataFrame: its columns, declared time fields and paging.

    ``path`` is a pattern (``{name}`` matches one segment) under the session URL named ``base``;
    ``name`` is the session helper that loads it (and its name in the resource view; a
    collection without a name, or with ``{…}`` in its path, is not listed there); ``columns``
    are the flattened columns an empty answer still has (they come first, in this order);
    ``iso_times`` / ``epoch_ms`` are flattened column names converted to UTC datetimes;
    ``paging`` overrides the provider's paging for this collection; ``filters`` are its query
    filters.

    >>> Collection("/compute/instances/{id}").matches("base_url", "/compute/instances/42")
    True
    """

    path: str = ""
    name: str = ""
    title: str = ""
    base: str = "base_url"
    columns: tuple[str, ...] = ()
    iso_times: tuple[str, ...] = ()
    epoch_ms: tuple[str, ...] = ()
    paging: Paging | None = None
    filters: tuple[Filter, ...] = ()
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
    def browsable(self) -> bool:
        """Whether the resource view lists it (a name, and no ``{…}`` in its path)."""
        return bool(self.name) and "{" not in self.path

    @property
    def times(self) -> dict[str, str]:
        """Declared time columns → ``"iso"`` or ``"ms"``."""
        return {**dict.fromkeys(self.iso_times, "iso"), **dict.fromkeys(self.epoch_ms, "ms")}

    def query(self, values: Mapping[str, Any]) -> dict[str, str]:
        """Query parameters for filter values given by filter name (unknown names pass as
        they are; ``None`` and empty values are dropped).

        >>> Collection(filters=(Filter("backup_status", param="backupStatus"),)).query(
        ...     {"backup_status": ["OK", "KO"], "sort": "name"})
        {'backupStatus': 'OK,KO', 'sort': 'name'}
        """
        by_name = {f.name: f for f in self.filters}
        out: dict[str, str] = {}
        for name, value in values.items():
            flt = by_name.get(name)
            encoded = flt.encode(value) if flt else comma_list(value)
            if encoded is not None:
                out[flt.query_name if flt else name] = encoded
        return out


def find_collection(collections: Iterable[Collection], base: str,
                    path: str) -> Collection | None:
    """The first of ``collections`` that matches ``path`` under ``base`` (or ``None``)."""
    for collection in collections:
        if collection.matches(base, path):
            return collection
    return None


def comma_list(value: Any) -> str | None:
    """A query value as the APIs expect it: lists become comma lists, booleans ``true``/``false``.

    ``None`` stays ``None`` (dropped).

    >>> comma_list(["DEBIAN", "RHEL"]), comma_list(True), comma_list(3)
    ('DEBIAN,RHEL', 'true', '3')
    """
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (str, int, float)):
        return str(value)
    if isinstance(value, Iterable) and not isinstance(value, Mapping):
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
