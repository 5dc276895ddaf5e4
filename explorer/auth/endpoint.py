"""The token endpoint: one POST per grant, answers turned into tokens or clear errors.

The endpoint is found from ``token_url``, or lazily from an OIDC ``issuer``
(``{issuer}/.well-known/openid-configuration``, OpenID Connect Discovery 1.0 §4): no redirect
to another origin is followed, the document's ``issuer`` must be the issuer asked for (§4.3),
and its ``token_endpoint`` must pass the same HTTPS rule as every URL.
The body is a form (RFC 6749) or JSON (Jindexe). Token answers are capped at
:data:`MAX_TOKEN_BYTES`. Secrets never appear in an error, nor in a chained context.

>>> ep = TokenEndpoint("https://kc.example/realms/x/protocol/openid-connect/token", provider="x")
>>> ep.url
'https://kc.example/realms/x/protocol/openid-connect/token'
"""

from __future__ import annotations

import logging
import threading
from contextlib import nullcontext
from typing import Any

import requests

from .._secret import Secret, SecretBody, SecretForm, SecretHeaders, reveal
from ..errors import AuthenticationError, ConfigurationError, Redactor
from ..transport import LimitExceeded, Transport, UnreadableAnswer, check_url, origin
from .client_auth import ClientAuth
from .tokens import DEFAULT_LIFETIME, Token, parse_token_response

__all__ = ["MAX_TOKEN_BYTES", "TokenEndpoint"]

#: The largest token answer read (bytes, decoded): a token response is a few kilobytes.
MAX_TOKEN_BYTES = 1_000_000
#: Same-origin redirects followed at most during OIDC discovery.
_DISCOVERY_HOPS = 3

log = logging.getLogger("explorer.auth")

_HINTS = {
    "invalid_client": "check the client id and secret",
    "unauthorized_client": "check the client id and secret, and that this client may use "
                           "this grant",
    "invalid_grant": "check the username and password (or the refresh token has expired)",
    "invalid_scope": "check the scope",
    "invalid_request": "check the credentials are all set and the token URL is right",
    "unsupported_grant_type": "this server does not accept this grant: check the token URL",
    "invalid_api_key": "check the API key",
}


