"""The token-lifecycle rules of issue 2 again, against the sandbox's real token servers:
Keycloak (ITCare realm ``cloud``, GOPACS realm ``gopacs``), WHO's IdentityServer and Jindexe's
JSON password grant."""

from __future__ import annotations

import time

import pytest

import explorer
from explorer import sandbox
from tests.localserver import at_once

# api → (a call that needs the token, grant the session starts with)
CALLS = {
    "icd": (lambda s: s.get("/icd/entity"), "client_credentials"),
    "itcare": (lambda s: s.get("/compute/environments"), "client_credentials"),
    "gopacs": (lambda s: s.participant("dso.liander.nl"), "client_credentials"),
    "jindexe": (lambda s: s.get("/user/me"), "password"),
}


@pytest.fixture
def sb():
    with sandbox.start() as box:
        yield box


def connect(sb, api, **kwargs):
    if api == "icd":
        kwargs.setdefault("cache", False)  # every call must reach the server here
    return explorer.connect(api, **sb.credentials(api), **kwargs)


@pytest.mark.parametrize("api", sorted(CALLS))
def test_lazy_fetch_then_reuse(sb, api):
    call, grant = CALLS[api]
    session = connect(sb, api)
    assert sb.token_requests() == 0  # rule 1: nothing at connect
    for _ in range(5):
        call(session)
    assert sb.token_requests() == 1 and sb.token_requests(grant_type=grant) == 1


@pytest.mark.parametrize("api", ["itcare", "jindexe"])
def test_refresh_at_expiry_then_fallback_when_refused(sb, api):
    call, grant = CALLS[api]
    sb.token_lifetime = 1
    session = connect(sb, api, leeway=0)
    call(session)
    time.sleep(1.1)
    call(session)  # rule 2: the refresh token, not a new grant
    assert sb.token_requests(grant_type="refresh_token") == 1
    sb.revoke_refresh_tokens()
    time.sleep(1.1)
    call(session)  # refused refresh → the original grant
    assert sb.token_requests(grant_type=grant) == 2


def test_jindexe_rotated_refresh_token_replaces_the_old_one(sb):
    call, _ = CALLS["jindexe"]
    sb.token_lifetime = 1
    session = connect(sb, "jindexe", leeway=0)
    call(session)
    for _ in range(3):
        time.sleep(1.1)
        call(session)
    # each refresh used the newest refresh token: an old one would have been refused,
    # forcing a second password grant
    assert sb.token_requests(grant_type="refresh_token") == 3
    assert sb.token_requests(grant_type="password") == 1


@pytest.mark.parametrize("api", sorted(CALLS))
def test_401_renews_and_retries_once(sb, api):
    call, _ = CALLS[api]
    session = connect(sb, api)
    call(session)
    sb.expire_tokens()  # the server now refuses the token the client still trusts
    call(session)  # rule 3: 401 → renew → retried
    assert sb.expired_token_hits() == 1
    assert sb.token_requests() == 2


@pytest.mark.parametrize("api", sorted(CALLS))
def test_sixteen_threads_one_token_request(sb, api):
    call, _ = CALLS[api]
    sb.latency = 0.05  # the token request takes long enough for every thread to wait on it
    session = connect(sb, api)
    assert at_once(16, lambda: call(session)) == []
    assert sb.token_requests() == 1  # rule 4


@pytest.mark.parametrize("api,status,error", [
    ("itcare", 401, "invalid_client"),    # Keycloak
    ("gopacs", 401, "invalid_client"),    # Keycloak, id/secret in the body
    ("icd", 400, "invalid_client"),       # IdentityServer: always 400
    ("jindexe", 400, "invalid_grant"),    # FOS-style
])
def test_token_endpoint_refusals_in_the_servers_words(sb, api, status, error):
    call, _ = CALLS[api]
    bad = "not-the-right-one"
    wrong = {"password": bad} if api == "jindexe" else {"client_secret": bad}
    session = explorer.connect(api, **{**sb.credentials(api), **wrong},
                               **({"cache": False} if api == "icd" else {}))
    with pytest.raises(explorer.AuthenticationError) as info:
        call(session)
    err = info.value
    assert (err.status, err.error) == (status, error)  # rule 5
    assert f"[{api}]" in str(err) and err.url and err.url in str(err)
    assert bad not in str(err) + repr(err)


def test_icd_secret_with_reserved_characters_works_over_basic(sb):
    secret = sb.credentials("icd")["client_secret"]
    assert all(c in secret for c in "+%:")  # rule 6: only works when form-urlencoded
    assert connect(sb, "icd").token.scope == "icdapi_access"
