"""Token servers of the sandbox and the bearer check shared by every API mount.

Example:
    >>> from explorer import sandbox
    >>> import requests
    >>> with sandbox.start() as sb:
    ...     c = sb.credentials("itcare")
    ...     r = requests.post(c["token_url"], auth=(c["client_id"], c["client_secret"]),
    ...                       data={"grant_type": "client_credentials"})
    ...     r.json()["expires_in"]
    1200

Token servers: each emulator declares its own (:class:`Issuer`: a kind, a host, lifetimes),
and :class:`Auth` serves them all, each mounted under its real host. Kinds:
    * ``keycloak``: a Keycloak realm (``{base}/protocol/openid-connect/token``, ``/certs``,
      discovery);
    * ``identityserver``: IdentityServer (``/connect/token``, JWKS, discovery);
    * ``fos``: a FOSOAuthServer-style JSON password grant at ``{base}{token_path}``, served by
      its API's mount through :meth:`Auth.password_token` (the mount checks its own API key
      first).

Stable contract for API mounts:
    ``state.auth.check(request, issuers=("<issuer name>",)) -> werkzeug.Response | None``
        ``None`` when ``Authorization: Bearer <token>`` holds a valid, unexpired access token
        of one of the named issuers; else a 401 with an EMPTY body and
        ``WWW-Authenticate: Bearer error="invalid_token"`` (invalid or expired; expired
        ones count in ``expired_token_hits()``), or ``WWW-Authenticate: Bearer`` when no
        token is sent.
    ``state.auth.validate(request, issuers) -> tuple[str, Token | None]``
        the same decision as ``("ok"|"missing"|"invalid"|"expired", token)`` for mounts
        that build their own error bodies; counts expired hits too.
    ``request_json(request) -> Any``
        the body as JSON, ``None`` when it is not (invalid, too deep): never raises.

Emulator choices:
    * Keycloak and IdentityServer access tokens are RS256 JWTs; one RSA key per issuer,
      generated lazily once per process (``kid`` = thumbprint); JWKS has no ``x5c``.
      Validation is a lookup in the sandbox's own token store (the signature is not
      re-checked), so tokens of another sandbox instance are ``invalid``.
    * ``iss`` and every URL of the discovery documents use the sandbox address
      (``http://127.0.0.1:PORT/<real host>/...``) so that discovery is usable.
    * Keycloak responses carry the keys of the GOPACS seed sample plus ``scope``
      (``access_token, expires_in, refresh_expires_in, refresh_token, token_type,
      not-before-policy, session_state, scope``) with ``token_type`` ``"bearer"`` as both
      seeds print it; client_credentials returns a refresh token (both seeds show one).
    * Keycloak refresh does NOT rotate (Keycloak default: the old refresh token stays valid
      until it expires); ``fos`` refresh DOES rotate (the old one becomes invalid).
    * Keycloak: missing ``grant_type`` -> 400 ``invalid_request``; then client auth
      (-> 401 ``invalid_client``); grants other than client_credentials / refresh_token ->
      400 ``unsupported_grant_type``; refresh errors 400 ``invalid_grant`` ("Invalid refresh
      token"; expired: "Token is not active"; revoked via ``revoke_refresh_tokens()``:
      "Invalid refresh token"). Paths outside the realm (e.g. a ``/realm/…`` typo) are 404,
      as the real server would answer.
    * IdentityServer: always 400; non-form body -> ``invalid_request``; then client auth ->
      ``invalid_client``; missing grant_type -> ``invalid_request``; any grant but
      client_credentials -> ``unsupported_grant_type``; scope other than ``icdapi_access``
      -> ``invalid_scope``; no scope -> ``icdapi_access``.
    * HTTP Basic is decoded per RFC 6749 section 2.3.1 (``unquote_plus`` of each half after
      base64, whitespace inside the base64 ignored); Basic wins over body credentials.
    * GET on a token endpoint -> 405. Token responses carry ``Cache-Control: no-store``.
    * ``sb.token_lifetime`` overrides access lifetimes of tokens issued afterwards;
      ``sb.refresh_token_lifetime`` likewise for refresh tokens.
    * ``fos`` accepts a JSON or a form body (a body starting with ``{`` is JSON whatever
      its Content-Type, so ``curl -d '{...}'`` works); errors are FOSOAuthServer's texts;
      refresh tokens rotate.
"""

from __future__ import annotations

import base64
import json
import secrets
import threading
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote_plus

