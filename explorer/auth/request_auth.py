"""Request authentication, composed (``requests.auth.AuthBase`` style, with an httpx-style flow).

Each object puts one kind of credential on a request; :class:`RouteAuth` chooses, per route,
which ones a request carries. ``auth_flow(request)`` is a generator: it yields the request to
send and receives the response, so :class:`BearerAuth` can renew a refused token and send the
request again — the one place where a 401 leads to a renewal.

* :class:`ApiKeyAuth` — an API key in a header (``X-API-KEY``, ``API_KEY``);
* :class:`BearerAuth` — ``Authorization: Bearer …`` from a :class:`~explorer.auth.TokenFlow`;
* :class:`RouteAuth` — route rules (:class:`Route`) choosing between them.

>>> import requests
>>> auth = ApiKeyAuth("X-API-KEY", "k-123")
>>> auth(requests.Request("GET", "https://h/x").prepare()).headers["X-API-KEY"]
'k-123'
>>> auth
<ApiKeyAuth X-API-KEY=***>
"""

from __future__ import annotations

import io
from collections.abc import Callable, Generator, Mapping, Sequence
from dataclasses import dataclass

import requests

from .._secret import Secret
from ..errors import AuthenticationError, ConfigurationError, Redactor
from ..transport import under
from .flows import TokenFlow
from .tokens import Token

__all__ = ["ApiKeyAuth", "BearerAuth", "RequestAuth", "Route", "RouteAuth"]

Flow = Generator[requests.PreparedRequest, requests.Response, None]

#: A token this close to expiry when a 401 arrives counts as expired, not refused (seconds).
EXPIRY_SLACK = 1.0
#: Renewals for one request at most (a token may expire on the way during retry waits).
MAX_RENEWALS = 3


class RequestAuth(requests.auth.AuthBase):
    """Base: ``auth_flow`` yields the request (with credentials) and gets the response back.

    Called as a plain ``AuthBase`` (``auth(request)``), it applies its credentials once.
    """

    def auth_flow(self, request: requests.PreparedRequest) -> Flow:
        yield request

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        return next(self.auth_flow(request))


class ApiKeyAuth(RequestAuth):
    """An API key sent in the header ``header`` (the key is held as a :class:`Secret`)."""

    def __init__(self, header: str, key: str | Secret) -> None:
        self.header = header
        self._key = key if isinstance(key, Secret) else Secret(key)

    def auth_flow(self, request: requests.PreparedRequest) -> Flow:
        request.headers[self.header] = self._key.reveal()
        yield request

    def __repr__(self) -> str:
        return f"<ApiKeyAuth {self.header}=***>"


class BearerAuth(RequestAuth):
    """``Authorization: <type> <token>`` from a token flow; a 401 renews the token once and sends
    the request again (when its body can be sent twice). A token that expired on the way
    (``Retry-After`` waits, short lifetimes) is renewed again, at most :data:`MAX_RENEWALS`
    times; a fresh token refused is an :class:`~explorer.errors.AuthenticationError`.

    ``blames(response)`` may name another credential the 401 is about (an API key): then the
    token is not renewed and the response goes back to the session, which says which one.
    """

    def __init__(self, flow: TokenFlow, *, provider: str, redact: Redactor, hint: str = "",
                 blames: Callable[[requests.Response], str | None] | None = None) -> None:
        self.flow = flow
        self.provider = provider
        self.redact = redact
        self.hint = hint
        self.blames = blames

    def auth_flow(self, request: requests.PreparedRequest) -> Flow:
        token = self.flow.token()
        _authorize(request, token)
        response = yield request
        renewals = 0
        while response.status_code == 401 and not (self.blames and self.blames(response)):
            response.close()
            if renewals and (not token.is_expired(EXPIRY_SLACK) or renewals >= MAX_RENEWALS):
                raise AuthenticationError(
                    "the API refused a freshly issued token (HTTP 401)", status=401,
                    provider=self.provider, url=request.url, redact=self.redact,
                    hint="check that this client is allowed to use this API"
                         + (f" ({self.hint})" if self.hint else ""))
            token = self.flow.renew(token)
            renewals += 1
            if not _replayable(request):
                raise AuthenticationError(
                    "the API refused the token; it was renewed but this request's body cannot "
                    "be sent twice", status=401, provider=self.provider, url=request.url,
                    hint="send the request again", redact=self.redact)
            _authorize(request, token)
            response = yield request

    def __repr__(self) -> str:
        return f"<BearerAuth {self.flow!r}>"


