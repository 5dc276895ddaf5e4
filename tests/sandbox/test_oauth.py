"""Token servers: success shapes, client authentication, errors, discovery, JWKS, expiry."""

from __future__ import annotations

import base64
import json
import time
import uuid

import pytest
import requests
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from sandbox_helpers import basic, bearer, icd_token, jindexe_token, keycloak_token

KEYCLOAK_KEYS = {"access_token", "expires_in", "refresh_expires_in", "refresh_token",
                 "token_type", "not-before-policy", "session_state", "scope"}
ITCARE_SEED_KEYS = {"access_token", "expires_in", "refresh_expires_in", "refresh_token",
                    "token_type"}
FORM = {"grant_type": "client_credentials"}


def _b64d(part: str) -> bytes:
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))


def _claims(jwt: str) -> dict:
    return json.loads(_b64d(jwt.split(".")[1]))


# -- success shapes ---------------------------------------------------------------------
def test_itcare_token_shape(sb):
    tok = keycloak_token(sb)
    assert set(tok) == KEYCLOAK_KEYS and set(tok) >= ITCARE_SEED_KEYS
    assert (tok["expires_in"], tok["refresh_expires_in"], tok["token_type"]) == (1200, 7200,
                                                                                 "bearer")
    claims = _claims(tok["access_token"])
    assert {"exp", "iat", "iss", "azp", "scope", "jti"} <= set(claims)
    assert claims["azp"] == sb.credentials("itcare")["client_id"]
    assert claims["exp"] - claims["iat"] == 1200


@pytest.mark.parametrize("env", ["acceptance", "production"])
def test_gopacs_token_form_body(sb, env):
    c = sb.credentials("gopacs", environment=env)
    host = "auth.acc.gopacs-services.eu" if env == "acceptance" else "auth.gopacs-services.eu"
    assert c["token_url"] == f"{sb.url}/{host}/realms/gopacs/protocol/openid-connect/token"
    r = requests.post(c["token_url"], data={"client_id": c["client_id"],
                                            "client_secret": c["client_secret"], **FORM})
    tok = r.json()
    assert r.status_code == 200 and set(tok) == KEYCLOAK_KEYS
    assert (tok["expires_in"], tok["refresh_expires_in"], tok["not-before-policy"]) == (300,
                                                                                       1800, 0)
    uuid.UUID(tok["session_state"])
    assert r.headers["Cache-Control"].startswith("no-store")


def test_icd_token_shape(sb):
    tok = icd_token(sb)
    assert set(tok) == {"access_token", "expires_in", "token_type", "scope"}
    assert (tok["expires_in"], tok["token_type"], tok["scope"]) == (3600, "Bearer",
                                                                   "icdapi_access")
    claims = _claims(tok["access_token"])
    assert claims["client_id"] == sb.credentials("icd")["client_id"]
    assert {"exp", "iat", "iss", "scope", "jti"} <= set(claims)


def test_icd_secret_needs_form_urlencoding(sb):
    c = sb.credentials("icd")
    secret = c["client_secret"]
    assert all(ch in secret for ch in "+%:")
    assert "_" in c["client_id"] and len(c["client_id"]) == 73
    data = {**FORM, "scope": "icdapi_access"}
    ok = requests.post(c["token_url"], auth=basic(c["client_id"], secret), data=data)
    assert ok.status_code == 200
    raw = requests.post(c["token_url"], auth=(c["client_id"], secret), data=data)
    assert (raw.status_code, raw.json()) == (400, {"error": "invalid_client"})
    body = requests.post(c["token_url"], data={**data, "client_id": c["client_id"],
                                               "client_secret": secret})
    assert body.status_code == 200


def test_custom_client_non_ascii(fresh):
    secret = "pässwörd+%:/é"
    fresh.add_client("icd", "mon-client", secret)
    c = fresh.credentials("icd")
    r = requests.post(c["token_url"], auth=basic("mon-client", secret),
                      data={**FORM, "scope": "icdapi_access"})
    assert r.status_code == 200
    fresh.add_client("itcare", "client:é", secret)
    r = requests.post(fresh.credentials("itcare")["token_url"],
                      auth=basic("client:é", secret), data=FORM)
    assert r.status_code == 200


# -- errors ------------------------------------------------------------------------------
def test_keycloak_errors(sb):
    c = sb.credentials("itcare")
    url, auth = c["token_url"], (c["client_id"], c["client_secret"])
    r = requests.post(url, auth=(c["client_id"], "wrong"), data=FORM)
    assert (r.status_code, r.json()) == (401, {
        "error": "invalid_client",
        "error_description": "Invalid client or Invalid client credentials"})
    r = requests.post(url, data=FORM)
    assert r.status_code == 401 and r.json()["error"] == "invalid_client"
    r = requests.post(url, auth=auth, data={"grant_type": "password"})
    assert (r.status_code, r.json()["error"]) == (400, "unsupported_grant_type")
    r = requests.post(url, auth=auth, data={})
    assert (r.status_code, r.json()["error"]) == (400, "invalid_request")
    r = requests.post(url, auth=auth, data={"grant_type": "refresh_token",
                                            "refresh_token": "nope"})
    assert (r.status_code, r.json()) == (400, {"error": "invalid_grant",
                                               "error_description": "Invalid refresh token"})
    assert requests.get(url).status_code == 405


