"""Paging as a strategy: how a collection's first request is made and how each answer reads.

A strategy (:class:`Paging`) says what the first request asks (:meth:`Paging.first`) and turns
an answer into a :class:`Page`: its records, and the next step (query parameters or a URL) or
the total. Strategies that can address any page (:meth:`Paging.at`) let the pages after the
first be fetched concurrently once the first tells the total.

* :class:`SpringPages` — Spring ``Page`` (``content``, ``number``, ``totalPages``, ``last``);
* :class:`NumberedPages` — page number + size with a total (``{"items", "page", "limit",
  "total"}``);
* :class:`OffsetLimit` — ``offset`` + ``limit`` with an optional total;
* :class:`NextLink` — a link to the next page in the answer (``{"entries", "next"}``, OData
  ``{"value", "@odata.nextLink"}``);
* :class:`Cursor` — an opaque cursor in the answer, sent back as a parameter;
* :class:`Single` — one answer: a bare array, or one object (one row);
* :class:`Detect` — the default when nothing is declared: the first of the above that fits.

An answer that fits the declared strategy's shape nowhere is an :class:`~explorer.errors.ApiError`
(never a silent single row); a page met twice is an error (servers that ignore the page
parameter); a collection longer than the page bounds raises, it is never cut silently.

>>> records = fetch_records(lambda q: {"items": [q["page"]], "page": q["page"], "limit": 1,
...                                    "total": 3}, NumberedPages(size=1), progress=False)
>>> records
[1, 2, 3]
"""

from __future__ import annotations

import hashlib
import json
import math
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any
from urllib.parse import urljoin

from .parallel import Limiter, parallel_map, progress_bar

__all__ = [
    "MAX_PAGES",
    "MAX_SEQUENTIAL_PAGES",
    "Cursor",
    "Detect",
    "NextLink",
    "NumberedPages",
    "OffsetLimit",
    "Page",
    "Paging",
    "PagingError",
    "Single",
    "SpringPages",
    "fetch_records",
]

#: Pages followed one by one at most (next links, cursors, pages without a total).
MAX_SEQUENTIAL_PAGES = 10_000
#: Most pages one collection may announce (a larger total is refused: pass ``limit=``).
MAX_PAGES = 100_000


class PagingError(ValueError):
    """An answer that does not page as declared, a page met twice, or too many pages.

    ``hint`` says what to do; the session turns it into an :class:`~explorer.errors.ApiError`.
    """

    def __init__(self, message: str, hint: str) -> None:
        super().__init__(message)
        self.hint = hint


@dataclass
class Page:
    """One answer of a collection: its records, and what it says about the rest.

    ``next`` is the query of the next page (a dict), its URL (a string), or ``None`` on the
    last page; ``pages`` / ``total`` are the counts of pages / records when the answer says.
    """

    records: list[Any]
    next: dict[str, Any] | str | None = None
    total: int | None = None
    pages: int | None = None
    number: int | None = None


def _int(value: Any) -> int | None:
    if isinstance(value, bool) or value is None:
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _list(payload: Any, key: str | None) -> list[Any] | None:
    if key is None:
        return payload if isinstance(payload, list) else None
    value = payload.get(key) if isinstance(payload, dict) else None
    return value if isinstance(value, list) else None


class Paging:
    """A paging strategy (see the module docstring). ``size`` is the page size asked for."""

    #: what the strategy expects, for error messages
    shape = "a page"
    size: int = 0

    def first(self, params: Mapping[str, Any], limit: int | None) -> dict[str, Any]:
        """The query of the first request (``params`` plus the strategy's own)."""
        return dict(params)

    def parse(self, payload: Any, query: Mapping[str, Any]) -> Page | None:
        """The :class:`Page` this answer is, or ``None`` when it has another shape."""
        raise NotImplementedError

    def at(self, number: int, query: Mapping[str, Any]) -> dict[str, Any] | None:
        """The query of page ``number`` (0-based), for strategies with random access."""
        return None

    def single(self, params: Mapping[str, Any]) -> bool:
        """Whether ``params`` already pick one page (the caller asked for that page only)."""
        return False

    def with_size(self, size: int | None) -> Paging:
        """The same strategy with another page size (``None``: unchanged)."""
        return self if not size or not hasattr(self, "size") else replace(self, size=int(size))


