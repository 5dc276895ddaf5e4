"""Where an ICD payload comes from: memory, then the payload store, then the network.

:class:`Payloads` is one ICD deployment's source of decoded answers, shared by every facade
of a session (ICD-11, ICD-10, other releases): a bounded in-memory LRU (:class:`Memo`), then
the disk store (:mod:`explorer.session.store`, read in batches, no token needed), then an HTTP
GET through the session, whose answer is written to both as it arrives.

Store keys keep deployments, releases and languages apart: ``namespace|language|path?query``
(the namespace is the base URL: a deployment). The unversioned lists of releases expire after
a day, everything else after ``expire`` (default 30 days).

>>> m = Memo(2)
>>> m.put(("a",), {"x": 1}); m.put(("b",), {"x": 2}); m.put(("c",), {"x": 3})
>>> m.get(("a",)) is None, m.get(("c",))
(True, {'x': 3})
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from datetime import timedelta
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from ...session.store import Store

if TYPE_CHECKING:
    from ...session import Session

__all__ = ["DEFAULT_EXPIRE", "LIST_EXPIRE", "Memo", "Payloads"]

DEFAULT_EXPIRE = timedelta(days=30)
LIST_EXPIRE = timedelta(days=1)
#: unversioned lists whose content changes with WHO's yearly releases.
_LISTS = re.compile(r"^/icd/(release/1[01](/[a-z]+)?|entity)/?$")


class Memo:
    """A bounded, thread-safe LRU of decoded answers (the first tier)."""

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


Request = tuple[str, Mapping[str, Any] | None]


class Payloads:
    """Decoded answers of one ICD deployment (see the module docstring).

    ``session`` sends the requests that neither memory nor the store can answer.
    """

    def __init__(self, session: Session, store: Store | None, *, memo: int = 10_000,
                 namespace: str = "", expire: timedelta | float | None = DEFAULT_EXPIRE) -> None:
        self.session = session
        self.store = store
        self.memo = Memo(memo if store is not None else 0)
        self.namespace = namespace
        self.expire = expire.total_seconds() if isinstance(expire, timedelta) else expire

    def _key(self, path: str, params: Mapping[str, Any] | None, language: str) -> str:
        query = urlencode(sorted(params.items())) if params else ""
        return f"{self.namespace}|{language}|{path}" + (f"?{query}" if query else "")

    def _expires(self, path: str) -> float | None:
        life = LIST_EXPIRE.total_seconds() if _LISTS.match(path) else self.expire
        return None if life is None else time.time() + life

    def cached(self, requests_: Sequence[Request], language: str) -> list[Any]:
        """The answers memory or the store already holds (``None`` elsewhere), no network;
        one store read for the whole list."""
        out: list[Any] = [None] * len(requests_)
        todo: list[tuple[int, tuple, str]] = []
        for i, (path, params) in enumerate(requests_):
            memo_key = (path, tuple(sorted(params.items())) if params else (), language)
            body = self.memo.get(memo_key)
            if body is None:
                todo.append((i, memo_key, self._key(path, params, language)))
            else:
                out[i] = body
        if todo and self.store is not None:
            bodies = self.store.get_many([key for _, _, key in todo])
            for (i, memo_key, _), raw in zip(todo, bodies, strict=True):
                if raw is None:
                    continue
                try:
                    body = json.loads(raw)
                except ValueError:  # unreadable: the network answer replaces it
                    continue
                if isinstance(body, Mapping):
                    self.memo.put(memo_key, body)
                    out[i] = body
        return out

    def fetch(self, path: str, params: Mapping[str, Any] | None, language: str, *,
              cached: bool = True) -> Any:
        """The decoded answer to ``GET path?params`` in ``language``: from memory or the store
        (unless ``cached=False``: the caller just asked them), else from the network (then
        kept in both when it is a JSON object)."""
        if cached:
            body = self.cached([(path, params)], language)[0]
            if body is not None:
                return body
        resp = self.session.request("GET", path, params=params,
                                    headers={"Accept-Language": language})
        body = self.session.decode(resp, params=params)
        if isinstance(body, Mapping):
            self.memo.put((path, tuple(sorted(params.items())) if params else (), language),
                          body)
            if self.store is not None:
                self.store.put(self._key(path, params, language), resp.content,
                               expires=self._expires(path))
        return body

    def derived(self, name: str, language: str) -> Any:
        """A JSON value computed from answers and kept under ``name`` (:meth:`keep`), or
        ``None`` (no store, none kept, expired, unreadable)."""
        if self.store is None:
            return None
        raw = self.store.get(f"{self.namespace}|{language}|derived:{name}")
        try:
            return None if raw is None else json.loads(raw)
        except ValueError:
            return None

    def keep(self, name: str, language: str, value: Any) -> None:
        """Keep a JSON ``value`` computed from answers (a crawl's rows): it expires with
        them. Nothing is kept without a store."""
        if self.store is not None:
            self.store.put(f"{self.namespace}|{language}|derived:{name}",
                           json.dumps(value, separators=(",", ":")).encode(),
                           expires=self._expires("derived"))

    def close(self) -> None:
        if self.store is not None:
            self.store.close()
        self.memo.clear()