def test_gopacs_doc_typo_path_is_not_served(sb):
    c = sb.credentials("gopacs")
    typo = c["token_url"].replace("/realms/", "/realm/")
    r = requests.post(typo, data={"client_id": c["client_id"],
                                  "client_secret": c["client_secret"], **FORM})
    assert r.status_code == 404


def test_identityserver_errors(sb):
    c = sb.credentials("icd")
    url, auth = c["token_url"], basic(c["client_id"], c["client_secret"])

    def post(**kw):
        r = requests.post(url, **kw)
        assert r.status_code == 400
        return r.json()

    assert post(auth=(c["client_id"], "bad"), data=FORM) == {"error": "invalid_client"}
    assert post(data=FORM) == {"error": "invalid_client"}
    assert post(auth=auth, json={**FORM, "scope": "icdapi_access"}) == {"error": "invalid_request"}
    assert post(auth=auth, data={"scope": "icdapi_access"}) == {"error": "invalid_request"}
    assert post(auth=auth, data={"grant_type": "password"}) == {"error": "unsupported_grant_type"}
    assert post(auth=auth, data={**FORM, "scope": "other"}) == {"error": "invalid_scope"}
    assert requests.post(url, auth=auth, data=FORM).json()["scope"] == "icdapi_access"
    assert requests.get(url).status_code == 405


def test_jindexe_token_and_errors(fresh):
    c = fresh.credentials("jindexe")
    url, key = c["base_url"] + "/public/token", {"X-API-KEY": c["api_key"]}
    tok = jindexe_token(fresh)
    assert set(tok) == {"access_token", "expires_in", "token_type", "scope", "refresh_token"}
    assert (tok["expires_in"], tok["token_type"], tok["scope"]) == (86400, "bearer", "user")
    assert len(_b64d(tok["access_token"])) == 64
    int(_b64d(tok["access_token"]), 16)

    def err(body, headers=key):
        r = requests.post(url, json=body, headers=headers)
        return r.status_code, r.json()

    assert err({"grant_type": "password", "username": c["username"], "password": "x"}) == (
        400, {"error": "invalid_grant",
              "error_description": "Invalid username and password combination"})
    assert err({"grant_type": "password", "username": c["username"]}) == (400, {
        "error": "invalid_request",
        "error_description": 'Missing parameters. "username" and "password" required'})
    assert err({"grant_type": "client_credentials"})[1]["error"] == "invalid_request"
    assert err({})[1]["error_description"] == "Invalid grant_type parameter or parameter missing"
    assert err({"grant_type": "refresh_token", "refresh_token": "x"}) == (400, {
        "error": "invalid_grant", "error_description": "Invalid refresh token"})
    status, body = err({"grant_type": "password"}, headers={})
    assert status == 401 and body["error"] == "invalid_api_key"
    status, body = err({"grant_type": "password"}, headers={"X-API-KEY": "nope"})
    assert status == 401 and body["error"] == "invalid_api_key"


def test_jindexe_refresh_rotation_and_expiry(fresh):
    c = fresh.credentials("jindexe")
    url, key = c["base_url"] + "/public/token", {"X-API-KEY": c["api_key"]}
    first = jindexe_token(fresh)
    r = requests.post(url, headers=key, json={"grant_type": "refresh_token",
                                              "refresh_token": first["refresh_token"]})
    second = r.json()
    assert r.status_code == 200 and second["refresh_token"] != first["refresh_token"]
    assert fresh.token_requests(grant_type="refresh_token") == 1
    r = requests.post(url, headers=key, json={"grant_type": "refresh_token",
                                              "refresh_token": first["refresh_token"]})
    assert r.json()["error_description"] == "Invalid refresh token"
    fresh.refresh_token_lifetime = 0.5
    short = jindexe_token(fresh)
    time.sleep(0.6)
    r = requests.post(url, headers=key, json={"grant_type": "refresh_token",
                                              "refresh_token": short["refresh_token"]})
    assert r.json() == {"error": "invalid_grant", "error_description": "Refresh token has expired"}
    fresh.revoke_refresh_tokens()
    r = requests.post(url, headers=key, json={"grant_type": "refresh_token",
                                              "refresh_token": second["refresh_token"]})
    assert r.json()["error"] == "invalid_grant"


