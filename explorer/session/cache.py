"""On-disk HTTP cache for a session's transport (requests-cache), safe with credentials.

:func:`cached_transport` swaps a :class:`~explorer.session.transport.Transport` for a
:class:`CachedTransport` with the same timeouts, TLS and retry settings. Design:

* SQLite file under the user cache directory (``platformdirs``), e.g.
  ``~/.cache/explorer/http-cache.sqlite``; ``cache=<path>`` picks another file, ``cache=False``
  turns caching off, ``cache="memory"`` keeps it in memory for the session's life.
* Cache key = method + URL (path and query: release, code, id) + the ``Accept-Language``,
  ``Accept`` and ``API-Version`` headers + a *namespace* (deployment and base URL), so that
  releases, languages and deployments (WHO, a local container, the sandbox) never mix.
* ``Authorization``, API keys and cookies are ``ignored_parameters``: they are not part of the
  key, and requests-cache redacts them from the stored request (nothing secret on disk).
* Only 200 answers to GET are stored; every answer is written as it arrives (a crawl that is
  interrupted resumes from what it already got).
* Pinned-release answers live ``expire_after`` (default 30 days); the unversioned lists of
  releases (``/icd/release/11/mms``, ``/icd/release/10``, ``/icd/entity``) one day.
* Reading many answers at once (a crawl over a warm cache): :meth:`CachedTransport.cached_bodies`
  computes the same keys requests-cache would, and reads the fresh 200 bodies of a whole batch
  in one SQLite query (no request machinery, no token, no per-answer response objects).
* Sending what is known to be missing (a crawl, after that read): inside
  :meth:`CachedTransport.known_misses` a GET skips requests-cache's lookup and policy work
  (``requests.Session.send``: same adapters, retries, TLS, redirects) and its 200 answer is
  written at once as the row requests-cache writes (same key, expiry, redaction; checked once
  per transport against requests-cache's own serializer, else its ``save_response`` is used).

>>> from explorer.session import Transport
>>> t = cached_transport(Transport(), "memory", namespace="doc")
>>> type(t).__name__, t.settings.match_headers
('CachedTransport', ['Accept-Language', 'Accept', 'API-Version'])
"""

from __future__ import annotations

import os
import pickle
import re
import sqlite3
import threading
import urllib.request
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone
from functools import partial
from hashlib import blake2b
from pathlib import Path
from typing import Any

import requests
from requests.structures import CaseInsensitiveDict
from requests_cache import CachedResponse, CacheMixin, SQLiteCache
from requests_cache.cache_keys import filter_sort_dict, filter_url, redact_response
from requests_cache.policy.expiration import (
    DO_NOT_CACHE,
    EXPIRE_IMMEDIATELY,
    get_expiration_datetime,
    get_url_expiration,
)

from .transport import CREDENTIAL_HEADERS, Transport

__all__ = ["DEFAULT_EXPIRE", "CachedTransport", "cached_transport", "default_cache_path",
           "prepared_url"]

DEFAULT_EXPIRE = timedelta(days=30)
LIST_EXPIRE = timedelta(days=1)
MATCH_HEADERS = ["Accept-Language", "Accept", "API-Version"]
#: never in a key, never stored (headers, query parameters or body fields).
IGNORED = [*CREDENTIAL_HEADERS, "access_token", "api_key", "apikey", "client_secret",
           "password", "refresh_token"]
#: unversioned lists whose content changes with WHO's yearly releases.
URLS_EXPIRE = {
    re.compile(r"/icd/release/1[01]/[a-z]+/?$"): LIST_EXPIRE,
    re.compile(r"/icd/release/10/?$"): LIST_EXPIRE,
    re.compile(r"/icd/entity/?(\?|$)"): LIST_EXPIRE,
}


def default_cache_path() -> Path:
    """``<user cache dir>/explorer/http-cache.sqlite`` (``EXPLORER_CACHE_DIR`` overrides)."""
    root = os.environ.get("EXPLORER_CACHE_DIR")
    if not root:
        from platformdirs import user_cache_dir

        root = user_cache_dir("explorer", appauthor=False)
    return Path(root) / "http-cache.sqlite"


def _key(request: Any, *, namespace: str, match_headers: Any = None,
         ignored_parameters: Any = None, **kwargs: Any) -> str:
    """namespace + hash(method, URL without ignored query parameters, body, matched headers).

    Cheaper than requests-cache's ``create_key`` (no URL re-normalisation: explorer builds
    every URL the same way), and the same guarantees: credentials never enter the key.
    """
    url = request.url or ""
    ignored = {p.lower() for p in ignored_parameters or ()}
    if "?" in url and ignored:
        base, _, query = url.partition("?")
        kept = [kv for kv in query.split("&") if kv.split("=", 1)[0].lower() not in ignored]
        url = base + ("?" + "&".join(sorted(kept)) if kept else "")
    body = request.body or b""
    if isinstance(body, str):
        body = body.encode()
    digest = blake2b(digest_size=16)
    for part in (request.method or "GET", url, str(bool(kwargs.get("verify", True)))):
        digest.update(part.encode() + b"\0")
    digest.update(body + b"\0")
    headers = request.headers or {}
    for name in match_headers or ():
        digest.update(f"{name.lower()}={headers.get(name, '')}".encode() + b"\0")
    return namespace + ":" + digest.hexdigest()


