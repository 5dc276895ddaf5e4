"""A Keycloak-like token endpoint and protected API on a local server (the transport, auth,
connect and CLI tests share it): ``keycloak`` fixture, its client id and secret, ``connect_kc``.
"""

from __future__ import annotations

import base64
from urllib.parse import unquote_plus

import pytest
from werkzeug.wrappers import Request, Response

from tests.localserver import LocalServer, TokenIssuer, json_response

CLIENT_ID = "client-id"
SECRET = "s3cret+with%odd:chars-é"


def basic_credentials(request: Request) -> tuple[str, str] | None:
    """Decode Basic credentials the way Keycloak and IdentityServer do (RFC 6749 §2.3.1)."""
    auth = request.headers.get("Authorization", "")
    if not auth.startswith("Basic "):
        return None
    raw = base64.b64decode(auth[6:]).decode()
    ident, _, secret = raw.partition(":")
    return unquote_plus(ident), unquote_plus(secret)


@pytest.fixture
def server():
    s = LocalServer()
    yield s
    s.stop()


@pytest.fixture
def keycloak(server):
    """A Keycloak-like client-credentials endpoint plus a protected API at /api/*."""
    issuer = TokenIssuer(lifetime=60)

    @server.route("POST", "/token")
    def token(request: Request) -> Response:
        creds = basic_credentials(request) or (request.form.get("client_id"),
                                               request.form.get("client_secret"))
        if creds != (CLIENT_ID, SECRET):
            return json_response({"error": "invalid_client",
                                  "error_description": "Invalid client or Invalid client "
                                  "credentials"}, 401)
        grant = request.form.get("grant_type")
        if grant == "client_credentials":
            return json_response(issuer.issue(scope=request.form.get("scope", "profile")))
        if grant == "refresh_token":
            if not issuer.use_refresh(request.form.get("refresh_token", "")):
                return json_response({"error": "invalid_grant",
                                      "error_description": "Token is not active"}, 400)
            return json_response(issuer.issue())
        return json_response({"error": "unsupported_grant_type",
                              "error_description": "Unsupported grant_type"}, 400)

    @server.route("GET", "/api/items")
    def items(request: Request) -> Response:
        if not issuer.check(request):
            return Response(status=401,
                            headers={"WWW-Authenticate": 'Bearer error="invalid_token"'})
        return json_response([{"id": 1, "name": "a"}, {"id": 2, "name": "b"}])

    server.issuer = issuer
    return server


def connect_kc(server, **kwargs):
    import explorer

    opts = dict(token_url=server.url + "/token", client_id=CLIENT_ID, client_secret=SECRET,
                base_url=server.url + "/api")
    opts.update(kwargs)
    return explorer.connect(**opts)