def test_keycloak_refresh_no_rotation_revoke_and_expiry(fresh):
    c = fresh.credentials("itcare")
    url, auth = c["token_url"], (c["client_id"], c["client_secret"])
    tok = keycloak_token(fresh)
    data = {"grant_type": "refresh_token", "refresh_token": tok["refresh_token"]}
    r1 = requests.post(url, auth=auth, data=data)
    assert r1.status_code == 200 and r1.json()["access_token"] != tok["access_token"]
    assert set(r1.json()) == KEYCLOAK_KEYS
    assert requests.post(url, auth=auth, data=data).status_code == 200  # old one still valid
    other = fresh.credentials("gopacs")
    r = requests.post(other["token_url"], data={**data, "client_id": other["client_id"],
                                                "client_secret": other["client_secret"]})
    assert r.json()["error"] == "invalid_grant"  # another realm's refresh token
    fresh.revoke_refresh_tokens()
    r = requests.post(url, auth=auth, data=data)
    assert (r.status_code, r.json()["error"]) == (400, "invalid_grant")
    fresh.refresh_token_lifetime = 0.5
    tok = keycloak_token(fresh)
    assert tok["refresh_expires_in"] == 0
    time.sleep(0.6)
    r = requests.post(url, auth=auth, data={"grant_type": "refresh_token",
                                            "refresh_token": tok["refresh_token"]})
    assert r.json() == {"error": "invalid_grant", "error_description": "Token is not active"}


# -- discovery + JWKS --------------------------------------------------------------------
@pytest.mark.parametrize("api,discovery", [
    ("itcare", "/accounts.cegedim.cloud/auth/realms/cloud/.well-known/openid-configuration"),
    ("gopacs", "/auth.acc.gopacs-services.eu/realms/gopacs/.well-known/openid-configuration"),
    ("icd", "/icdaccessmanagement.who.int/.well-known/openid-configuration"),
])
def test_discovery_and_jwks_verify_signature(sb, api, discovery):
    doc = requests.get(sb.url + discovery).json()
    assert doc["token_endpoint"] == sb.credentials(api)["token_url"]
    assert doc["issuer"].startswith(sb.url + "/")
    assert "client_credentials" in doc["grant_types_supported"]
    assert "client_secret_basic" in doc["token_endpoint_auth_methods_supported"]
    tok = icd_token(sb) if api == "icd" else keycloak_token(sb, api)
    jwt = tok["access_token"]
    header = json.loads(_b64d(jwt.split(".")[0]))
    assert header["alg"] == "RS256"
    keys = requests.get(doc["jwks_uri"]).json()["keys"]
    jwk = next(k for k in keys if k["kid"] == header["kid"])
    pub = rsa.RSAPublicNumbers(int.from_bytes(_b64d(jwk["e"]), "big"),
                               int.from_bytes(_b64d(jwk["n"]), "big")).public_key()
    signing_input, _, sig = jwt.rpartition(".")
    pub.verify(_b64d(sig), signing_input.encode(), padding.PKCS1v15(), hashes.SHA256())
    assert _claims(jwt)["iss"] == doc["issuer"]


# -- bearer validation, expiry -----------------------------------------------------------
def test_expiry_gives_401_invalid_token_and_counts(fresh):
    fresh.token_lifetime = 1
    tok = keycloak_token(fresh)
    assert tok["expires_in"] == 1
    url = fresh.credentials("itcare")["base_url"] + "/compute/environments"
    assert requests.get(url, headers=bearer(tok)).status_code == 200
    time.sleep(1.1)
    r = requests.get(url, headers=bearer(tok))
    assert r.status_code == 401 and r.content == b""
    assert r.headers["WWW-Authenticate"] == 'Bearer error="invalid_token"'
    assert fresh.expired_token_hits() == 1


def test_expire_tokens_missing_and_foreign_tokens(fresh):
    url = fresh.credentials("itcare")["base_url"] + "/compute/environments"
    r = requests.get(url)
    assert r.status_code == 401 and r.headers["WWW-Authenticate"] == "Bearer"
    r = requests.get(url, headers={"Authorization": "Bearer garbage"})
    assert r.headers["WWW-Authenticate"] == 'Bearer error="invalid_token"'
    gop = keycloak_token(fresh, "gopacs")
    assert requests.get(url, headers=bearer(gop)).status_code == 401
    assert fresh.expired_token_hits() == 0
    tok = keycloak_token(fresh)
    assert requests.get(url, headers=bearer(tok)).status_code == 200
    fresh.expire_tokens()
    assert requests.get(url, headers=bearer(tok)).status_code == 401
    assert fresh.expired_token_hits() == 1
    assert requests.get(url, headers=bearer(keycloak_token(fresh))).status_code == 200


def test_token_request_counters(fresh):
    keycloak_token(fresh)
    icd_token(fresh)
    c = fresh.credentials("itcare")
    requests.post(c["token_url"], auth=(c["client_id"], "wrong"), data=FORM)
    assert fresh.token_requests() == 3
    assert fresh.token_requests(client_id=c["client_id"]) == 2
    assert fresh.token_requests(client_id=fresh.credentials("icd")["client_id"]) == 1
    assert fresh.token_requests(grant_type="refresh_token") == 0
