"""Transport rules: timeouts, retries with Retry-After, https only off loopback, safe redirects."""

from __future__ import annotations

import time

import pytest
from werkzeug.wrappers import Request, Response

import explorer
from tests.keycloak import connect_kc
from tests.localserver import LocalServer, json_response


def test_retries_503_and_429_honouring_retry_after(keycloak):
    calls = []

    @keycloak.route("GET", "/api/flaky")
    def flaky(request: Request) -> Response:
        calls.append(time.monotonic())
        if len(calls) == 1:
            return Response(status=503)
        if len(calls) == 2:
            return Response(status=429, headers={"Retry-After": "1"})
        return json_response({"ok": True})

    session = connect_kc(keycloak)
    assert session.get("/flaky") == {"ok": True}
    assert len(calls) == 3
    assert calls[2] - calls[1] >= 0.95  # waited as Retry-After asked


def test_retry_budget_exhausted_gives_typed_error(keycloak):
    @keycloak.route("GET", "/api/down")
    def down(request: Request) -> Response:
        return Response(status=503)

    session = connect_kc(keycloak, retries=2)
    with pytest.raises(explorer.ApiError) as info:
        session.get("/down", page=3)
    assert info.value.status == 503
    assert keycloak.count("/api/down") == 3  # one try + two retries
    assert info.value.params == {"page": 3} and "/api/down" in str(info.value)
    assert "retry later" in str(info.value)


def test_post_is_not_retried_on_503(keycloak):
    @keycloak.route("POST", "/api/create")
    def create(request: Request) -> Response:
        return Response(status=503)

    session = connect_kc(keycloak)
    resp = session.request("POST", "/create", json={"a": 1})
    assert resp.status_code == 503 and keycloak.count("/api/create") == 1


def test_read_timeout_is_a_typed_error(keycloak):
    @keycloak.route("GET", "/api/slow")
    def slow(request: Request) -> Response:
        time.sleep(1.5)
        return json_response({})

    session = connect_kc(keycloak, timeout=(2, 0.5))
    start = time.monotonic()
    with pytest.raises(explorer.ApiError, match="read timeout") as info:
        session.get("/slow")
    assert time.monotonic() - start < 1.4
    assert info.value.status is None and info.value.provider == "oauth2"


def test_unreachable_server_is_a_typed_error():
    session = explorer.connect(token_url="http://127.0.0.1:9/token", client_id="a",
                               client_secret="b-secret-value", base_url="http://127.0.0.1:9")
    with pytest.raises(explorer.AuthenticationError, match="cannot reach the token endpoint"):
        session.get("/x")
    open_session = explorer.connect("icd", base_url="http://127.0.0.1:9", auth=None)
    with pytest.raises(explorer.ApiError, match="cannot reach the server"):
        open_session.get("/icd/entity")


@pytest.mark.parametrize("url", ["http://api.example.com", "http://10.0.0.5/x", "ftp://x/y"])
def test_https_required_outside_loopback(url):
    with pytest.raises(explorer.ConfigurationError) as info:
        explorer.connect("icd", client_id="a", client_secret="b", base_url=url)
    assert "[icd]" in str(info.value)


def test_loopback_http_is_accepted():
    for url in ("http://127.0.0.1:8080", "http://localhost", "http://[::1]:9"):
        explorer.connect("icd", base_url=url, auth=None)


@pytest.fixture
def other_host():
    s = LocalServer()
    yield s
    s.stop()


def test_credentials_not_forwarded_on_cross_host_redirect(server, other_host):
    @server.route("GET", "/public/go")
    def go(request: Request) -> Response:
        return Response(status=302, headers={"Location": other_host.url + "/landing"})

    @other_host.route("GET", "/landing")
    def landing(request: Request) -> Response:
        return json_response({"landed": True})

    jx = explorer.connect("jindexe", api_key="secret-api-key", base_url=server.url)
    assert jx.get("/public/go") == {"landed": True}
    assert server.seen[0].headers.get("X-Api-Key") == "secret-api-key"
    headers = {k.lower() for k in other_host.seen[0].headers}
    assert "x-api-key" not in headers and "authorization" not in headers


def test_same_host_redirect_keeps_the_key(server):
    @server.route("GET", "/public/old")
    def old(request: Request) -> Response:
        return Response(status=301, headers={"Location": server.url + "/public/new"})

    @server.route("GET", "/public/new")
    def new(request: Request) -> Response:
        return json_response({"key": request.headers.get("X-API-KEY") == "secret-api-key"})

    jx = explorer.connect("jindexe", api_key="secret-api-key", base_url=server.url)
    assert jx.get("/public/old") == {"key": True}


def test_api_key_not_sent_to_token_endpoint_that_does_not_need_it(server):
    @server.route("POST", "/realms/gopacs/protocol/openid-connect/token")
    def token(request: Request) -> Response:
        return json_response({"access_token": "t" * 30, "expires_in": 300})

    @server.route("GET", "/uftp-participants/v3/participants/x")
    def part(request: Request) -> Response:
        return json_response({"domain": "x", "publicKey": "k"})

    gopacs = explorer.connect(
        "gopacs", client_id="id", client_secret="sec-secret", api_key="gopacs-api-key",
        token_url=server.url + "/realms/gopacs/protocol/openid-connect/token",
        base_url=server.url, idcons_url=server.url + "/idcons",
        reporting_url=server.url + "/rep")
    assert gopacs.get("/uftp-participants/v3/participants/x")["domain"] == "x"
    token_req = next(s for s in server.seen if s.path.endswith("/token"))
    assert "Api-Key" not in token_req.headers and "API_KEY" not in token_req.headers
    assert b"client_secret=sec-secret" in token_req.body  # GOPACS: id/secret in the body
    api_req = server.seen[-1]
    assert "Api-Key" not in api_req.headers  # the key only goes to /public-api/ routes


def test_payload_uris_map_to_the_session_base_url():
    icd = explorer.connect("icd", base_url="http://127.0.0.1:1/id.who.int", auth=None)
    assert icd.url("http://id.who.int/icd/entity/123") == \
        "http://127.0.0.1:1/id.who.int/icd/entity/123"
    with pytest.raises(explorer.ConfigurationError, match="another host"):
        icd.url("https://evil.example/steal")


def test_path_segments_are_encoded():
    from explorer.session import Session

    assert Session.path("codeinfo", "2C25.Z&XK8G") == "/codeinfo/2C25.Z%26XK8G"
    assert Session.path("a/b", "100%") == "/a%2Fb/100%25"
    with pytest.raises(ValueError):
        Session.path("..")
