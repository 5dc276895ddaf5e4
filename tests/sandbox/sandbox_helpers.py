"""Helpers of the sandbox tests (token requests over real sockets)."""

from __future__ import annotations

from urllib.parse import quote

import requests

from explorer import sandbox


def basic(client_id: str, secret: str) -> tuple[str, str]:
    """RFC 6749 2.3.1: form-urlencode each half; requests then base64-encodes them."""
    return quote(client_id, safe=""), quote(secret, safe="")


def keycloak_token(s: sandbox.Sandbox, api: str = "itcare", **kw: str) -> dict:
    c = s.credentials(api, **kw)
    r = requests.post(c["token_url"], auth=basic(c["client_id"], c["client_secret"]),
                      data={"grant_type": "client_credentials"}, timeout=10)
    assert r.status_code == 200, r.text
    return r.json()


def icd_token(s: sandbox.Sandbox) -> dict:
    c = s.credentials("icd")
    r = requests.post(c["token_url"], auth=basic(c["client_id"], c["client_secret"]),
                      data={"grant_type": "client_credentials", "scope": "icdapi_access"},
                      timeout=10)
    assert r.status_code == 200, r.text
    return r.json()


def jindexe_token(s: sandbox.Sandbox) -> dict:
    c = s.credentials("jindexe")
    r = requests.post(c["base_url"] + "/public/token", headers={"X-API-KEY": c["api_key"]},
                      json={"grant_type": "password", "username": c["username"],
                            "password": c["password"]}, timeout=10)
    assert r.status_code == 200, r.text
    return r.json()


def bearer(token: dict) -> dict[str, str]:
    return {"Authorization": "Bearer " + token["access_token"]}
