"""HTTP transport: a ``requests.Session`` with the rules every explorer request follows.

* default connect/read timeouts (:data:`DEFAULT_TIMEOUT`), and per request the bounds of
  :mod:`._limits`: ``max_wait`` (a ``Retry-After`` longer than that is an error, never a
  sleep), ``deadline`` (a wall-clock limit, retries included, enforced on a streamed body) and
  ``max_bytes`` (decoded bytes, gzip bombs included);
* retries with exponential backoff on 429/502/503/504 for idempotent methods, honouring
  ``Retry-After`` within ``max_wait`` (urllib3's ``Retry``);
* on a redirect to another origin or from https to http, every header but content
  negotiation and framing (:data:`CROSS_ORIGIN_HEADERS`) dropped — ``Authorization``,
  ``X-API-KEY``, ``API_KEY``, ``Cookie``, a provider's own key header, a caller's headers
  (requests only drops ``Authorization``);
  cookies never kept nor sent (no cookie jar);
* proxies: never for loopback hosts; never a credential in clear (``http://``) through one;
  without proxy variables in the environment, the environment is read once, not per request;
* ``~/.netrc`` never consulted (it would add credentials we did not ask for);
* HTTPS required for any host outside loopback (:func:`~._urls.check_url`).

>>> t = Transport(deadline=30); t.limits.deadline
30.0
"""

from __future__ import annotations

import os
import urllib.request
import zlib
from collections.abc import Iterable, Mapping
from http.cookiejar import DefaultCookiePolicy
from typing import Any

import requests
from requests.adapters import HTTPAdapter
from requests.utils import select_proxy

from ..errors import ExplorerError
from ._limits import (
    BoundedRetry,
    DeadlineExceeded,
    LimitExceeded,
    Limits,
    UnsupportedEncoding,
    WatchedHTTPPool,
    WatchedHTTPSPool,
    budget,
    read_body,
)
from ._urls import is_loopback, origin, parse

__all__ = [
    "CREDENTIAL_HEADERS",
    "CROSS_ORIGIN_HEADERS",
    "DEFAULT_TIMEOUT",
    "RETRY_STATUSES",
    "ClearTextProxy",
    "Transport",
    "UnreadableAnswer",
]

#: (connect, read) seconds.
DEFAULT_TIMEOUT: tuple[float, float] = (5.0, 30.0)
RETRY_STATUSES = (429, 502, 503, 504)
CREDENTIAL_HEADERS = ("Authorization", "X-API-KEY", "API_KEY", "Cookie", "Proxy-Authorization")
#: The only request headers a redirect to another origin keeps (lower case): content
#: negotiation and framing, nothing that could hold a credential whatever its name.
CROSS_ORIGIN_HEADERS = frozenset({
    "accept", "accept-charset", "accept-encoding", "accept-language", "cache-control",
    "connection", "content-length", "content-type", "pragma", "user-agent"})
#: a cookie policy that accepts no cookie at all
_NO_COOKIES = DefaultCookiePolicy(allowed_domains=[])


class ClearTextProxy(LimitExceeded):
    """A proxy would carry this request's credentials in clear (an ``http://`` URL)."""

    def __init__(self) -> None:
        super().__init__("a proxy would carry this request's credentials in clear (http://)",
                         "use https:// for this host, or exclude it from the proxy "
                         "(NO_PROXY)")


class UnreadableAnswer(requests.exceptions.RequestException):
    """The HTTP stack failed on something it could not handle — a redirect to a URL that is
    not UTF-8, has a port out of range or a broken IPv6 literal… — with an exception of its
    own (``ValueError``, ``UnicodeDecodeError``). Raised in its place, without it as context:
    the library's frames hold the request's headers and body in their locals."""

    def __init__(self, cause: str) -> None:
        super().__init__(f"the server's answer could not be handled by the HTTP client "
                         f"({cause}: a malformed header or redirect)")


def _retry(total: int, methods: Iterable[str], backoff: float,
           max_wait: float) -> BoundedRetry:
    return BoundedRetry(
        total=total,
        connect=min(total, 2),  # a refused connection rarely heals within seconds
        read=False,  # a read error may come after the server acted: raised, not retried
        status=total,
        other=0,
        allowed_methods=frozenset(methods),
        status_forcelist=RETRY_STATUSES,
        backoff_factor=backoff,
        backoff_max=10.0,
        respect_retry_after_header=True,
        raise_on_status=False,
        max_wait=max_wait,
    )


