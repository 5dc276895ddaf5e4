"""How the ICD session gets a payload: memory, then the disk cache, then the network.

:class:`FetchMixin` holds the plumbing every ICD call shares:

* ``_get(path, params)`` → a JSON object: the in-memory LRU (:class:`Memo`, decoded answers),
  else the on-disk cache read directly (no token, no request machinery), else an HTTP GET
  through the cached transport (which stores the answer as it arrives);
* ``_peek(uri)`` / ``_peek_many(uris)``: the payloads of entity URIs a cache tier already has
  (no network) — a crawl asks for a whole tree level in one SQLite query;
* ``_fetch_uri(uri)``: an entity payload from a URI found in an answer (canonical
  ``http://id.who.int/...`` or not), mapped onto this session's deployment;
* ``_route(*segments, what=...)``: a path whose segments are all percent-encoded; a segment
  that could only be a dot-segment (``..``) is a :class:`~explorer.errors.NotFound` naming it.

>>> m = Memo(2)
>>> m.put(("a",), {"x": 1}); m.put(("b",), {"x": 2}); m.put(("c",), {"x": 3})
>>> m.get(("a",)) is None, m.get(("c",))
(True, {'x': 3})
"""

from __future__ import annotations

import json
import threading
from collections import OrderedDict
from collections.abc import Mapping
from functools import lru_cache
from typing import Any

from ...errors import ApiError, NotFound
from ...session import Session
from ...session.parallel import parallel_map
from . import frames as F

__all__ = ["FetchMixin", "Memo"]


class Memo:
    """A bounded, thread-safe LRU of decoded answers (the session's first cache tier)."""

    def __init__(self, size: int) -> None:
        self.size = max(0, int(size))
        self._data: OrderedDict[tuple, Any] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: tuple) -> Any:
        if not self.size:
            return None
        with self._lock:
            value = self._data.get(key)
            if value is not None:
                self._data.move_to_end(key)
            return value

    def put(self, key: tuple, value: Any) -> None:
        if not self.size or value is None:
            return
        with self._lock:
            self._data[key] = value
            self._data.move_to_end(key)
            while len(self._data) > self.size:
                self._data.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._data.clear()


@lru_cache(maxsize=1 << 16)
def _path(*segments: str) -> str:
    return Session.path(*segments)