from werkzeug.wrappers import Request, Response

from explorer.sandbox._jwt import fos_token, jwk, make_jwt

__all__ = [
    "Auth",
    "Issuer",
    "OAuthMount",
    "Token",
    "bearer",
    "client_auth",
    "empty_response",
    "json_response",
    "request_json",
]


@dataclass(frozen=True)
class Issuer:
    """One token server: where it lives and how it behaves."""

    name: str
    host: str
    base: str
    kind: str  # "keycloak" | "identityserver" | "fos"
    access_lifetime: int
    refresh_lifetime: int | None
    scope: str
    api: str  # key of state.credentials (the emulator's name)
    #: ``fos`` kind: the token route under ``base`` (e.g. ``"/public/token"``)
    token_path: str = ""

    @property
    def token_route(self) -> str:
        """The path of the token endpoint on ``host``."""
        tail = {"keycloak": _KC_TOKEN, "identityserver": _IS_TOKEN}.get(self.kind,
                                                                         self.token_path)
        return self.base + tail


_KC_TOKEN = "/protocol/openid-connect/token"
_KC_CERTS = "/protocol/openid-connect/certs"
_DISCOVERY = "/.well-known/openid-configuration"
_IS_TOKEN = "/connect/token"
_IS_JWKS = "/.well-known/openid-configuration/jwks"
_NO_STORE = {"Cache-Control": "no-store, no-cache, max-age=0", "Pragma": "no-cache"}

@dataclass
class Token:
    """A stored access or refresh token (the token string itself is the dict key)."""

    issuer: str
    client_id: str
    exp: float
    scope: str
    active: bool = True


