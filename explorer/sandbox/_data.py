"""Helpers shared by the seeded data generators: date formats, paging, parsing.

Example:
    >>> from explorer.sandbox._data import iso_offset, spring_page
    >>> iso_offset(1705309200)
    '2024-01-15T10:00:00+0100'
    >>> spring_page([1, 2, 3], page=1, size=2)["content"]
    [3]

Emulator choices:
    * all generated data is anchored on a fixed instant (``ANCHOR``, 2025-06-30T00:00Z) so
      a seed gives the same data on every day; nothing depends on the wall clock except
      tokens and ITCare actions created at run time.
    * offsets in ISO dates are those of Europe/Paris (ITCare) and Europe/Paris too for
      Jindexe (a French platform).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any
from zoneinfo import ZoneInfo

__all__ = [
    "ANCHOR",
    "PARIS",
    "UTC",
    "BadParam",
    "csv_param",
    "int_param",
    "iso_offset",
    "iso_z",
    "spring_page",
    "spring_paging",
]

ANCHOR = 1751241600  # 2025-06-30T00:00:00Z
PARIS = ZoneInfo("Europe/Paris")
UTC = dt.timezone.utc


def iso_offset(ts: float) -> str:
    """``2024-01-15T10:00:00+0100`` (Europe/Paris offset, no colon)."""
    return dt.datetime.fromtimestamp(int(ts), PARIS).strftime("%Y-%m-%dT%H:%M:%S%z")


def iso_z(ts: float, millis: bool = False) -> str:
    """``2024-01-01T10:00:00Z`` or, with ``millis``, ``2025-07-06T11:01:21.263Z``."""
    d = dt.datetime.fromtimestamp(ts, UTC)
    if millis:
        return d.strftime("%Y-%m-%dT%H:%M:%S.") + f"{d.microsecond // 1000:03d}Z"
    return d.strftime("%Y-%m-%dT%H:%M:%SZ")


def spring_page(
    items: Sequence[Any],
    page: int,
    size: int,
    *,
    total: int | None = None,
    sort: str | None = None,
) -> dict[str, Any]:
    """A Spring Data ``Page`` of ``items[page*size:(page+1)*size]``.

    If ``total`` is given, ``items`` is already the requested slice.
    """
    if total is None:
        total = len(items)
        content = list(items[page * size:(page + 1) * size])
    else:
        content = list(items)
    pages = (total + size - 1) // size if size else 0
    sort_obj = {"empty": sort is None, "sorted": sort is not None, "unsorted": sort is None}
    return {
        "content": content,
        "pageable": {
            "sort": dict(sort_obj),
            "offset": page * size,
            "pageNumber": page,
            "pageSize": size,
            "paged": True,
            "unpaged": False,
        },
        "last": page + 1 >= pages,
        "totalElements": total,
        "totalPages": pages,
        "size": size,
        "number": page,
        "sort": sort_obj,
        "first": page == 0,
        "numberOfElements": len(content),
        "empty": not content,
    }


class BadParam(ValueError):
    """A query parameter that does not parse; ``field`` names it."""

    def __init__(self, field: str) -> None:
        super().__init__(field)
        self.field = field


def int_param(args: Any, name: str, default: int | None = None) -> int | None:
    """``int(args[name])`` or ``default``; raises :class:`BadParam` if not an integer."""
    raw = args.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise BadParam(name) from None


def spring_paging(args: Any, default_size: int = 20, max_size: int = 2000) -> tuple[int, int]:
    """Spring's ``page``/``size`` handling: negative page -> 0, size < 1 -> default,
    size > max -> max; non-integers raise :class:`BadParam`."""
    page = int_param(args, "page", 0) or 0
    size = int_param(args, "size", default_size) or default_size
    return max(page, 0), min(size if size > 0 else default_size, max_size)


def csv_param(args: Any, name: str) -> list[str]:
    """A comma list parameter (repeated parameters are merged)."""
    out: list[str] = []
    for raw in args.getlist(name):
        out.extend(v.strip() for v in raw.split(",") if v.strip())
    return out