#: URLs that requests' ``prepare_url`` leaves exactly as they are (lower-case host, a path of
#: unreserved characters, no query): their key needs no URL parsing.
_PLAIN_URL = re.compile(r"https?://[a-z0-9.\-]+(?::\d+)?/[A-Za-z0-9._~\-/]*")
_BATCH = 500  # keys per SQLite query (well under SQLite's variable limit)


def prepared_url(url: str, params: Mapping[str, Any] | None = None) -> str:
    """The URL requests sends for ``url`` and ``params`` (what the cache key is made of).

    >>> prepared_url("http://127.0.0.1:8382/icd/release/11/2026-01/mms/257068234")
    'http://127.0.0.1:8382/icd/release/11/2026-01/mms/257068234'
    >>> prepared_url("http://h/icd/entity", {"releaseId": "2026-01"})
    'http://h/icd/entity?releaseId=2026-01'
    """
    if not params and _PLAIN_URL.fullmatch(url):
        return url
    prepared = requests.PreparedRequest()
    prepared.prepare_url(url, params)
    return prepared.url or url


def _fresh(expires: Any, now: datetime) -> bool:
    """Not expired, by a stored response's ``expires`` (None = never, else an ISO time)."""
    if expires is None:
        return True
    try:
        when = expires if isinstance(expires, datetime) else datetime.fromisoformat(expires)
        if when.tzinfo is None:
            when = when.replace(tzinfo=timezone.utc)
        return now < when
    except (TypeError, ValueError):
        return False


def _record(response: requests.Response, expires: datetime | None,
            ignored: Any) -> dict[str, Any]:
    """The dict requests-cache's cattrs stage makes of ``CachedResponse.from_response``
    redacted by ``redact_response`` (default fields omitted), for a plain GET answer."""
    request = response.request
    record: dict[str, Any] = {
        "_content": response.content,
        "created_at": datetime.now(timezone.utc).isoformat(),
        "elapsed": response.elapsed.total_seconds(),
        "encoding": response.encoding,
    }
    if expires is not None:
        record["expires"] = expires.isoformat()
    record["headers"] = filter_sort_dict(response.headers, ignored)
    record["reason"] = response.reason
    record["request"] = {"headers": filter_sort_dict(request.headers, ignored),
                         "method": request.method, "url": filter_url(request.url, ignored)}
    record["status_code"] = response.status_code
    record["url"] = filter_url(response.url, ignored)
    return record


def _same_record(record: dict[str, Any], stage: Any, response: requests.Response,
                 expires: datetime | None, ignored: Any) -> bool:
    """Whether ``record`` is what requests-cache itself stores for ``response`` (all but the
    creation time, which is the moment each of them was made)."""
    try:
        theirs = stage.dumps(redact_response(CachedResponse.from_response(
            response, expires=expires), ignored))
    except Exception:
        return False
    if not isinstance(theirs, dict):
        return False
    mine = dict(record)
    return mine.pop("created_at", None) is not None and \
        theirs.pop("created_at", None) is not None and mine == theirs


class _KeyRequest:
    """What the cache key function reads of a request (no ``PreparedRequest`` needed)."""

    __slots__ = ("body", "headers", "method", "url")

    def __init__(self, url: str, headers: Mapping[str, str]) -> None:
        self.method, self.url, self.body, self.headers = "GET", url, None, headers


