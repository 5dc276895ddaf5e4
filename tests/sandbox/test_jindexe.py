"""Jindexe emulator: API key, user token, establishments, pro routes."""

from __future__ import annotations

import time

import pytest
import requests
from sandbox_helpers import bearer, jindexe_token

ESTABLISHMENT_KEYS = {"id", "name", "slug", "description", "address", "location", "phone",
                      "email", "website", "categories", "openingHours", "pictures",
                      "createdAt", "updatedAt"}


@pytest.fixture(scope="module")
def jx(sb):
    c = sb.credentials("jindexe")
    return c, {"X-API-KEY": c["api_key"]}


def test_health_needs_nothing_and_tolerates_auth(sb, jx):
    c, key = jx
    assert requests.get(c["base_url"] + "/ext/health").json() == {"status": "ok"}
    headers = {**key, **bearer(jindexe_token(sb))}
    assert requests.get(c["base_url"] + "/ext/health", headers=headers).status_code == 200
    r = requests.get(c["base_url"] + "/public/establishments", headers=headers)
    assert r.status_code == 200


def test_api_key_required(jx):
    c, _ = jx
    for headers in ({}, {"X-API-KEY": "wrong"}):
        r = requests.get(c["base_url"] + "/public/establishments", headers=headers)
        assert r.status_code == 401 and r.json()["error"] == "invalid_api_key"


def test_establishments_listing_and_paging(jx):
    c, key = jx
    url = c["base_url"] + "/public/establishments"
    page = requests.get(url, headers=key).json()
    assert set(page) == {"items", "page", "limit", "total"}
    assert (page["page"], page["limit"], page["total"], len(page["items"])) == (1, 20, 300, 20)
    item = page["items"][0]
    assert set(item) == ESTABLISHMENT_KEYS
    assert set(item["address"]) == {"street", "postalCode", "city", "country"}
    assert item["createdAt"][-5] in "+-"
    last = requests.get(url, headers=key, params={"page": 7, "limit": 45}).json()
    assert len(last["items"]) == 300 - 6 * 45
    assert requests.get(url, headers=key, params={"page": 4, "limit": 100}).json()["items"] == []
    assert requests.get(url, headers=key, params={"limit": 500}).json()["limit"] == 100
    assert requests.get(url, headers=key, params={"page": 0}).status_code == 400
    assert requests.get(url, headers=key, params={"limit": "x"}).json()["error"] == \
        "invalid_request"


def test_establishment_filters(jx):
    c, key = jx
    url = c["base_url"] + "/public/establishments"
    boul = requests.get(url, headers=key, params={"category": "boulangerie", "limit": 100}).json()
    assert boul["total"] > 0 and all("boulangerie" in e["categories"] for e in boul["items"])
    city = requests.get(url, headers=key, params={"city": "saint-etienne", "limit": 100}).json()
    assert city["total"] > 0 and {e["address"]["city"] for e in city["items"]} == {
        "Saint-Étienne"}
    q = requests.get(url, headers=key, params={"q": "cafe", "limit": 100}).json()
    assert q["total"] > 0 and all("caf" in e["name"].lower() or "caf" in e["description"].lower()
                                  for e in q["items"])
    none = requests.get(url, headers=key, params={"q": "zzzz", "city": "Paris"}).json()
    assert none == {"items": [], "page": 1, "limit": 20, "total": 0}


def test_establishment_detail(jx):
    c, key = jx
    e = requests.get(c["base_url"] + "/public/establishments/42", headers=key).json()
    assert e["id"] == 42 and set(e) == ESTABLISHMENT_KEYS
    r = requests.get(c["base_url"] + "/public/establishments/999", headers=key)
    assert r.status_code == 404 and r.json()["error"] == "not_found"


def test_user_and_pro_routes(sb, jx):
    c, key = jx
    me_url = c["base_url"] + "/user/me"
    r = requests.get(me_url, headers=key)
    assert (r.status_code, r.json()) == (401, {
        "error": "access_denied", "error_description": "OAuth2 authentication required"})
    r = requests.get(me_url, headers={**key, "Authorization": "Bearer nope"})
    assert r.status_code == 401 and r.json() == {
        "error": "invalid_grant", "error_description": "The access token provided is invalid."}
    headers = {**key, **bearer(jindexe_token(sb))}
    me = requests.get(me_url, headers=headers).json()
    assert me["email"] == c["username"] and len(me["establishments"]) == 5
    managed = me["establishments"][0]["id"]
    fiche = requests.get(f"{c['base_url']}/pro/establishments/{managed}", headers=headers).json()
    assert fiche["id"] == managed and fiche["role"] in ("owner", "manager")
    others = set(range(1, 301)) - {e["id"] for e in me["establishments"]}
    r = requests.get(f"{c['base_url']}/pro/establishments/{min(others)}", headers=headers)
    assert r.status_code == 403 and r.json()["error"] == "insufficient_scope"
    posts = requests.get(f"{c['base_url']}/pro/establishments/{managed}/posts",
                         headers=headers, params={"limit": 5}).json()
    assert set(posts) == {"items", "page", "limit", "total"}
    for p in posts["items"]:
        assert p["establishmentId"] == managed and "publishedAt" in p
    r = requests.get(me_url, headers=key, params={
        "access_token": headers["Authorization"].split()[1]})
    assert r.status_code == 200


def test_expired_token(fresh):
    c = fresh.credentials("jindexe")
    fresh.token_lifetime = 0.5
    tok = jindexe_token(fresh)
    assert tok["expires_in"] == 0
    time.sleep(0.6)
    r = requests.get(c["base_url"] + "/user/me",
                     headers={"X-API-KEY": c["api_key"], **bearer(tok)})
    assert r.status_code == 401 and r.json() == {
        "error": "invalid_grant", "error_description": "The access token provided has expired."}
    assert 'error="invalid_grant"' in r.headers["WWW-Authenticate"]
    assert fresh.expired_token_hits() == 1
