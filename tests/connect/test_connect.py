"""connect(): credentials from arguments, environment, .env; clear errors; redacted displays."""

from __future__ import annotations

import logging

import pytest
from werkzeug.wrappers import Request, Response

import explorer
from tests.keycloak import CLIENT_ID, SECRET
from tests.localserver import json_response


@pytest.mark.parametrize("api,names", [
    ("icd", ["ICD_CLIENT_ID", "ICD_CLIENT_SECRET"]),
    ("itcare", ["ITCARE_CLIENT_ID", "ITCARE_CLIENT_SECRET"]),
    ("jindexe", ["JINDEXE_API_KEY", "JINDEXE_BASE_URL"]),
])
def test_missing_credentials_name_the_variables(clean_env, api, names):
    with pytest.raises(explorer.ConfigurationError) as info:
        explorer.connect(api)
    for name in names:
        assert name in str(info.value)
    assert f"[{api}]" in str(info.value)


def test_only_the_missing_one_is_named(clean_env):
    clean_env.setenv("ICD_CLIENT_ID", "abc")
    with pytest.raises(explorer.ConfigurationError) as info:
        explorer.connect("icd")
    assert "ICD_CLIENT_SECRET" in str(info.value) and "ICD_CLIENT_ID " not in str(info.value)


def test_credentials_from_environment(clean_env, keycloak):
    clean_env.setenv("ITCARE_CLIENT_ID", CLIENT_ID)
    clean_env.setenv("ITCARE_CLIENT_SECRET", SECRET)
    itcare = explorer.connect("itcare", token_url=keycloak.url + "/token",
                              base_url=keycloak.url + "/api")
    assert itcare.get("/items")[0]["id"] == 1


def test_credentials_from_dotenv_file(clean_env, tmp_path, keycloak):
    (tmp_path / ".env").write_text(
        f"ITCARE_CLIENT_ID={CLIENT_ID}\nITCARE_CLIENT_SECRET='{SECRET}'\n")
    itcare = explorer.connect("itcare", token_url=keycloak.url + "/token",
                              base_url=keycloak.url + "/api")
    assert itcare.get("/items")
    clean_env.setenv("ITCARE_CLIENT_SECRET", "from-environment")  # environment wins
    with pytest.raises(explorer.AuthenticationError):
        explorer.connect("itcare", token_url=keycloak.url + "/token",
                         base_url=keycloak.url + "/api").get("/items")
    with pytest.raises(explorer.ConfigurationError, match="does not exist"):
        explorer.connect("itcare", env_file=tmp_path / "nope.env")


def test_blank_credentials_count_as_missing(clean_env):
    with pytest.raises(explorer.ConfigurationError, match="client_secret"):
        explorer.connect("icd", client_id="id", client_secret="   ")


def test_unknown_api_and_environment(clean_env):
    with pytest.raises(explorer.ConfigurationError, match="unknown API"):
        explorer.connect("nope")
    with pytest.raises(explorer.ConfigurationError, match="acceptance"):
        explorer.connect("gopacs", environment="staging")


def test_gopacs_environments_pick_their_hosts(clean_env):
    acc = explorer.connect("gopacs", environment="acceptance")
    prod = explorer.connect("gopacs", environment="production")
    assert acc.urls["base_url"] == "https://api.acc.gopacs-services.eu"
    assert prod.urls["idcons_url"] == "https://idcons.gopacs-services.eu"
    clean_env.setenv("GOPACS_ENVIRONMENT", "acceptance")
    assert explorer.connect("gopacs").environment == "acceptance"


def test_gopacs_token_call_without_credentials_says_what_to_set(clean_env):
    gopacs = explorer.connect("gopacs")
    with pytest.raises(explorer.ConfigurationError) as info:
        gopacs.get("/uftp-participants/v3/participants/x")
    assert "GOPACS_CLIENT_ID" in str(info.value) and "GOPACS_CLIENT_SECRET" in str(info.value)


def test_oidc_discovery_finds_the_token_endpoint(keycloak):
    @keycloak.route("GET", "/realms/x/.well-known/openid-configuration")
    def discovery(request: Request) -> Response:
        return json_response({"issuer": keycloak.url + "/realms/x",
                              "token_endpoint": keycloak.url + "/token"})

    other = explorer.connect(issuer=keycloak.url + "/realms/x", client_id=CLIENT_ID,
                             client_secret=SECRET, base_url=keycloak.url + "/api")
    assert other.get("/items")[0]["name"] == "a"


def test_oidc_discovery_failure_is_clear(server):
    other = explorer.connect(issuer=server.url + "/realms/none", client_id="a",
                             client_secret="b", base_url=server.url)
    with pytest.raises(explorer.ConfigurationError, match="no token_endpoint"):
        other.get("/x")


def test_no_auth_mode_sends_no_authorization(server):
    @server.route("GET", "/icd/entity")
    def entity(request: Request) -> Response:
        return json_response({"auth": request.headers.get("Authorization"),
                              "lang": request.headers.get("Accept-Language"),
                              "version": request.headers.get("API-Version")})

    icd = explorer.connect("icd", base_url=server.url, auth=None, language="fr")
    assert icd.get("/icd/entity") == {"auth": None, "lang": "fr", "version": "v2"}
    assert icd.token is None


def test_reprs_logs_and_errors_hold_no_secret(keycloak, caplog):
    caplog.set_level(logging.DEBUG)
    session = explorer.connect(token_url=keycloak.url + "/token", client_id=CLIENT_ID,
                               client_secret=SECRET, base_url=keycloak.url + "/api")
    session.get("/items")
    token = session.token
    shown = [repr(session), str(session), session._repr_html_(), repr(token), str(token),
             token._repr_html_(), repr(session.flow), repr(session.flow.endpoint.client_auth),
             caplog.text]
    for text in shown:
        assert SECRET not in text
        assert token.access_token not in text
        assert token.refresh_token not in text
    assert token.status()["expires_in"] > 0 and token.status()["type"] == "Bearer"