def _clamp(timeout: Any, remaining: float) -> Any:
    """``timeout`` (a number or a (connect, read) pair) no longer than ``remaining``."""
    remaining = max(remaining, 0.001)
    if isinstance(timeout, tuple):
        return tuple(remaining if t is None else min(float(t), remaining) for t in timeout)
    return remaining if timeout is None else min(float(timeout), remaining)


def _same_origin(a: str | None, b: str | None) -> bool:
    """Whether two URLs share scheme, host and port, read by urllib3's parser (the one that
    connects); ``False`` when either does not parse."""
    try:
        return origin(a or "") == origin(b or "")
    except ValueError:
        return False


def _host(url: str | None) -> str | None:
    try:
        return parse(url or "").host
    except ValueError:
        return None


class _Adapter(HTTPAdapter):
    """An ``HTTPAdapter`` whose connections the deadline can cut and whose bodies are read
    here, bounded (a redirect's body too: requests reads those whole otherwise)."""

    def __init__(self, *args: Any, limits: Limits, sensitive: tuple[str, ...],
                 **kwargs: Any) -> None:
        self.limits = limits
        self.sensitive = sensitive
        super().__init__(*args, **kwargs)

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {"http": WatchedHTTPPool,
                                                   "https": WatchedHTTPSPool}

    def proxy_manager_for(self, proxy: str, **kwargs: Any) -> Any:
        manager = super().proxy_manager_for(proxy, **kwargs)
        manager.pool_classes_by_scheme = {"http": WatchedHTTPPool, "https": WatchedHTTPSPool}
        return manager

    def send(self, request: requests.PreparedRequest, stream: bool = False, timeout: Any = None,
             verify: Any = True, cert: Any = None,
             proxies: Mapping[str, str] | None = None) -> requests.Response:
        with budget(self.limits) as item:
            if item.remaining() <= 0:
                raise DeadlineExceeded(item.limits.deadline)
            url = request.url or ""
            if select_proxy(url, proxies or {}) and url.lower().startswith("http://") and \
                    any(name in request.headers for name in self.sensitive):
                raise ClearTextProxy()
            failed = False
            try:
                response = super().send(request, stream=True,
                                        timeout=_clamp(timeout, item.remaining()),
                                        verify=verify, cert=cert, proxies=proxies)
            except requests.RequestException:
                if not item.expired:
                    raise
                failed = True
            if failed:  # raised outside the handler: no chained context
                raise DeadlineExceeded(item.limits.deadline)
            self._read(response, item)
            return response

    @staticmethod
    def _read(response: requests.Response, item: Any) -> None:
        if response.request.method == "HEAD" or response.status_code in (204, 304):
            response._content, response._content_consumed = b"", True
            response.close()
            return
        encoding = response.headers.get("Content-Encoding", "").strip().lower()
        failure: BaseException | None = None
        try:
            response._content = read_body(response.raw, item, encoding)
            response._content_consumed = True
        except LimitExceeded as exc:
            failure = exc
        except UnsupportedEncoding:
            failure = requests.exceptions.ContentDecodingError(
                f"the answer is encoded as {encoding[:40]!r}, which explorer did not ask for "
                "(it asks for gzip or deflate)")
        except (zlib.error, ValueError):  # a corrupt gzip or deflate stream
            failure = requests.exceptions.ContentDecodingError(
                f"the {encoding[:40]!r} answer is corrupt: it does not decode")
        except Exception as exc:  # noqa: BLE001 - a dropped or cut connection
            failure = DeadlineExceeded(item.limits.deadline) if item.expired else \
                requests.exceptions.ChunkedEncodingError(
                    f"the connection dropped while reading the answer ({type(exc).__name__})")
        if failure is not None:
            response.close()  # the connection is not reused: the rest of the body is unread
            raise failure.with_traceback(None)