@dataclass(frozen=True)
class SpringPages(Paging):
    """Spring ``Page`` answers: ``content``, ``number``, ``size``, ``totalPages``,
    ``totalElements``, ``last``; 0-based ``page`` and ``size`` parameters.

    >>> SpringPages().parse({"content": [1], "number": 0, "totalPages": 3}, {}).next
    {'page': 1}
    """

    size: int = 100
    page_param: str = "page"
    size_param: str = "size"
    shape = "a Spring page ({content, number, totalPages, last})"

    def first(self, params: Mapping[str, Any], limit: int | None) -> dict[str, Any]:
        size = int(params.get(self.size_param) or self.size)
        return {**params, self.page_param: 0, self.size_param: min(size, limit) if limit else size}

    def single(self, params: Mapping[str, Any]) -> bool:
        return self.page_param in params

    def parse(self, payload: Any, query: Mapping[str, Any]) -> Page | None:
        content = _list(payload, "content")
        if content is None or not any(k in payload for k in ("totalPages", "last",
                                                              "totalElements", "number")):
            return None
        size = _int(payload.get("size")) or _int(query.get(self.size_param)) or len(content)
        total = _int(payload.get("totalElements"))
        pages = _int(payload.get("totalPages"))
        if pages is None and total is not None and size:
            pages = math.ceil(total / size)
        number = _int(payload.get("number"))
        number = _int(query.get(self.page_param)) or 0 if number is None else number
        last = payload.get("last")
        more = (last is False) if isinstance(last, bool) else (pages is not None
                                                                and number + 1 < pages)
        return Page(content, {self.page_param: number + 1} if more and content else None,
                    total, pages, number)

    def at(self, number: int, query: Mapping[str, Any]) -> dict[str, Any] | None:
        return {**query, self.page_param: number}


@dataclass(frozen=True)
class NumberedPages(Paging):
    """Page number and size with a total: ``{"items": […], "page": 1, "limit": 50, "total": 300}``
    (``first`` is the number of the first page).

    >>> NumberedPages(size=50).parse({"items": [], "page": 1, "limit": 50, "total": 120}, {}).pages
    3
    """

    size: int = 50
    records: str = "items"
    page_param: str = "page"
    size_param: str = "limit"
    total_key: str = "total"
    first_page: int = 1
    shape = "numbered pages ({items, page, limit, total})"

    def first(self, params: Mapping[str, Any], limit: int | None) -> dict[str, Any]:
        size = int(params.get(self.size_param) or self.size)
        return {**params, self.page_param: self.first_page,
                self.size_param: min(size, limit) if limit else size}

    def single(self, params: Mapping[str, Any]) -> bool:
        return self.page_param in params

    def parse(self, payload: Any, query: Mapping[str, Any]) -> Page | None:
        items = _list(payload, self.records)
        if items is None or self.total_key not in payload:
            return None
        size = _int(payload.get(self.size_param)) or _int(query.get(self.size_param)) \
            or len(items)
        total = _int(payload.get(self.total_key))
        pages = math.ceil(total / size) if total is not None and size else None
        number = _int(payload.get(self.page_param))
        number = _int(query.get(self.page_param)) or self.first_page if number is None \
            else number
        index = number - self.first_page
        more = pages is not None and index + 1 < pages
        return Page(items, {self.page_param: number + 1} if more and items else None, total,
                    pages, index)

    def at(self, number: int, query: Mapping[str, Any]) -> dict[str, Any] | None:
        return {**query, self.page_param: number + self.first_page}


