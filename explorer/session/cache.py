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

>>> from explorer.session import Transport
>>> t = cached_transport(Transport(), "memory", namespace="doc")
>>> type(t).__name__, t.settings.match_headers
('CachedTransport', ['Accept-Language', 'Accept', 'API-Version'])
"""

from __future__ import annotations

import os
import re
import urllib.request
from datetime import timedelta
from functools import partial
from hashlib import blake2b
from pathlib import Path
from typing import Any

from requests_cache import CacheMixin

from .transport import CREDENTIAL_HEADERS, Transport

__all__ = ["DEFAULT_EXPIRE", "CachedTransport", "cached_transport", "default_cache_path"]

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


class CachedTransport(CacheMixin, Transport):
    """A :class:`Transport` whose GETs go through requests-cache (see the module docstring)."""


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