class TokenEndpoint:
    """POSTs grant parameters to a token URL and returns :class:`Token` objects."""

    def __init__(
        self,
        url: str | None = None,
        *,
        issuer: str | None = None,
        provider: str,
        client_auth: ClientAuth | None = None,
        body_format: str = "form",
        headers: dict[str, str] | None = None,
        http: requests.Session | None = None,
        redact: Redactor | None = None,
        hint: str = "",
        default_lifetime: float = DEFAULT_LIFETIME,
    ) -> None:
        if not url and not issuer:
            raise ConfigurationError("no token endpoint", provider=provider,
                                     hint="pass token_url=… or issuer=…")
        self.provider = provider
        self._url = check_url(url, provider=provider, what="token_url") if url else None
        self.issuer = check_url(issuer, provider=provider, what="issuer") if issuer else None
        self.client_auth = client_auth
        self.body_format = body_format
        self.headers = SecretHeaders(headers or {})
        self.http = http or Transport(retry_post=True, max_bytes=MAX_TOKEN_BYTES)
        self.redact = redact or Redactor()
        self.hint = hint
        self.default_lifetime = default_lifetime
        self._lock = threading.Lock()

    @property
    def url(self) -> str:
        """The token URL (discovered from the issuer on first use)."""
        if self._url is None:
            with self._lock:
                if self._url is None:
                    self._url = self._discover()
        return self._url

    @property
    def where(self) -> str | None:
        """The token URL if known, else the issuer (for messages; no request)."""
        return self._url or self.issuer

    def bounded(self) -> Any:
        """A context holding one token fetch (discovery, refresh, grant) to one deadline."""
        return self.http.bounded() if isinstance(self.http, Transport) else nullcontext()

    def wait_limit(self) -> float:
        """How long one token request may take at most (its transport's deadline, plus a
        margin), for the threads that wait on it."""
        limits = getattr(self.http, "limits", None)
        return (limits.deadline if limits is not None else 120.0) + 5.0

    def _discover(self) -> str:
        assert self.issuer is not None
        where = f"{self.issuer}/.well-known/openid-configuration"
        problem, doc = self._discovery_document(where)
        endpoint = doc.get("token_endpoint") if isinstance(doc, dict) else None
        if problem is None and isinstance(doc, dict):
            issuer = doc.get("issuer")
            if not isinstance(issuer, str) or issuer.rstrip("/") != self.issuer:
                problem = ("the discovery document names another issuer"
                           if isinstance(issuer, str) else "the discovery document has no issuer")
            elif not isinstance(endpoint, str):
                problem = "OIDC discovery found no token_endpoint"
        if problem is not None or not isinstance(endpoint, str):
            raise ConfigurationError(
                problem or "OIDC discovery found no token_endpoint", provider=self.provider,
                url=where, redact=self.redact,
                hint="check issuer= (e.g. https://host/realms/NAME), or pass token_url=")
        return check_url(endpoint, provider=self.provider, what="token_endpoint")

    def _discovery_document(self, where: str) -> tuple[str | None, Any]:
        """``(problem, document)``: redirects followed only on the issuer's own origin."""
        url = where
        for _ in range(_DISCOVERY_HOPS + 1):
            try:
                resp = self.http.get(url, headers={"Accept": "application/json"},
                                     allow_redirects=False)
            except (requests.RequestException, LimitExceeded):
                return "OIDC discovery could not read the discovery document", None
            if resp.is_redirect:
                target = requests.compat.urljoin(url, resp.headers.get("Location", ""))
                try:
                    same = origin(target) == origin(where)
                except ValueError:
                    same = False
                if not same:
                    return ("the discovery document redirects to another origin (not "
                            "followed)"), None
                url = target
                continue
            try:
                return None, resp.json() if resp.ok else None
            except (ValueError, RecursionError):
                return "the discovery document is not JSON", None
        return "the discovery document redirects too many times", None

    def request(self, params: dict[str, str], *,
                previous_refresh: Secret | str | None = None) -> Token:
        """Send one grant; return the token or raise :class:`AuthenticationError`."""
        url = self.url
        headers = SecretHeaders({"Accept": "application/json", **self.headers})
        body = SecretForm(params)
        if self.client_auth is not None:
            headers.update(self.client_auth.headers())
            body.update(self.client_auth.body())
        kwargs: dict[str, Any] = {"json": body} if self.body_format == "json" else {"data": body}
        grant = params.get("grant_type", "?")
        log.debug("token request: provider=%s grant=%s url=%s", self.provider, grant, url)
        failure: tuple[str, str] | None = None
        try:
            resp = self._send(url, headers, kwargs)
        except LimitExceeded as exc:  # max_wait, deadline, the 1 MB cap
            failure = (f"token request: {exc.message}", exc.hint)
        except requests.Timeout:
            failure = ("the token endpoint did not answer in time",
                       "retry later; check the token URL and your network")
        except (requests.exceptions.ContentDecodingError, UnreadableAnswer) as exc:  # ours
            failure = (f"token answer: {exc}", "retry; check the token URL")
        except requests.exceptions.SSLError:
            failure = ("TLS certificate verification of the token endpoint failed",
                       "if it uses a private CA, pass verify='/path/to/ca.pem'")
        except requests.RequestException as exc:
            failure = (f"cannot reach the token endpoint ({type(exc).__name__})",
                       "check the token URL and your network")
        if failure is not None:  # raised here, outside the handler: no chained context
            raise self._error(failure[0], None, hint=failure[1])
        return self._parse(resp, grant, previous_refresh)

    def _send(self, url: str, headers: SecretHeaders, kwargs: dict[str, Any]) -> Any:
        """POST the grant, its headers and encoded body masked in every frame that holds them
        (requests', urllib3's, http.client's: a traceback showing locals)."""
        if not isinstance(self.http, Transport):
            return self.http.post(url, headers=headers, allow_redirects=False, **kwargs)
        prepared = self.http.prepare_request(
            requests.Request("POST", url, headers=headers, **kwargs))
        prepared.headers = SecretHeaders(prepared.headers)
        body = prepared.body
        if body is not None:
            prepared.body = SecretBody(body if isinstance(body, bytes) else body.encode())
        del body
        return self.http.send_request(prepared, allow_redirects=False)

    def _parse(self, resp: requests.Response, grant: str,
               previous_refresh: Secret | str | None) -> Token:
        # The answer's words (which may quote the request, secrets included) and the token
        # values are locals of the helpers only: the frame that raises holds the redacted error.
        outcome = self._refusal(resp, grant) or self._token(resp, previous_refresh)
        if isinstance(outcome, AuthenticationError):
            raise outcome
        log.debug("token received: provider=%s expires_in=%.0fs (%s)", self.provider,
                  outcome.expires_in, outcome.expiry_source)
        return outcome

    def _refusal(self, resp: requests.Response, grant: str) -> AuthenticationError | None:
        """The error a refusal (an error status) stands for, in the server's words."""
        if resp.status_code < 400 and resp.ok:
            return None
        payload = _json(resp)
        error = payload.get("error") if isinstance(payload, dict) else None
        desc = payload.get("error_description") if isinstance(payload, dict) else None
        words = f"{error}: {desc}" if error and desc else (error or desc)
        if words is None:
            kind = resp.headers.get("Content-Type", "no content type").split(";")[0]
            words = f"a {kind} body" if resp.content else "an empty body"
        return self._error(
            f"token request ({grant}) refused with HTTP {resp.status_code} — {words}",
            resp.status_code, error=error if isinstance(error, str) else None,
            description=desc if isinstance(desc, str) else None)

    def _token(self, resp: requests.Response,
               previous_refresh: Secret | str | None) -> Token | AuthenticationError:
        """The token of a successful answer, or the error saying why it is unusable."""
        payload = _json(resp)
        if payload is None:
            kind = resp.headers.get("Content-Type", "unknown").split(";")[0]
            return self._error(f"token endpoint answered HTTP {resp.status_code} with {kind}, "
                               "not JSON", resp.status_code,
                               hint="check the token URL: it may point at a web page")
        try:
            token = parse_token_response(payload, default_lifetime=self.default_lifetime,
                                         previous_refresh=reveal(previous_refresh))
        except ValueError as exc:
            return self._error(f"unusable token response: {exc}", resp.status_code)
        self.redact.add(token.access_token, token.refresh_token)
        return token

    def _error(self, message: str, status: int | None, *, error: str | None = None,
               description: str | None = None, hint: str | None = None) -> AuthenticationError:
        hint = hint or "; ".join(h for h in (_HINTS.get(error or ""), self.hint) if h) or None
        return AuthenticationError(
            message, error=error, error_description=description, status=status,
            provider=self.provider, url=self._url or self.issuer, hint=hint, redact=self.redact)

    def __repr__(self) -> str:
        return f"<TokenEndpoint {self.provider} {self._url or self.issuer}>"


def _json(resp: requests.Response) -> Any:
    try:
        return resp.json()
    except (ValueError, RecursionError):  # not JSON, or nested too deep to decode
        return None