@dataclass(frozen=True)
class OffsetLimit(Paging):
    """``offset`` and ``limit`` parameters; the total (``total_key``) when the answer has one.

    >>> OffsetLimit(size=2).parse({"items": [1, 2], "total": 5}, {"offset": 0, "limit": 2}).next
    {'offset': 2}
    """

    size: int = 100
    records: str = "items"
    offset_param: str = "offset"
    limit_param: str = "limit"
    total_key: str | None = "total"
    shape = "offset/limit pages ({items, total})"

    def first(self, params: Mapping[str, Any], limit: int | None) -> dict[str, Any]:
        size = int(params.get(self.limit_param) or self.size)
        return {**params, self.offset_param: 0,
                self.limit_param: min(size, limit) if limit else size}

    def single(self, params: Mapping[str, Any]) -> bool:
        return self.offset_param in params

    def parse(self, payload: Any, query: Mapping[str, Any]) -> Page | None:
        items = _list(payload, self.records)
        if items is None:
            return None
        offset = _int(query.get(self.offset_param)) or 0
        size = _int(query.get(self.limit_param)) or self.size
        total = _int(payload.get(self.total_key)) if self.total_key else None
        pages = math.ceil(total / size) if total is not None and size else None
        more = (offset + len(items) < total) if total is not None else len(items) >= size
        return Page(items, {self.offset_param: offset + len(items)} if more and items else None,
                    total, pages, offset // size if size else None)

    def at(self, number: int, query: Mapping[str, Any]) -> dict[str, Any] | None:
        size = _int(query.get(self.limit_param)) or self.size
        return {**query, self.offset_param: number * size}


@dataclass(frozen=True)
class NextLink(Paging):
    """A link to the next page in each answer: ``{"entries": […], "next": "https://…"}``, or
    OData's ``NextLink("value", "@odata.nextLink")``. Links are followed through the session,
    so they must stay on its hosts.

    >>> NextLink().parse({"entries": [1], "next": "https://h/x?p=2"}, {}).next
    'https://h/x?p=2'
    """

    records: str = "entries"
    next_key: str = "next"
    shape = "linked pages ({entries, next})"

    def parse(self, payload: Any, query: Mapping[str, Any]) -> Page | None:
        items = _list(payload, self.records)
        if items is None:
            return None
        link = payload.get(self.next_key)
        return Page(items, link if isinstance(link, str) and link else None,
                    _int(payload.get("total")))


@dataclass(frozen=True)
class Cursor(Paging):
    """An opaque cursor: ``{"items": […], "next_cursor": "abc"}`` → ``?cursor=abc``.

    >>> Cursor().parse({"items": [1], "next_cursor": "c2"}, {}).next
    {'cursor': 'c2'}
    """

    records: str = "items"
    cursor_key: str = "next_cursor"
    cursor_param: str = "cursor"
    shape = "cursor pages ({items, next_cursor})"

    def parse(self, payload: Any, query: Mapping[str, Any]) -> Page | None:
        items = _list(payload, self.records)
        if items is None:
            return None
        cursor = payload.get(self.cursor_key)
        return Page(items, {self.cursor_param: cursor} if cursor not in (None, "") else None)


@dataclass(frozen=True)
class Single(Paging):
    """One answer: a bare array (or the list under ``records``), or one object as one row.

    >>> Single().parse([1, 2], {}).records, Single().parse({"id": 7}, {}).records
    ([1, 2], [{'id': 7}])
    """

    records: str | None = None
    shape = "one answer (an array or an object)"

    def parse(self, payload: Any, query: Mapping[str, Any]) -> Page | None:
        if self.records is not None:
            items = _list(payload, self.records)
            return None if items is None else Page(items)
        if isinstance(payload, list):
            return Page(payload)
        if isinstance(payload, dict):
            return Page([payload])
        return None if payload is not None else Page([])


@dataclass(frozen=True)
class Detect(Paging):
    """No declaration: the first request carries no paging parameter, and the answer is read
    by the first strategy that fits (Spring, numbered pages, next links, OData, a bare array).

    >>> Detect().parse({"value": [1], "@odata.nextLink": "https://h/x?skip=1"}, {}).next
    'https://h/x?skip=1'
    """

    candidates: tuple[Paging, ...] = field(default_factory=lambda: (
        SpringPages(), NumberedPages(), NextLink(), NextLink("value", "@odata.nextLink"),
        Cursor()))
    shape = ("a known page shape (Spring, {items, total}, {entries, next}, OData {value}) "
             "or a bare array")

    def parse(self, payload: Any, query: Mapping[str, Any]) -> Page | None:
        if isinstance(payload, list):
            return Page(payload)
        if payload is None:
            return Page([])
        for strategy in self.candidates:
            page = strategy.parse(payload, query)
            if page is not None:
                return page
        return None

    def single(self, params: Mapping[str, Any]) -> bool:
        return "page" in params


def _fingerprint(records: list[Any]) -> str:
    text = json.dumps(records, sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.blake2b(text.encode(), digest_size=16).hexdigest()


def fetch_records(
    get: Callable[[dict[str, Any] | str], Any],
    paging: Paging,
    params: Mapping[str, Any] | None = None,
    *,
    limit: int | None = None,
    progress: bool = True,
    workers: int | None = None,
    limiter: Limiter | None = None,
    desc: str = "pages",
    url: str = "",
) -> list[Any]:
    """All records of a collection: the first page, then the others (concurrently when the
    strategy addresses pages and the first answer tells how many: on ``workers`` threads, or
    paced by ``limiter``, adaptive).

    ``get(query)`` returns the parsed JSON of one request (``query`` a dict of parameters, or
    the absolute URL of a next link); ``url`` is the first request's URL, against which
    relative next links resolve. A page parameter given by the caller fetches only that page.
    :class:`PagingError` for an answer that does not fit ``paging``, a page met twice, or a
    collection beyond :data:`MAX_PAGES` / :data:`MAX_SEQUENTIAL_PAGES` pages.
    """
    if limit is not None and limit < 0:
        raise ValueError("limit must be >= 0")
    if limit == 0:
        return []
    params = {k: v for k, v in (params or {}).items() if v is not None}
    single = paging.single(params)
    query = dict(params) if single else paging.first(params, limit)
    page = _parse(paging, get(query), query)
    records = list(page.records)
    if single or (limit is not None and len(records) >= limit) or page.next is None:
        return records[:limit] if limit is not None else records
    seen = {_fingerprint(page.records)}
    if page.pages is not None and paging.at(0, query) is not None:
        records += _random_access(get, paging, page, query, seen, limit, progress, workers,
                                  limiter, desc)
    else:
        records += _sequential(get, paging, page, query, seen, limit, progress, desc, url)
    if limit is not None:
        del records[limit:]
    return records


def _parse(paging: Paging, payload: Any, query: Mapping[str, Any]) -> Page:
    page = paging.parse(payload, query)
    if page is None:
        kind = type(payload).__name__ if payload is not None else "nothing"
        keys = f" with keys {', '.join(sorted(map(str, payload))[:8])}" \
            if isinstance(payload, dict) else ""
        raise PagingError(f"the answer is a JSON {kind}{keys}, not {paging.shape}",
                          "declare how this collection pages (paging=…), or read it with "
                          "session.get()")
    return page


def _check_new(page: Page, seen: set[str], number: Any, desc: str) -> None:
    if not page.records:
        return
    mark = _fingerprint(page.records)
    if mark in seen:
        raise PagingError(f"{desc}: page {number} repeats a page already received (the API "
                          "ignores the page parameter, or loops)",
                          "pass limit=… to stop earlier, or check the paging parameters")
    seen.add(mark)


def _random_access(get: Callable[[Any], Any], paging: Paging, first: Page, query: dict,
                   seen: set[str], limit: int | None, progress: bool, workers: int | None,
                   limiter: Limiter | None, desc: str) -> list[Any]:
    number = first.number or 0
    wanted = first.pages or 0
    size = len(first.records) or 1
    if limit is not None:
        wanted = min(wanted, number + math.ceil(limit / size))
    numbers = range(number + 1, wanted)
    if len(numbers) > MAX_PAGES:
        raise PagingError(f"{desc}: the API announced {first.pages:,} pages; refusing to fetch "
                          f"more than {MAX_PAGES:,}", "pass limit=… or a larger page_size=…")
    expected = first.total if first.total is not None else wanted * size
    if limit is not None:
        expected = min(expected, limit)
    lock = threading.Lock()
    with progress_bar(expected if numbers else 0, desc, progress) as bar:
        bar.update(min(len(first.records), expected))

        def one(n: int) -> list[Any]:
            q = paging.at(n, query)
            page = _parse(paging, get(q), q or {})
            with lock:
                _check_new(page, seen, n, desc)
                bar.update(len(page.records))
            return page.records

        chunks = parallel_map(one, numbers, workers=workers, limiter=limiter, progress=False)
    return [r for chunk in chunks for r in chunk]


def _sequential(get: Callable[[Any], Any], paging: Paging, page: Page, query: dict,
                seen: set[str], limit: int | None, progress: bool, desc: str,
                url: str) -> list[Any]:
    out: list[Any] = []
    have = len(page.records)
    link_base = url
    with progress_bar(None, desc, progress) as bar:
        bar.update(have)
        for count in range(1, MAX_SEQUENTIAL_PAGES + 1):
            step = page.next
            if step is None or (limit is not None and have + len(out) >= limit):
                return out
            if isinstance(step, str):
                target: Any = urljoin(link_base, step) if link_base else step
                link_base = target
                current_query: dict[str, Any] = {}
            else:
                target = current_query = {**query, **step}
            page = _parse(paging, get(target), current_query)
            _check_new(page, seen, count + 1, desc)
            out.extend(page.records)
            bar.update(len(page.records))
            if not page.records:
                return out
    raise PagingError(f"{desc}: more than {MAX_SEQUENTIAL_PAGES:,} pages; stopped rather than "
                      "return part of the collection as if it were all",
                      "pass limit=… (or a larger page size) to fetch a part on purpose")