def json_response(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    """A JSON response (compact, UTF-8)."""
    data = json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    return Response(data, status=status, headers=headers, content_type="application/json")


def empty_response(status: int, headers: dict[str, str] | None = None) -> Response:
    """A response with an empty body."""
    return Response(b"", status=status, headers=headers)


def client_auth(request: Request) -> tuple[str | None, str | None]:
    """Client credentials from HTTP Basic (RFC 6749 2.3.1 decoding) or the form body."""
    scheme, _, value = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() == "basic":
        try:
            raw = base64.b64decode("".join(value.split()), validate=True).decode("utf-8")
        except (ValueError, UnicodeDecodeError):
            return "", ""
        cid, sep, secret = raw.partition(":")
        if not sep:
            return "", ""
        return unquote_plus(cid), unquote_plus(secret)
    if request.mimetype == "application/x-www-form-urlencoded":
        return request.form.get("client_id"), request.form.get("client_secret")
    return None, None


def bearer(request: Request) -> str | None:
    """The bearer token of the Authorization header, if any."""
    scheme, _, value = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    return None


class Auth:
    """Token store and token-server logic of one sandbox (``state.auth``)."""

    def __init__(self, state: Any, issuers: Iterable[Issuer]) -> None:
        self.state = state
        self.issuers: dict[str, Issuer] = {i.name: i for i in issuers}
        #: hosts served by :class:`OAuthMount` (the ``fos`` kind is served by its API's mount)
        self.hosts: dict[str, Issuer] = {i.host: i for i in self.issuers.values()
                                         if i.kind != "fos"}
        self._routes = {(i.host, i.token_route): i for i in self.issuers.values()}
        self._lock = threading.Lock()
        self._access: dict[str, Token] = {}
        self._refresh: dict[str, Token] = {}
        self._clients: dict[tuple[str, str], str] = {}
        for api in self.client_apis():
            cred = state.credentials[api]
            self._clients[(api, cred["client_id"])] = cred["client_secret"]

    def client_apis(self) -> list[str]:
        """The emulators whose token servers authenticate OAuth clients."""
        return sorted({i.api for i in self.issuers.values() if i.kind != "fos"})

    # -- registry -------------------------------------------------------------------------
    def add_client(self, api: str, client_id: str, client_secret: str) -> None:
        """Register an extra client for ``api`` (one of :meth:`client_apis`)."""
        if api not in self.client_apis():
            raise ValueError(f"unknown api {api!r}; expected one of {self.client_apis()}")
        with self._lock:
            self._clients[(api, client_id)] = client_secret

    def _client_ok(self, api: str, cid: str | None, secret: str | None) -> bool:
        if not cid or secret is None:
            return False
        known = self._clients.get((api, cid))
        return known is not None and secrets.compare_digest(
            known.encode("utf-8"), secret.encode("utf-8")
        )

    def issuer_url(self, name: str) -> str:
        """Public issuer URL of a token server, on the sandbox address."""
        iss = self.issuers[name]
        return f"{self.state.sandbox_url}/{iss.host}{iss.base}"

    def token_url(self, name: str) -> str:
        """Token endpoint URL of a token server, on the sandbox address."""
        iss = self.issuers[name]
        return f"{self.state.sandbox_url}/{iss.host}{iss.token_route}"

    def is_token_path(self, host: str, path: str) -> bool:
        """Whether ``host``/``path`` belongs to a token server (token, discovery, JWKS)."""
        return host in self.hosts or (host, path) in self._routes

    def _token_issuer(self, host: str, path: str) -> Issuer | None:
        return self._routes.get((host, path))

    def note_request(self, request: Request, host: str, path: str) -> None:
        """Count a request to a token endpoint (called by the server before any fault)."""
        iss = self._token_issuer(host, path)
        if iss is None or request.method != "POST":
            return
        if iss.kind == "fos":
            body = _json_or_form(request)
            cid, grant = body.get("username"), body.get("grant_type")
        else:
            cid, _ = client_auth(request)
            grant = request.form.get("grant_type")
        self.state.counters.token(iss.name, cid if isinstance(cid, str) else None,
                                  grant if isinstance(grant, str) else None)

    # -- store ----------------------------------------------------------------------------
    def _lifetimes(self, iss: Issuer) -> tuple[float, float]:
        access = self.state.token_lifetime
        refresh = self.state.refresh_token_lifetime
        return (
            float(iss.access_lifetime if access is None else access),
            float((iss.refresh_lifetime or 0) if refresh is None else refresh),
        )

    def _store(self, table: dict[str, Token], token: str, rec: Token) -> None:
        with self._lock:
            table[token] = rec

    def expire_all(self) -> None:
        """Every access token issued so far is now expired."""
        with self._lock:
            for rec in self._access.values():
                rec.exp = 0.0

    def revoke_refresh(self) -> None:
        """Every refresh token issued so far becomes invalid."""
        with self._lock:
            for rec in self._refresh.values():
                rec.active = False

    # -- bearer validation ----------------------------------------------------------------
    def validate(self, request: Request, issuers: tuple[str, ...]) -> tuple[str, Token | None]:
        """``("ok"|"missing"|"invalid"|"expired", token)`` for the request's bearer."""
        tok = bearer(request)
        if tok is None:
            return "missing", None
        return self.validate_token(tok, issuers)

    def token_record(self, tok: str) -> Token | None:
        """The stored access token ``tok`` (any issuer, expired or not), if it is one."""
        return self._access.get(tok)

    def validate_token(self, tok: str, issuers: tuple[str, ...]) -> tuple[str, Token | None]:
        """Like :meth:`validate` for a token string."""
        rec = self._access.get(tok)
        if rec is None or rec.issuer not in issuers:
            return "invalid", None
        if rec.exp <= time.time():
            self.state.counters.expired()
            return "expired", rec
        return "ok", rec

    def check(self, request: Request, issuers: tuple[str, ...]) -> Response | None:
        """``None`` if the bearer is valid for ``issuers``, else the 401 to send."""
        status, _ = self.validate(request, issuers)
        if status == "ok":
            return None
        if status == "missing":
            return empty_response(401, {"WWW-Authenticate": "Bearer"})
        return empty_response(401, {"WWW-Authenticate": 'Bearer error="invalid_token"'})

    # -- token servers --------------------------------------------------------------------
    def handle(self, request: Request, host: str, path: str) -> Response:
        """Serve a Keycloak realm or the IdentityServer mounted at ``host``."""
        iss = self.hosts.get(host)
        if iss is None:
            return empty_response(404)
        if iss.kind == "keycloak":
            routes = {_KC_TOKEN: self._keycloak_token, _KC_CERTS: self._jwks,
                      _DISCOVERY: self._discovery}
            if not path.startswith(iss.base + "/"):
                return empty_response(404)
            route = routes.get(path[len(iss.base):])
        else:
            route = {_IS_TOKEN: self._is_token, _IS_JWKS: self._jwks,
                     _DISCOVERY: self._discovery}.get(path)
        if route is None:
            return empty_response(404)
        is_token = route in (self._keycloak_token, self._is_token)
        if is_token and request.method != "POST":
            return empty_response(405, {"Allow": "POST, OPTIONS"})
        if not is_token and request.method not in ("GET", "HEAD"):
            return empty_response(405, {"Allow": "GET, HEAD, OPTIONS"})
        return route(request, iss)

    def _jwks(self, request: Request, iss: Issuer) -> Response:
        return json_response({"keys": [jwk(iss.name)]})

    def _discovery(self, request: Request, iss: Issuer) -> Response:
        base = self.issuer_url(iss.name)
        if iss.kind == "keycloak":
            doc = {
                "issuer": base,
                "token_endpoint": base + _KC_TOKEN,
                "jwks_uri": base + _KC_CERTS,
                "grant_types_supported": ["client_credentials", "refresh_token"],
                "token_endpoint_auth_methods_supported": ["client_secret_basic",
                                                          "client_secret_post"],
                "response_types_supported": ["code", "none", "id_token", "token"],
                "subject_types_supported": ["public", "pairwise"],
                "id_token_signing_alg_values_supported": ["RS256"],
                "scopes_supported": ["openid", "profile", "email"],
            }
        else:
            doc = {
                "issuer": base,
                "jwks_uri": base + _IS_JWKS,
                "token_endpoint": base + _IS_TOKEN,
                "scopes_supported": ["icdapi_access"],
                "claims_supported": [],
                "grant_types_supported": ["client_credentials"],
                "response_types_supported": ["token"],
                "token_endpoint_auth_methods_supported": ["client_secret_basic",
                                                          "client_secret_post"],
                "id_token_signing_alg_values_supported": ["RS256"],
                "subject_types_supported": ["public"],
            }
        return json_response(doc)

    def _keycloak_token(self, request: Request, iss: Issuer) -> Response:
        form = request.form if request.mimetype == "application/x-www-form-urlencoded" else {}
        grant = form.get("grant_type")
        if not grant:
            return json_response({"error": "invalid_request",
                                  "error_description": "Missing form parameter: grant_type"}, 400,
                                 _NO_STORE)
        cid, secret = client_auth(request)
        if not self._client_ok(iss.api, cid, secret):
            return json_response({"error": "invalid_client", "error_description":
                                  "Invalid client or Invalid client credentials"}, 401, _NO_STORE)
        assert cid is not None
        if grant == "refresh_token":
            rt = form.get("refresh_token")
            if not rt:
                return _invalid("invalid_request", "Missing parameter: refresh_token")
            rec = self._refresh.get(rt)
            if rec is None or not rec.active or rec.issuer != iss.name or rec.client_id != cid:
                return _invalid("invalid_grant", "Invalid refresh token")
            if rec.exp <= time.time():
                return _invalid("invalid_grant", "Token is not active")
        elif grant != "client_credentials":
            return _invalid("unsupported_grant_type", "Unsupported grant_type")
        return json_response(self._keycloak_issue(iss, cid), 200, _NO_STORE)

    def _keycloak_issue(self, iss: Issuer, cid: str) -> dict[str, Any]:
        now = time.time()
        access_life, refresh_life = self._lifetimes(iss)
        session = str(uuid.uuid4())
        base = self.issuer_url(iss.name)
        common = {"iat": int(now), "iss": base, "azp": cid, "session_state": session,
                  "scope": iss.scope, "sid": session}
        access = make_jwt(iss.name, {
            "exp": int(now + access_life), "jti": str(uuid.uuid4()), "aud": "account",
            "sub": str(uuid.uuid5(uuid.NAMESPACE_URL, f"{base}/{cid}")), "typ": "Bearer",
            **common, "clientId": cid, "preferred_username": f"service-account-{cid}",
        })
        refresh = make_jwt(iss.name, {
            "exp": int(now + refresh_life), "jti": str(uuid.uuid4()), "aud": base,
            "typ": "Refresh", **common,
        })
        self._store(self._access, access, Token(iss.name, cid, now + access_life, iss.scope))
        self._store(self._refresh, refresh, Token(iss.name, cid, now + refresh_life, iss.scope))
        return {
            "access_token": access,
            "expires_in": int(access_life),
            "refresh_expires_in": int(refresh_life),
            "refresh_token": refresh,
            "token_type": "bearer",
            "not-before-policy": 0,
            "session_state": session,
            "scope": iss.scope,
        }

    def _is_token(self, request: Request, iss: Issuer) -> Response:
        def err(code: str) -> Response:
            return json_response({"error": code}, 400, _NO_STORE)

        if request.mimetype != "application/x-www-form-urlencoded":
            return err("invalid_request")
        cid, secret = client_auth(request)
        if not self._client_ok(iss.api, cid, secret):
            return err("invalid_client")
        assert cid is not None
        grant = request.form.get("grant_type")
        if not grant:
            return err("invalid_request")
        if grant != "client_credentials":
            return err("unsupported_grant_type")
        scopes = (request.form.get("scope") or iss.scope).split()
        if any(s != iss.scope for s in scopes):
            return err("invalid_scope")
        now = time.time()
        life, _ = self._lifetimes(iss)
        access = make_jwt(iss.name, {
            "iss": self.issuer_url(iss.name), "nbf": int(now), "iat": int(now),
            "exp": int(now + life), "aud": "icdapi", "scope": [iss.scope],
            "client_id": cid, "jti": secrets.token_hex(16).upper(),
        }, typ="at+jwt")
        self._store(self._access, access, Token(iss.name, cid, now + life, iss.scope))
        body = {"access_token": access, "expires_in": int(life), "token_type": "Bearer",
                "scope": iss.scope}
        return json_response(body, 200, _NO_STORE)

    def password_token(self, request: Request, issuer: str) -> Response:
        """The token route of a ``fos`` issuer (its API's mount has checked its own key)."""
        if request.method != "POST":
            return empty_response(405, {"Allow": "POST"})
        body = _json_or_form(request)
        grant = body.get("grant_type")
        iss = self.issuers[issuer]
        cred = self.state.credentials[iss.api]
        if grant == "password":
            user, pwd = body.get("username"), body.get("password")
            if not isinstance(user, str) or not isinstance(pwd, str) or not user or not pwd:
                return _invalid("invalid_request",
                                'Missing parameters. "username" and "password" required')
            ok = user == cred["username"] and secrets.compare_digest(
                pwd.encode("utf-8"), cred["password"].encode("utf-8"))
            if not ok:
                return _invalid("invalid_grant", "Invalid username and password combination")
        elif grant == "refresh_token":
            rt = body.get("refresh_token")
            if not isinstance(rt, str) or not rt:
                return _invalid("invalid_request", 'No "refresh_token" parameter found')
            with self._lock:
                rec = self._refresh.get(rt)
                valid = rec is not None and rec.active and rec.issuer == iss.name
                if valid and rec.exp > time.time():
                    rec.active = False  # emulator choice: rotation
            if not valid:
                return _invalid("invalid_grant", "Invalid refresh token")
            assert rec is not None
            if rec.exp <= time.time():
                return _invalid("invalid_grant", "Refresh token has expired")
            user = rec.client_id
        else:
            return _invalid("invalid_request", "Invalid grant_type parameter or parameter missing")
        now = time.time()
        access_life, refresh_life = self._lifetimes(iss)
        access, refresh = fos_token(), fos_token()
        self._store(self._access, access, Token(iss.name, user, now + access_life, iss.scope))
        self._store(self._refresh, refresh, Token(iss.name, user, now + refresh_life, iss.scope))
        return json_response({"access_token": access, "expires_in": int(access_life),
                              "token_type": "bearer", "scope": iss.scope,
                              "refresh_token": refresh}, 200, _NO_STORE)


def _invalid(code: str, description: str) -> Response:
    return json_response({"error": code, "error_description": description}, 400, _NO_STORE)


def request_json(request: Request) -> Any:
    """The request body parsed as JSON whatever its Content-Type, or ``None`` when it is not
    JSON: empty, invalid, not in a UTF encoding, or nested deeper than the parser goes
    (``RecursionError``). Never raises: every mount reads JSON bodies through it."""
    try:
        return json.loads(request.get_data(cache=True))
    except (ValueError, RecursionError):
        return None


def _json_or_form(request: Request) -> dict[str, Any]:
    raw = request.get_data(cache=True)
    if request.mimetype == "application/x-www-form-urlencoded" and not raw.lstrip().startswith(
            b"{"):
        return request.form.to_dict()
    # emulator choice: a JSON object is read as JSON whatever the Content-Type (curl -d)
    data = request_json(request)
    return data if isinstance(data, dict) else {}


class OAuthMount:
    """Mount of the Keycloak realms and IdentityServers (the hosts of ``state.auth``)."""

    def __init__(self, state: Any) -> None:
        self.state = state
        self.hosts: tuple[str, ...] = tuple(state.auth.hosts)

    def handle(self, request: Request, host: str, path: str) -> Response:
        return self.state.auth.handle(request, host, path)
