"""The six token-lifecycle rules of issue 2, each over real sockets."""

from __future__ import annotations

import time

import pytest
from werkzeug.wrappers import Request, Response

import explorer
from tests.keycloak import CLIENT_ID, SECRET, connect_kc
from tests.localserver import at_once, json_response


def grants(server) -> list[str]:
    from urllib.parse import parse_qs

    out = []
    for seen in server.seen:
        if seen.path == "/token":
            out.append(parse_qs(seen.body.decode()).get("grant_type", ["?"])[0])
    return out


# Rule 1 ---------------------------------------------------------------------------------------
def test_token_is_fetched_lazily_and_reused(keycloak):
    session = connect_kc(keycloak)
    assert keycloak.count("/token") == 0  # connect makes no request
    for _ in range(5):
        assert session.get("/items")[0]["id"] == 1
    assert keycloak.count("/token") == 1
    assert session.token.expires_in == pytest.approx(60, abs=2)


def test_token_renewed_within_leeway_of_expiry(keycloak):
    keycloak.issuer.lifetime = 100
    session = connect_kc(keycloak, leeway=99.5)  # capped at half the lifetime: renew after 50 s
    session.get("/items")
    first = session.flow.current
    first.expires_at = time.time() + 49  # now inside the (capped) leeway
    session.get("/items")
    assert session.flow.current is not first
    assert grants(keycloak) == ["client_credentials", "refresh_token"]


def test_leeway_zero_uses_token_until_expiry(keycloak):
    keycloak.issuer.lifetime = 1.0
    session = connect_kc(keycloak, leeway=0)
    session.get("/items")
    token = session.flow.current
    time.sleep(0.5)
    session.get("/items")
    assert session.flow.current is token  # still valid, not renewed early
    with pytest.raises(ValueError):
        connect_kc(keycloak, leeway=-1)


def test_expiry_from_jwt_exp_when_expires_in_absent(server):
    from tests.localserver import fake_jwt

    exp = int(time.time()) + 1234

    @server.route("POST", "/token")
    def token(request: Request) -> Response:
        return json_response({"access_token": fake_jwt({"exp": exp}), "token_type": "Bearer"})

    session = connect_kc(server)
    assert session.token.expires_at == exp
    assert session.token.expiry_source == "jwt exp"


def test_conservative_default_when_no_expiry_at_all(server):
    @server.route("POST", "/token")
    def token(request: Request) -> Response:
        return json_response({"access_token": "opaque-token-value-123", "token_type": "bearer"})

    session = connect_kc(server)
    assert 0 < session.token.expires_in <= 300  # never "forever"
    assert session.token.expiry_source == "default"


# Rule 2 ---------------------------------------------------------------------------------------
def test_refresh_token_used_at_expiry_and_rotation_followed(keycloak):
    keycloak.issuer.lifetime = 1.0
    session = connect_kc(keycloak, leeway=0)
    session.get("/items")
    first_refresh = session.flow.current.refresh_token
    time.sleep(1.05)
    session.get("/items")
    second_refresh = session.flow.current.refresh_token
    assert second_refresh != first_refresh  # the rotated one replaced the old
    time.sleep(1.05)
    session.get("/items")  # uses the rotated token (the old one is gone on the server)
    assert grants(keycloak) == ["client_credentials", "refresh_token", "refresh_token"]


def test_refused_refresh_falls_back_to_the_original_grant(keycloak):
    keycloak.issuer.lifetime = 1.0
    session = connect_kc(keycloak, leeway=0)
    session.get("/items")
    keycloak.issuer.refresh.clear()  # revoked server-side
    time.sleep(1.05)
    assert session.get("/items")
    assert grants(keycloak) == ["client_credentials", "refresh_token", "client_credentials"]


def test_no_refresh_token_means_a_new_grant(server, keycloak):
    keycloak.issuer.lifetime = 1.0
    original = keycloak.routes[("POST", "/token")]

    @keycloak.route("POST", "/token")
    def token(request: Request) -> Response:
        if request.form.get("grant_type") == "client_credentials":
            return json_response(keycloak.issuer.issue(with_refresh=False))
        return original(request)

    session = connect_kc(keycloak, leeway=0)
    session.get("/items")
    time.sleep(1.05)
    session.get("/items")
    assert grants(keycloak) == ["client_credentials", "client_credentials"]


# Rule 3 ---------------------------------------------------------------------------------------
def test_401_renews_once_and_retries_once(keycloak):
    session = connect_kc(keycloak)
    session.get("/items")
    keycloak.issuer.valid.clear()  # the server forgets every token (e.g. a restart)
    assert session.get("/items")[1]["name"] == "b"
    assert keycloak.count("/api/items") == 3  # ok, 401, retried ok
    assert keycloak.count("/token") == 2


def test_second_401_raises_authentication_error(keycloak):
    @keycloak.route("GET", "/api/always401")
    def always(request: Request) -> Response:
        return Response(status=401)

    session = connect_kc(keycloak)
    with pytest.raises(explorer.AuthenticationError) as info:
        session.get("/always401")
    assert keycloak.count("/api/always401") == 2
    assert info.value.status == 401 and "[oauth2]" in str(info.value)
    assert SECRET not in str(info.value)