class CachedTransport(CacheMixin, Transport):
    """A :class:`Transport` whose GETs go through requests-cache (see the module docstring)."""

    _readers: threading.local | None = None
    _reader_cons: list[sqlite3.Connection] | None = None
    _direct: threading.local | None = None

    # -- known misses: send without the cache lookup, store as requests-cache would --------------
    @contextmanager
    def known_misses(self) -> Iterator[None]:
        """GETs sent by this thread inside the block are known cache misses (the caller read
        the cache first, e.g. with :meth:`cached_bodies`): they go straight to the network
        (``requests.Session.send``: same adapters, retries, timeouts, TLS, credential-safe
        redirects) and their 200 answers are stored as requests-cache stores them (same key,
        same expiry, credentials redacted), without requests-cache's per-request policy work.
        Anything unusual (cache-control request headers, other methods or settings) takes
        requests-cache's own path."""
        if self._direct is None:
            self._direct = threading.local()
        before = getattr(self._direct, "on", False)
        self._direct.on = True
        try:
            yield
        finally:
            self._direct.on = before

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> Any:  # type: ignore[override]
        if self._direct is not None and getattr(self._direct, "on", False):
            expire_after = self._direct_expiry(request, kwargs)
            if expire_after is not None:
                return self._send_direct(request, expire_after, kwargs)
        return super().send(request, **kwargs)

    def _direct_expiry(self, request: requests.PreparedRequest,
                       kwargs: Mapping[str, Any]) -> Any:
        """The ``expire_after`` requests-cache would give ``request``'s answer, or ``None``
        when the request needs requests-cache's full policy (see :meth:`known_misses`)."""
        s = self.settings
        if (request.method not in s.allowable_methods or s.disabled or s.read_only
                or s.cache_control or s.filter_fn is not None or s.stale_if_error
                or s.stale_while_revalidate or s.only_if_cached
                or not {"expire_after", "only_if_cached", "refresh",
                        "force_refresh"}.isdisjoint(kwargs)
                or "Cache-Control" in request.headers
                or "X-ACTUAL-NO-CACHE" in request.headers):
            return None
        # CacheActions.from_request: per-URL expiry, else the session's (no max-age directive)
        expire_after = get_url_expiration(request.url, s.urls_expire_after)
        if expire_after is None:
            expire_after = s.expire_after
        if expire_after is None or expire_after in (DO_NOT_CACHE, EXPIRE_IMMEDIATELY):
            return None
        return expire_after

    def _send_direct(self, request: requests.PreparedRequest, expire_after: Any,
                     kwargs: dict[str, Any]) -> requests.Response:
        key = self.cache.create_key(request, **kwargs)  # as CacheMixin.send computes it
        response = requests.Session.send(self, request, **kwargs)
        if response.status_code in self.settings.allowable_codes:
            # CacheActions.expires: computed when the answer arrives
            expires = get_expiration_datetime(expire_after)
            row = self._lean_row(response, expires)
            if row is None:
                self.cache.save_response(response, key, expires)
            else:  # one row, written and committed now, as requests-cache writes it
                with self.cache.responses.connection(commit=True) as con:
                    con.execute(f"INSERT OR REPLACE INTO {self.cache.responses.table_name} "
                                "(key,value,expires) VALUES (?,?,?)", (key, *row))
        return response

    _lean: bool | None = None  # None: not yet checked against requests-cache's own format

    def _lean_row(self, response: requests.Response,
                  expires: datetime | None) -> tuple[bytes, int | None] | None:
        """``(value, expires)`` of the ``responses`` row requests-cache would write for a plain
        answer (SQLite, pickle serializer, no redirect, cookie or body), built without its
        object model; ``None``: let ``save_response`` write it. The first row of each transport
        is compared with requests-cache's own serialization of the same answer: if they differ
        (another requests-cache version), this transport always uses ``save_response``."""
        if self._lean is False or not isinstance(self.cache, SQLiteCache) \
                or self.cache.responses.serializer.name != "pickle":
            return None
        request = response.request
        if (response.history or response.next is not None or response.cookies
                or request.body is not None or request.method != "GET" or not response.reason
                or not response.encoding or not response.headers or not response.elapsed):
            return None
        record = _record(response, expires, self.settings.ignored_parameters)
        if self._lean is None:
            self._lean = _same_record(record, self.cache.responses.serializer.stages[0],
                                      response, expires, self.settings.ignored_parameters)
            if not self._lean:
                return None
        when = None if expires is None else round(expires.timestamp())
        return pickle.dumps(record, protocol=pickle.HIGHEST_PROTOCOL), when

    def cached_bodies(self, requests_: Sequence[tuple[str, Mapping[str, Any] | None]],
                      headers: Mapping[str, str] | None = None) -> list[bytes | None]:
        """The body of the fresh, cached 200 answer to ``GET url?params`` for each
        ``(url, params)``, or ``None`` (not cached, expired, unreadable).

        ``headers`` are the request's own headers (merged over the transport's, as requests
        does): the keys are exactly those requests-cache computes when the request is sent, so
        a hit here is the answer the network path would have served from the cache. On SQLite,
        one query reads a whole batch; other backends are asked key by key.

        >>> t = cached_transport(Transport(), "memory", namespace="doc")
        >>> t.cached_bodies([("http://127.0.0.1:9/x", None)])
        [None]
        """
        merged = CaseInsensitiveDict(self.headers)
        merged.update(headers or {})
        keys = [self.cache.create_key(_KeyRequest(prepared_url(url, params), merged),
                                      verify=self.verify) for url, params in requests_]
        if isinstance(self.cache, SQLiteCache) and \
                self.cache.responses.serializer.name == "pickle":
            try:
                return self._sqlite_bodies(keys)
            except Exception:  # a damaged file is a miss: the network path will say more
                return [None] * len(keys)
        out: list[bytes | None] = []
        for key in keys:
            try:
                cached = self.cache.get_response(key)
            except Exception:  # a damaged entry is a miss; the network answer replaces it
                cached = None
            ok = cached is not None and not cached.is_expired and cached.status_code == 200
            out.append(cached.content if ok else None)  # type: ignore[union-attr]
        return out

    def _sqlite_bodies(self, keys: list[str]) -> list[bytes | None]:
        """Fresh 200 bodies for ``keys`` straight from requests-cache's ``responses`` table."""
        con = self._reader()
        table = self.cache.responses.table_name
        now = datetime.now(timezone.utc)
        found: dict[str, bytes] = {}
        for i in range(0, len(keys), _BATCH):
            chunk = keys[i:i + _BATCH]
            marks = ",".join("?" * len(chunk))
            # the ``expires`` column (unix time) skips most stale rows in SQL; the stored
            # response's own ``expires`` decides, as requests-cache's ``is_expired`` does
            rows = con.execute(f"SELECT key, value FROM {table} WHERE key IN ({marks}) "
                               "AND (expires IS NULL OR expires > ?)",
                               (*chunk, int(now.timestamp())))
            for key, value in rows:
                stored = pickle.loads(value)  # requests-cache's own format (pickle stage)
                body = stored.get("_content")
                if stored.get("status_code") == 200 and isinstance(body, bytes) \
                        and _fresh(stored.get("expires"), now):
                    found[key] = body
        return [found.get(k) for k in keys]

    def _reader(self) -> sqlite3.Connection:
        """This thread's read connection (each thread uses its own; WAL lets them read while
        requests-cache writes). ``close()`` closes them all."""
        if self._readers is None:
            self._readers, self._reader_cons = threading.local(), []
        con = getattr(self._readers, "con", None)
        if con is None:
            con = sqlite3.connect(self.cache.responses.db_path, timeout=30,
                                  check_same_thread=False)
            self._readers.con = con
            assert self._reader_cons is not None
            self._reader_cons.append(con)
        return con

    def close(self) -> None:
        """Close the connections, the cache's and the readers'."""
        for con in self._reader_cons or ():
            con.close()
        self._readers, self._reader_cons = threading.local(), []
        super().close()