class Transport(requests.Session):
    """A ``requests.Session`` with timeouts, bounded retries, waits and bodies, and
    credential-safe redirects and proxies (see the module docstring).

    ``retries`` is the retry budget per request (5: with backoff 0.2 s a failing service is
    reported after about 6 s; a 6 % fault rate still fails fewer than 1 call in 10 million);
    ``retry_post=True`` also retries POST on the statuses above (used for token endpoints,
    where a repeated grant is harmless); ``max_wait``, ``deadline`` and ``max_bytes`` are the
    bounds of :mod:`._limits`.
    """

    def __init__(
        self,
        *,
        retries: int = 5,
        backoff: float = 0.2,
        retry_post: bool = False,
        timeout: tuple[float, float] | float = DEFAULT_TIMEOUT,
        verify: bool | str = True,
        pool_size: int = 16,
        sensitive_headers: Iterable[str] = (),
        max_wait: float = 60.0,
        deadline: float = 120.0,
        max_bytes: int = 200_000_000,
    ) -> None:
        super().__init__()
        self.limits = Limits(float(max_wait), float(deadline), int(max_bytes))
        self.sensitive_headers = tuple(CREDENTIAL_HEADERS) + tuple(sensitive_headers)
        methods = set(BoundedRetry.DEFAULT_ALLOWED_METHODS) | ({"POST"} if retry_post else set())
        adapter = _Adapter(max_retries=_retry(retries, methods, backoff, self.limits.max_wait),
                           pool_connections=4, pool_maxsize=pool_size, limits=self.limits,
                           sensitive=self.sensitive_headers)
        self.mount("https://", adapter)
        self.mount("http://", adapter)
        self.timeout = timeout
        self.verify = verify
        self.headers["User-Agent"] = "explorer/0.1 " + self.headers.get("User-Agent", "")
        self.headers["Accept-Encoding"] = "gzip, deflate"  # what _limits decodes, bounded
        self.cookies.set_policy(_NO_COOKIES)
        # Never fall back to ~/.netrc credentials (requests does when no auth is set).
        self.auth = _no_auth
        if not urllib.request.getproxies():
            # requests re-reads proxies and CA bundles from the environment on every request
            # (``trust_env``): a third of a crawl's client CPU. Without proxies, take the CA
            # bundle once, as requests would, and skip the rest.
            bundle = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE")
            if bundle and self.verify is True:
                self.verify = bundle
            self.trust_env = False

    def request(self, method, url, *args, **kwargs):  # type: ignore[override]
        if kwargs.get("timeout") is None:
            kwargs["timeout"] = self.timeout
        if kwargs.get("verify") is None and self.verify is not True:
            # requests lets REQUESTS_CA_BUNDLE override the session's verify= (psf/requests#3829)
            kwargs["verify"] = self.verify
        with budget(self.limits):
            return super().request(method, url, *args, **kwargs)

    def bounded(self) -> Any:
        """A context in which every request of this thread is one request for the
        ``deadline``: what a token fetch (OIDC discovery, its redirects, a refresh and the
        grant) runs in."""
        return budget(self.limits)

    def send_request(self, request: requests.PreparedRequest, *, timeout: Any = None,
                     allow_redirects: bool = True) -> requests.Response:
        """Send a prepared request as :meth:`request` would (environment settings, timeouts,
        redirects, the same bounds): what a session's auth flow uses to send each step."""
        settings = self.merge_environment_settings(request.url, {}, None, None, None)
        if self.verify is not True:
            settings["verify"] = self.verify  # see request(): the session's verify= wins
        with budget(self.limits):
            return self.send(request, timeout=self.timeout if timeout is None else timeout,
                             allow_redirects=allow_redirects, **settings)

    def send(self, request, **kwargs):  # type: ignore[override]
        """requests' ``send`` (each hop of a redirect too), where any exception that is not
        requests' own nor explorer's becomes :class:`UnreadableAnswer`."""
        failed: str | None = None
        try:
            return super().send(request, **kwargs)
        except (requests.RequestException, LimitExceeded, ExplorerError):
            raise
        except Exception as exc:  # noqa: BLE001 - raised below, without its frames
            failed = type(exc).__name__
        raise UnreadableAnswer(failed)

    def merge_environment_settings(self, url, proxies, stream, verify, cert):  # type: ignore[override]
        settings = super().merge_environment_settings(url, proxies, stream, verify, cert)
        if is_loopback(_host(url)):
            settings["proxies"] = {}  # loopback is never proxied
        return settings

    def rebuild_proxies(self, prepared_request, proxies):  # type: ignore[override]
        if is_loopback(_host(prepared_request.url)):
            prepared_request.headers.pop("Proxy-Authorization", None)
            return {}
        return super().rebuild_proxies(prepared_request, proxies)

    def rebuild_auth(self, prepared_request, response):  # type: ignore[override]
        """On a redirect to another origin (or https → http), keep only the headers that
        cannot carry a credential (:data:`CROSS_ORIGIN_HEADERS`): not only the known credential
        headers but a provider's own key header (``X-Acme-Key``) or a caller's
        (``X-Auth-Token``) stay behind. Never carry a cookie."""
        prepared_request.headers.pop("Cookie", None)
        if self.should_strip_auth(response.request.url, prepared_request.url) or \
                not _same_origin(response.request.url, prepared_request.url):
            for name in list(prepared_request.headers):
                if name.lower() not in CROSS_ORIGIN_HEADERS:
                    del prepared_request.headers[name]


def _no_auth(request):
    return request