def test_non_replayable_body_is_not_retried(keycloak):
    @keycloak.route("POST", "/api/upload")
    def upload(request: Request) -> Response:
        return Response(status=401)

    session = connect_kc(keycloak)
    session.get("/items")

    def body():
        yield b"chunk"

    with pytest.raises(explorer.AuthenticationError, match="cannot be sent twice"):
        session.request("POST", "/upload", data=body())
    assert keycloak.count("/api/upload") == 1


# Rule 4 ---------------------------------------------------------------------------------------
def _slow_token_endpoint(keycloak):
    original = keycloak.routes[("POST", "/token")]

    @keycloak.route("POST", "/token")
    def slow(request: Request) -> Response:
        time.sleep(0.2)  # let every thread meet the expired token
        return original(request)


def test_sixteen_threads_cause_one_token_request(keycloak):
    _slow_token_endpoint(keycloak)
    session = connect_kc(keycloak)
    assert at_once(16, lambda: session.get("/items")) == []
    assert keycloak.count("/token") == 1


def test_sixteen_threads_seeing_401_cause_one_renewal(keycloak):
    session = connect_kc(keycloak)
    session.get("/items")
    _slow_token_endpoint(keycloak)
    keycloak.issuer.valid.clear()
    assert at_once(16, lambda: session.get("/items")) == []
    assert keycloak.count("/token") == 2  # the first grant + one renewal


# Rule 5 ---------------------------------------------------------------------------------------
def test_keycloak_invalid_client_is_reported_in_its_own_words(keycloak):
    session = connect_kc(keycloak, client_secret="wrong-secret-value")
    with pytest.raises(explorer.AuthenticationError) as info:
        session.get("/items")
    err = info.value
    assert (err.status, err.error) == (401, "invalid_client")
    assert err.error_description == "Invalid client or Invalid client credentials"
    text = str(err)
    assert "[oauth2]" in text and keycloak.url + "/token" in text
    assert "check the client id and secret" in text
    assert "wrong-secret-value" not in text and "wrong-secret-value" not in repr(err)


def test_identityserver_style_400_invalid_client(server):
    @server.route("POST", "/connect/token")
    def token(request: Request) -> Response:
        return json_response({"error": "invalid_client"}, 400)

    import explorer

    icd = explorer.connect("icd", client_id="x", client_secret="bad-secret-1234",
                           token_url=server.url + "/connect/token", base_url=server.url)
    with pytest.raises(explorer.AuthenticationError) as info:
        icd.get("/icd/entity")
    assert (info.value.status, info.value.error) == (400, "invalid_client")
    assert "[icd]" in str(info.value) and "ICD_CLIENT_SECRET" in str(info.value)
    assert "bad-secret-1234" not in str(info.value)


def test_jindexe_json_password_grant_and_invalid_grant(server):
    seen = {}

    @server.route("POST", "/public/token")
    def token(request: Request) -> Response:
        seen["content_type"] = request.content_type
        seen["key"] = request.headers.get("X-API-KEY")
        body = request.get_json()
        if body == {"grant_type": "password", "username": "u@example.org",
                    "password": "right-password"}:
            return json_response({"access_token": "a" * 40, "expires_in": 86400,
                                  "token_type": "bearer", "scope": "user",
                                  "refresh_token": "r" * 40})
        return json_response({"error": "invalid_grant", "error_description":
                              "Invalid username and password combination"}, 400)

    @server.route("GET", "/user/me")
    def me(request: Request) -> Response:
        ok = request.headers.get("Authorization") == "Bearer " + "a" * 40
        return json_response({"id": 7}) if ok else Response(status=401)

    jx = explorer.connect("jindexe", api_key="key-123456", username="u@example.org",
                          password="right-password", base_url=server.url)
    assert jx.get("/user/me") == {"id": 7}
    assert seen == {"content_type": "application/json", "key": "key-123456"}
    bad = explorer.connect("jindexe", api_key="key-123456", username="u@example.org",
                           password="wrong-password", base_url=server.url)
    with pytest.raises(explorer.AuthenticationError) as info:
        bad.get("/user/me")
    assert (info.value.status, info.value.error) == (400, "invalid_grant")
    assert "Invalid username and password combination" in str(info.value)
    assert "wrong-password" not in str(info.value)


# Rule 6 ---------------------------------------------------------------------------------------
def test_basic_credentials_are_form_urlencoded(keycloak):
    assert any(c in SECRET for c in "+%:") and not SECRET.isascii()
    session = connect_kc(keycloak)
    assert session.get("/items")
    sent = next(s for s in keycloak.seen if s.path == "/token").headers["Authorization"]
    import base64

    raw = base64.b64decode(sent[6:]).decode()
    assert "%2B" in raw and "%25" in raw and "%3A" in raw  # + % : encoded before base64


def test_basic_encoding_is_switchable(keycloak):
    session = connect_kc(keycloak, basic_encoding=False)
    with pytest.raises(explorer.AuthenticationError):  # a decoding server turns '+' into ' '
        session.get("/items")
    sent = next(s for s in keycloak.seen if s.path == "/token").headers["Authorization"]
    import base64

    assert base64.b64decode(sent[6:]).decode() == f"{CLIENT_ID}:{SECRET}"


def test_client_secret_post_sends_credentials_in_the_body(keycloak):
    session = connect_kc(keycloak, auth_method="client_secret_post")
    assert session.get("/items")
    seen = next(s for s in keycloak.seen if s.path == "/token")
    assert "Authorization" not in seen.headers
    assert b"client_id=client-id" in seen.body