def cached_transport(
    transport: Transport,
    cache: str | os.PathLike[str] | bool | None = True,
    *,
    namespace: str = "",
    expire_after: timedelta | int | None = DEFAULT_EXPIRE,
) -> Transport:
    """``transport`` with an HTTP cache (``cache``: True = default file, a path, "memory").

    ``cache`` False/None returns ``transport`` unchanged. The new transport keeps the old one's
    timeout, TLS verification, retry adapters, headers and credential-stripping rules.
    """
    if cache is False or cache is None:
        return transport
    if isinstance(transport, CacheMixin):
        return transport
    if cache == "memory":
        backend, name = "memory", "explorer"
    else:
        path = default_cache_path() if cache is True else Path(cache).expanduser()
        if path.suffix == "" and (path.is_dir() or str(cache).endswith(os.sep)):
            path = path / "http-cache.sqlite"
        path.parent.mkdir(parents=True, exist_ok=True)
        backend, name = "sqlite", str(path)
    new = CachedTransport(
        cache_name=name,
        backend=backend,
        expire_after=-1 if expire_after is None else expire_after,
        urls_expire_after=URLS_EXPIRE,
        allowable_codes=(200,),
        allowable_methods=("GET", "HEAD"),
        ignored_parameters=IGNORED,
        match_headers=MATCH_HEADERS,
        key_fn=partial(_key, namespace=namespace),
        **({"wal": True, "fast_save": True} if backend == "sqlite" else {}),
    )
    new._readers, new._reader_cons = threading.local(), []
    # (``timeout`` as a constructor argument would reach sqlite3.connect: set it afterwards)
    new.timeout = transport.timeout
    new.verify = transport.verify
    new.adapters = transport.adapters  # same retry policy and connection pools
    new.headers = transport.headers
    new.sensitive_headers = transport.sensitive_headers
    new.proxies = transport.proxies
    new.cert = transport.cert
    if transport.trust_env and not urllib.request.getproxies():
        # requests re-reads proxies and CA bundles from the environment on every request
        # (``trust_env``), a large share of a cached crawl's CPU. Without proxies, take the
        # CA bundle once, as requests would, and skip the rest.
        bundle = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE")
        if bundle and new.verify is True:
            new.verify = bundle
        new.trust_env = False
    return new