def _authorize(request: requests.PreparedRequest, token: Token) -> None:
    request.headers["Authorization"] = f"{token.token_type} {token.access_token}"


def _replayable(request: requests.PreparedRequest) -> bool:
    body = request.body
    return body is None or isinstance(body, (bytes, str)) and not isinstance(body, io.IOBase)


@dataclass(frozen=True)
class Route:
    """Which credentials the requests under ``base`` + ``prefix`` carry.

    ``credentials`` names them: ``"token"`` (a bearer from the token flow) and/or
    ``"api_key"``; ``why`` names, in a missing-credential message, what needs them ("this call
    needs a token for <why>").

    >>> Route("/user/", credentials=("api_key", "token"), why="/user/ routes").credentials
    ('api_key', 'token')
    """

    prefix: str = "/"
    base: str = "base_url"
    credentials: tuple[str, ...] = ("token",)
    why: str = ""


class RouteAuth(RequestAuth):
    """Route rules choosing the credentials of each request; the first matching rule wins, and
    a request under no rule carries none.

    ``urls`` maps base names to URLs; ``auths`` maps credential names to their auth objects
    (``None``: not configured); ``labels`` and ``missing`` map credential names to their name
    for people (``"API key"``) and to what to do when one is absent.

    >>> auth = RouteAuth([Route("/public/", credentials=("api_key",)),
    ...                   Route("/ext/", credentials=())],
    ...                  urls={"base_url": "https://h/api"},
    ...                  auths={"api_key": ApiKeyAuth("X-API-KEY", "k"), "token": None},
    ...                  provider="x", redact=Redactor())
    >>> auth.route_for("https://h/api/public/things").credentials, auth.route_for("https://evil/x")
    (('api_key',), None)
    """

    def __init__(self, routes: Sequence[Route], *, urls: Mapping[str, str],
                 auths: Mapping[str, RequestAuth | None], provider: str, redact: Redactor,
                 labels: Mapping[str, str] | None = None,
                 missing: Mapping[str, str] | None = None) -> None:
        self.routes = tuple(routes)
        self.urls = dict(urls)
        self.auths = dict(auths)
        self.provider = provider
        self.redact = redact
        self.labels = dict(labels or {})
        self.missing = dict(missing or {})

    def route_for(self, url: str) -> Route | None:
        """The first rule whose base URL and path prefix hold ``url``."""
        for route in self.routes:
            base = self.urls.get(route.base)
            rest = under(url, base) if base else None
            if rest is not None and (rest.startswith(route.prefix) or route.prefix == "/"):
                return route
        return None

    def auth_flow(self, request: requests.PreparedRequest) -> Flow:
        route = self.route_for(request.url or "")
        auths = []
        for name in route.credentials if route else ():
            auth = self.auths.get(name)
            if auth is None:
                raise self._missing(name, route)
            auths.append(auth)
        if not auths:
            yield request
            return
        for auth in auths[:-1]:  # keys and other one-step credentials first
            auth(request)
        yield from auths[-1].auth_flow(request)

    def _missing(self, name: str, route: Route | None) -> ConfigurationError:
        label = self.labels.get(name) or ("token" if name == "token" else name)
        what = ("an " if label[:1].lower() in "aeiou" else "a ") + label
        where = f" for {route.why}" if route is not None and route.why else ""
        return ConfigurationError(f"this call needs {what}{where}, and none was configured",
                                  provider=self.provider, hint=self.missing.get(name))

    def __repr__(self) -> str:
        configured = sorted(k for k, v in self.auths.items() if v)
        return f"<RouteAuth {len(self.routes)} routes {configured}>"