class FetchMixin:
    """Payloads from memory, disk or network (part of :class:`~explorer.apis.icd.IcdSession`)."""

    # provided by IcdSession and Session (request, decode, url) and ReleaseMixin (_ensure,
    # _what, release)
    provider: str
    language: str
    revision: int
    linearization: str
    workers: int
    progress: bool
    headers: dict[str, str]
    http: Any
    redact: Any
    _release: str | None
    _memo: Memo

    # -- paths --------------------------------------------------------------------------------
    def _route(self, *segments: str, what: str) -> str:
        """:meth:`Session.path` of ``segments``; ``.``/``..``/empty segments (which no encoding
        can keep on the route) are :class:`NotFound` naming ``what`` and the release."""
        try:
            return _path(*segments)
        except ValueError:
            raise NotFound(f"{what} not found in {self._what} release {self._release} "
                           f"(language {self.language}): it is not a valid code or id",
                           status=None, provider=self.provider, redact=self.redact,
                           hint="check the code, id or URI (path segments like '..' are "
                                "never sent)") from None

    def _entity_path(self, lin: str | None, release: str | None, key: str) -> tuple[str, dict]:
        what = f"id {key!r}"
        if lin == "foundation":
            return self._route("icd", "entity", *key.split("/"), what=what), {
                "releaseId": self.release if self.revision == 11 else None}
        if lin == "icd10" or self.revision == 10:
            return self._route("icd", "release", "10", release or self.release, key,
                               what=f"code {key!r}"), {}
        lin = lin or self.linearization
        return self._route("icd", "release", "11", release or self.release, lin,
                           *key.split("/"), what=what), {}

    # -- one answer ---------------------------------------------------------------------------
    def _get(self, path: str, params: Mapping[str, Any] | None = None, *, checked: bool = True,
             language: str | None = None, miss: bool = False) -> dict[str, Any]:
        """GET → JSON object: from memory, else the disk cache (no token needed), else the
        network. An answer that is not a JSON object is an :class:`ApiError`.

        ``miss=True``: the caller has just read the disk cache (:meth:`_peek_many`) and found
        nothing; the disk is not read again and the request skips requests-cache's lookup
        (:meth:`~explorer.session.cache.CachedTransport.known_misses`; the answer is still
        stored as it arrives)."""
        if checked:
            self._ensure()
        params = {k: v for k, v in (params or {}).items() if v is not None} or None
        key = self._memo_key(path, params, language)
        body = self._memo.get(key)
        if body is not None:
            return body
        known = getattr(self.http, "known_misses", None) if miss else None
        body = None if known else self._disk([(path, params)], language)[0]
        if body is None:
            extra = {"Accept-Language": language} if language else {}
            if known:
                with known():
                    resp = self.request("GET", path, params=params, headers=extra)
            else:
                resp = self.request("GET", path, params=params, headers=extra)
            body = self.decode(resp, params=params)
        if not isinstance(body, Mapping):
            raise ApiError(f"expected a JSON object, got {F.kind_of(body)}", status=200,
                           body=body if isinstance(body, (str, int, float)) else None,
                           params=params, provider=self.provider,
                           url=self.url(path), redact=self.redact,
                           hint="check the base URL points at an ICD API")
        self._memo.put(key, body)
        return body

    def _disk(self, requests_: list[tuple[str, dict | None]],
              language: str | None = None) -> list[Any]:
        """Decoded fresh 200 answers from the on-disk cache (``None`` where there is none),
        read directly: same keys as requests-cache, one SQLite query for the whole list."""
        read = getattr(self.http, "cached_bodies", None)
        if read is None:
            return [None] * len(requests_)
        headers = dict(self.headers)
        if language:
            headers["Accept-Language"] = language
        bodies = read([(self.url(path), params) for path, params in requests_],
                      headers)
        out = []
        for body in bodies:
            try:
                out.append(json.loads(body) if body is not None else None)
            except ValueError:  # not JSON (or nested too deep): let the network path say so
                out.append(None)
        return out

    def _memo_key(self, path: str, params: Mapping[str, Any] | None,
                  language: str | None) -> tuple:
        return (path, tuple(sorted(params.items())) if params else (),
                language or self.language)

    # -- entity URIs --------------------------------------------------------------------------
    def _peek(self, uri: str) -> Any:
        """The payload of an entity URI if a cache tier has it (memory, disk), else None."""
        return self._peek_many([uri])[0]

    def _peek_many(self, uris: list[str]) -> list[Any]:
        """:meth:`_peek` for many URIs: memory first, then one disk read for the rest."""
        out: list[Any] = [None] * len(uris)
        todo: list[tuple[int, tuple, str, dict | None]] = []
        for i, uri in enumerate(uris):
            lin, release, key = F.parse_uri(uri)
            if not key:
                continue
            path, params = self._entity_path(lin, release, key)
            params = {k: v for k, v in params.items() if v is not None} or None
            memo_key = self._memo_key(path, params, None)
            body = self._memo.get(memo_key)
            if body is None:
                todo.append((i, memo_key, path, params))
            else:
                out[i] = body
        if todo:
            found = self._disk([(path, params) for _, _, path, params in todo])
            for (i, memo_key, _, _), body in zip(todo, found, strict=True):
                if isinstance(body, Mapping):  # anything else: the network path decides
                    self._memo.put(memo_key, body)
                    out[i] = body
        return out

    def _fetch_uri(self, uri: str, include: str | None = None, *,
                   miss: bool = False) -> dict[str, Any]:
        """The payload of an entity URI found in a payload (canonical or not); ``miss``: the
        cache tiers were just asked (see :meth:`_get`)."""
        lin, release, key = F.parse_uri(uri)
        if not key:
            raise ApiError(f"the answer links to {uri!r}, which is not an ICD entity URI",
                           provider=self.provider, redact=self.redact,
                           hint="check the base URL points at an ICD API")
        path, params = self._entity_path(lin, release, key)
        if include:
            params = {**params, "include": include}
        return self._get(path, params, miss=miss)

    def _fetch_miss(self, uri: str) -> dict[str, Any]:
        """:meth:`_fetch_uri` of a URI that :meth:`_peek_many` just found in no cache tier."""
        return self._fetch_uri(uri, miss=True)

    def _pmap(self, fn: Any, items: list[Any], workers: int | None, progress: bool | None,
              desc: str) -> list[Any]:
        return parallel_map(fn, items, workers=workers or self.workers,
                            progress=self.progress if progress is None else progress, desc=desc)
