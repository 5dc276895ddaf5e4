"""The session: one authenticated API, its URLs, and calls that end in JSON or a typed error.

>>> import explorer
>>> icd = explorer.connect("icd", sandbox=True)
>>> icd.get("/icd/entity")["@id"]
'http://id.who.int/icd/entity'
"""

from __future__ import annotations

import io
import logging
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urlsplit

import requests

from .._html import card
from ..auth.flows import TokenFlow
from ..auth.tokens import Token
from ..errors import ApiError, AuthenticationError, ConfigurationError, NotFound, Redactor
from .transport import Transport

if TYPE_CHECKING:
    import pandas as pd

    from ..apis.profile import Profile

__all__ = ["Session"]

log = logging.getLogger("explorer.http")

#: A token this close to expiry when a 401 arrives counts as expired, not refused (seconds).
_EXPIRY_SLACK = 1.0
_MAX_RENEWALS = 3

_ERROR_KEYS = ("errorMessage", "error_description", "errorDesc", "message", "detail", "title",
               "error")


def provider_words(body: Any) -> str | None:
    """The human part of an error body, in the provider's own words (or ``None``)."""
    if isinstance(body, Mapping):
        for key in _ERROR_KEYS:
            value = body.get(key)
            if isinstance(value, str) and value.strip():
                return value.strip()
    if isinstance(body, str) and body.strip() and "<html" not in body[:200].lower():
        return body.strip()[:300]
    return None


