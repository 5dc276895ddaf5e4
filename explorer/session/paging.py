"""Paging over whole collections: Spring ``Page``, Jindexe pages and bare arrays.

:func:`fetch_records` follows Spring ``Page`` answers (``content``, ``number``, ``size``,
``totalPages``, ``last``; 0-based ``page``), Jindexe pages (``items``, ``page`` 1-based,
``limit``, ``total``) and bare arrays. Once the first page tells the total, the other pages are
fetched concurrently (:func:`explorer.session.parallel.parallel_map`, with a ``tqdm.auto`` bar
counting rows); ``limit=`` stops at that many rows. :func:`frame` is ``Session.frame``.

>>> records, page = fetch_records(lambda q: {"items": [q["page"]], "page": q["page"],
...                                          "limit": 1, "total": 3},
...                               paging=JINDEXE_PAGES, progress=False)
>>> records
[1, 2, 3]
"""

from __future__ import annotations

import math
import threading
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

import pandas as pd

from ..errors import ApiError
from .frames import Spec, find_spec, records_of, to_frame
from .parallel import DEFAULT_WORKERS, parallel_map, progress_bar

if TYPE_CHECKING:
    from .session import Session

__all__ = [
    "JINDEXE_PAGES",
    "MAX_PAGES",
    "NO_PAGES",
    "SPRING_PAGES",
    "Page",
    "Paging",
    "fetch_records",
    "frame",
    "page_of",
]

#: Pages fetched one by one at most (when an API gives ``last`` but no total).
MAX_SEQUENTIAL_PAGES = 10_000
#: Most pages one collection may announce (a larger total is refused: pass ``limit=``).
MAX_PAGES = 100_000


class TooManyPages(ValueError):
    """The first page announced more pages than :data:`MAX_PAGES`."""



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
