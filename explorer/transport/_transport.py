"""HTTP transport: a ``requests.Session`` with the rules every explorer call follows.

* default connect/read timeouts (:data:`DEFAULT_TIMEOUT`);
* retries with exponential backoff on 429/502/503/504 for idempotent methods, honouring
  ``Retry-After`` (urllib3's ``Retry``);
* credential headers (``Authorization``, ``X-API-KEY``, ``API_KEY``…) dropped on a redirect to
  another host or from https to http (requests only drops ``Authorization``);
* ``~/.netrc`` never consulted (it would add credentials we did not ask for);
* HTTPS required for any host outside loopback (:func:`check_url`).

>>> t = Transport(); t.request  # doctest: +ELLIPSIS
<bound method Transport.request of <explorer.transport._transport.Transport object at ...>>
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import requests
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

__all__ = ["CREDENTIAL_HEADERS", "DEFAULT_TIMEOUT", "RETRY_STATUSES", "Transport"]

#: (connect, read) seconds.
DEFAULT_TIMEOUT: tuple[float, float] = (5.0, 30.0)
RETRY_STATUSES = (429, 502, 503, 504)
CREDENTIAL_HEADERS = ("Authorization", "X-API-KEY", "API_KEY", "Cookie", "Proxy-Authorization")


def _retry(total: int, methods: Iterable[str], backoff: float) -> Retry:
    return Retry(
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
    )


class Transport(requests.Session):
    """A ``requests.Session`` with timeouts, retries and credential-safe redirects.

    ``retries`` is the retry budget per request (5: with backoff 0.2 s a failing service is
    reported after about 6 s; a 6 % fault rate still fails fewer than 1 call in 10 million);
    ``retry_post=True`` also retries POST on the
    statuses above (used for token endpoints, where a repeated grant is harmless).
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
    ) -> None:
        super().__init__()
        methods = set(Retry.DEFAULT_ALLOWED_METHODS) | ({"POST"} if retry_post else set())
        adapter = HTTPAdapter(
            max_retries=_retry(retries, methods, backoff),
            pool_connections=4,
            pool_maxsize=pool_size,
        )
        self.mount("https://", adapter)
        self.mount("http://", adapter)
        self.timeout = timeout
        self.verify = verify
        self.sensitive_headers = tuple(CREDENTIAL_HEADERS) + tuple(sensitive_headers)
        self.headers["User-Agent"] = "explorer/0.1 " + self.headers.get("User-Agent", "")
        # Never fall back to ~/.netrc credentials (requests does when no auth is set).
        self.auth = _no_auth

    def request(self, method, url, *args, **kwargs):  # type: ignore[override]
        if kwargs.get("timeout") is None:
            kwargs["timeout"] = self.timeout
        if kwargs.get("verify") is None and self.verify is not True:
            # requests lets REQUESTS_CA_BUNDLE override the session's verify= (psf/requests#3829)
            kwargs["verify"] = self.verify
        return super().request(method, url, *args, **kwargs)

    def send_request(self, request: requests.PreparedRequest, *,
                     timeout: Any = None) -> requests.Response:
        """Send a prepared request as :meth:`request` would (environment settings, timeouts,
        redirects): what a session's auth flow uses to send each step."""
        settings = self.merge_environment_settings(request.url, {}, None, None, None)
        if self.verify is not True:
            settings["verify"] = self.verify  # see request(): the session's verify= wins
        return self.send(request, timeout=self.timeout if timeout is None else timeout,
                         allow_redirects=True, **settings)

    def rebuild_auth(self, prepared_request, response):  # type: ignore[override]
        """On a redirect to another host (or https → http), drop every credential header."""
        if self.should_strip_auth(response.request.url, prepared_request.url):
            for name in self.sensitive_headers:
                prepared_request.headers.pop(name, None)


def _no_auth(request):
    return request