class Session:
    """An authenticated session to one API (made by :func:`explorer.connect`).

    ``get`` returns parsed JSON, ``request`` the ``requests.Response``, ``frame`` a DataFrame;
    ``token`` shows the token status (never its value in a repr).
    """

    def __init__(
        self,
        profile: Profile,
        *,
        urls: dict[str, str],
        flow: TokenFlow | None = None,
        api_key: str | None = None,
        headers: dict[str, str] | None = None,
        http: Transport | None = None,
        redact: Redactor | None = None,
        deployment: str = "real",
    ) -> None:
        self.profile = profile
        self.provider = profile.name
        self.urls = dict(urls)
        self.base_url = self.urls["base_url"]
        self.flow = flow
        self._api_key = api_key
        self.headers = {**profile.headers, **(headers or {})}
        self.http = http or Transport()
        self.redact = redact or Redactor()
        self.deployment = deployment
        self._origins = {_origin(u) for u in self.urls.values()}

    # -- URLs ---------------------------------------------------------------------------------
    def url(self, path: str, *, base: str = "base_url") -> str:
        """The absolute URL of ``path`` (relative to ``urls[base]``, or a payload URI).

        Payload URIs on the provider's canonical hosts (e.g. ``http://id.who.int/...``) map onto
        this session's base URL, so links found in answers work against any deployment.
        """
        if "://" in path:
            for prefix in self.profile.canonical_prefixes:
                if path.startswith(prefix):
                    return self.base_url + path[len(prefix):]
            if _origin(path) not in self._origins:
                raise ConfigurationError(
                    "refusing to send this session's credentials to another host",
                    provider=self.provider, url=path,
                    hint=f"use a path relative to {self.base_url}")
            return path
        try:
            root = self.urls[base]
        except KeyError:
            raise ConfigurationError(f"unknown base {base!r}", provider=self.provider,
                                     hint=f"use one of {sorted(self.urls)}") from None
        return root + "/" + path.lstrip("/")

    @staticmethod
    def path(*segments: object) -> str:
        """Join path segments, each percent-encoded so none can reach another route.

        >>> Session.path("codeinfo", "2C25.Z&XK8G", "../x")
        '/codeinfo/2C25.Z%26XK8G/..%2Fx'
        """
        parts = []
        for seg in segments:
            text = str(seg)
            if text in ("", ".", ".."):
                raise ValueError(f"invalid path segment {text!r}")
            parts.append(quote(text, safe=""))
        return "/" + "/".join(parts)

    # -- authentication -------------------------------------------------------------------------
    @property
    def token(self) -> Token | None:
        """The current token's status (fetching one if needed); ``None`` without authentication."""
        return self.flow.token() if self.flow else None

    def _needs(self, url: str) -> tuple[bool, bool]:
        """(bearer token, API key) that a request to ``url`` carries. Providers refine this."""
        return self.flow is not None, self._api_key is not None

    def _auth_headers(self, url: str) -> tuple[dict[str, str], Token | None]:
        bearer, key = self._needs(url)
        headers: dict[str, str] = {}
        token = None
        if bearer:
            if self.flow is None:
                raise self._missing("a token")
            token = self.flow.token()
            headers["Authorization"] = f"{token.token_type} {token.access_token}"
        if key:
            if not self._api_key or not self.profile.api_key_header:
                raise self._missing("an API key")
            headers[self.profile.api_key_header] = self._api_key
        return headers, token

    def _missing(self, what: str) -> ConfigurationError:
        names = self.profile.credential_hint()
        return ConfigurationError(f"this call needs {what}, and none was configured",
                                  provider=self.provider, hint=f"set {names}")

    # -- calls ----------------------------------------------------------------------------------
    def request(self, method: str, path: str, *, base: str = "base_url",
                params: Mapping[str, Any] | None = None, **kwargs: Any) -> requests.Response:
        """Send one request and return the ``requests.Response`` (any status but 401).

        A 401 renews the token and retries once when the body can be replayed; a 401 for that
        fresh token raises :class:`AuthenticationError` (a token that expired on the way, e.g.
        during ``Retry-After`` waits, is renewed again, at most three times). Transport failures
        raise :class:`ApiError`.
        """
        url = self.url(path, base=base)
        extra = kwargs.pop("headers", None) or {}
        auth, token = self._auth_headers(url)
        headers = {**self.headers, **extra, **auth}
        resp = self._send(method, url, params, headers, kwargs)
        renewals = 0
        while resp.status_code == 401 and token is not None and self.flow is not None:
            resp.close()
            # A token that was still valid and got refused after a renewal is a real refusal;
            # one that expired on the way (slow retries, short lifetimes) is renewed again.
            if renewals and (not token.is_expired(_EXPIRY_SLACK) or renewals >= _MAX_RENEWALS):
                raise AuthenticationError(
                    "the API refused a freshly issued token (HTTP 401)", status=401,
                    provider=self.provider, url=url, redact=self.redact,
                    hint="check that this client is allowed to use this API "
                         f"({self.profile.credential_hint()})")
            token = self.flow.renew(token)
            renewals += 1
            if not _replayable(kwargs):
                raise AuthenticationError(
                    "the API refused the token; it was renewed but this request's body cannot "
                    "be sent twice", status=401, provider=self.provider, url=url,
                    hint="send the request again", redact=self.redact)
            headers["Authorization"] = f"{token.token_type} {token.access_token}"
            resp = self._send(method, url, params, headers, kwargs)
        return resp

    def _send(self, method: str, url: str, params: Any, headers: dict[str, str],
              kwargs: dict[str, Any]) -> requests.Response:
        try:
            resp = self.http.request(method, url, params=params, headers=headers, **kwargs)
        except requests.Timeout:
            raise self._transport_error("no answer within the read timeout", url, params,
                                        "retry later, or pass a larger timeout=") from None
        except requests.exceptions.ChunkedEncodingError:
            raise self._transport_error("the connection dropped while reading the answer", url,
                                        params, "retry; the server closed the connection") \
                from None
        except requests.exceptions.SSLError:
            raise self._transport_error(
                "TLS certificate verification failed", url, params,
                "if the server uses a private CA, pass verify='/path/to/ca.pem'") from None
        except requests.ConnectionError:
            raise self._transport_error("cannot reach the server", url, params,
                                        "check the URL, your network and the server") from None
        except requests.RequestException as exc:
            raise self._transport_error(f"request failed ({type(exc).__name__})", url, params,
                                        "check the URL and parameters") from None
        if log.isEnabledFor(logging.DEBUG):
            log.debug("%s %s -> %s", method, self.redact(resp.url), resp.status_code)
        return resp

    def _transport_error(self, message: str, url: str, params: Any, hint: str) -> ApiError:
        return ApiError(message, provider=self.provider, url=url, params=_plain(params),
                        hint=hint, redact=self.redact)

    def get(self, path: str, *, base: str = "base_url", params: Mapping[str, Any] | None = None,
            **query: Any) -> Any:
        """GET ``path`` and return the parsed JSON (dict or list); typed error otherwise.

        Query parameters come as ``params=`` or keyword arguments; ``None`` values are dropped.
        """
        merged = {**(params or {}), **query}
        merged = {k: v for k, v in merged.items() if v is not None}
        resp = self.request("GET", path, base=base, params=merged or None)
        return self.decode(resp, params=merged)

    def decode(self, resp: requests.Response, *, params: Mapping[str, Any] | None = None) -> Any:
        """The JSON of ``resp``, or the typed error it stands for."""
        body = _body(resp)
        if resp.status_code >= 400:
            raise self.error_for(resp, body, params)
        if resp.status_code == 204 or not resp.content:
            return None
        if isinstance(body, str):
            kind = resp.headers.get("Content-Type", "unknown").split(";")[0]
            if "json" in kind:
                kind = f"{kind} that does not decode (invalid or nested too deep)"
            raise ApiError(f"expected JSON but got {kind} (HTTP {resp.status_code})",
                           status=resp.status_code, body=body[:500], params=_plain(params),
                           provider=self.provider, url=resp.url, redact=self.redact,
                           hint="check the URL points at the API, not a web page or a proxy")
        return body

    def error_for(self, resp: requests.Response, body: Any,
                  params: Mapping[str, Any] | None) -> ApiError:
        """The typed error for an error response (providers add their own words)."""
        status = resp.status_code
        words = provider_words(body)
        reason = resp.reason or ""
        message = f"HTTP {status} {reason}".strip() + (f" — {words}" if words else "")
        if status in (502, 503, 504, 429):
            hint = "the service is busy or down; retry later (retries were already made)"
        elif status == 403:
            hint = "this account is not allowed to do this; check its roles"
        elif status == 404:
            hint = "check the path, code or id"
        elif status == 400:
            hint = "check the parameters"
        else:
            hint = None
        cls = NotFound if status == 404 else ApiError
        return cls(message, status=status, body=body, params=_plain(params),
                   provider=self.provider, url=resp.url, hint=hint, redact=self.redact)

    def frame(self, path: str, *, base: str = "base_url", limit: int | None = None,
              explode: str | None = None, progress: bool = True, page_size: int | None = None,
              workers: int | None = None, spec: Any = None, paging: Any = None,
              **params: Any) -> pd.DataFrame:
        """The whole collection at ``path`` as a DataFrame (see :mod:`explorer.session.frames`).

        Follows the API's paging (Spring ``Page``, Jindexe pages, bare arrays): the first page
        tells the total, the others are fetched concurrently on ``workers`` threads with a
        ``tqdm.auto`` bar (``progress=False`` silences it); ``limit=`` stops at that many rows;
        ``page_size=`` changes the page size; a ``page=`` parameter fetches that page only.
        Nested objects become dotted columns, lists stay list columns (``explode=`` unnests
        one), and the collection's declared time fields become UTC datetimes. Other keyword
        arguments are query parameters (``None`` dropped).

        >>> import explorer
        >>> itcare = explorer.connect("itcare", sandbox=True)
        >>> itcare.frame("/compute/instances", environments="PRODUCTION", limit=10,
        ...              progress=False).shape
        (10, 53)
        """
        from .paging import frame

        return frame(self, path, base=base, spec=spec, paging=paging, limit=limit,
                     explode=explode, progress=progress, workers=workers, page_size=page_size,
                     params=params)

    # -- life cycle and display -------------------------------------------------------------------
    def close(self) -> None:
        self.http.close()

    def __enter__(self) -> Session:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def status(self) -> dict[str, Any]:
        token = self.flow.current if self.flow else None
        auth = "none" if self.flow is None else (
            "no token yet" if token is None else
            f"{token.token_type} token, expires in {max(0, round(token.expires_in))} s"
            + (f", scope {token.scope}" if token.scope else ""))
        return {"provider": self.profile.title, "deployment": self.deployment,
                "base URL": self.base_url, "authentication": auth}

    def __repr__(self) -> str:
        s = self.status()
        return (f"<{type(self).__name__} {self.provider} [{s['deployment']}] {self.base_url} "
                f"auth: {s['authentication']}>")

    def _repr_html_(self) -> str:
        return card(f"explorer session — {self.profile.title}", self.status())


def _origin(url: str) -> tuple[str, str, int | None]:
    parts = urlsplit(url)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    return parts.scheme, (parts.hostname or "").lower(), port


def _replayable(kwargs: Mapping[str, Any]) -> bool:
    for key in ("data", "files"):
        value = kwargs.get(key)
        if value is not None and not isinstance(value, (bytes, str, dict, list, tuple)):
            return False
        if isinstance(value, io.IOBase):
            return False
    return True


def _body(resp: requests.Response) -> Any:
    if not resp.content:
        return None
    try:
        return resp.json()
    except (ValueError, RecursionError):  # not JSON, or nested too deep to decode
        return resp.text


def _plain(params: Any) -> dict[str, Any]:
    return dict(params) if isinstance(params, Mapping) else {}
