"""Cross-origin use of the ICD mounts (what WHO's Embedded Classification Tool needs):
CORS on every answer, preflights, the ``API-Version`` response header, client analytics."""

from __future__ import annotations

import json
from urllib.parse import quote_plus

import pytest
import requests

from explorer import sandbox

H = {"Accept": "application/json", "API-Version": "v2", "Accept-Language": "en"}
ORIGIN = "http://127.0.0.1:9"


@pytest.fixture(scope="module")
def box():
    with sandbox.start() as sb:
        creds = sb.credentials("icd")
        r = requests.post(creds["token_url"],
                          auth=(quote_plus(creds["client_id"]),
                                quote_plus(creds["client_secret"])),
                          data={"grant_type": "client_credentials"}, timeout=10)
        r.raise_for_status()
        yield sb, creds["base_url"], sb.credentials("icd", auth=False)["base_url"], \
            r.json()["access_token"]


def test_preflight_needs_no_auth_nor_api_version(box):
    _, who, container, _ = box
    for base in (who, container):
        r = requests.options(f"{base}/icd/release/11/2025-01/mms/search", timeout=10, headers={
            "Origin": ORIGIN, "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "api-version,authorization,x-custom"})
        assert r.status_code == 204 and r.content == b""
        assert r.headers["Access-Control-Allow-Origin"] == "*"
        assert "POST" in r.headers["Access-Control-Allow-Methods"]
        allowed = {h.strip().lower() for h in r.headers["Access-Control-Allow-Headers"].split(",")}
        assert {"authorization", "api-version", "accept-language", "x-custom"} <= allowed
    r = requests.options(f"{who}/analytics/clientanalytics", timeout=10, headers={
        "Origin": ORIGIN, "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "authorization,content-type"})
    assert r.status_code == 204


def test_every_answer_is_cross_origin_readable(box):
    _, who, container, token = box
    auth = {**H, "Authorization": f"Bearer {token}", "Origin": ORIGIN}
    answers = [
        requests.get(f"{who}/icd/release/11/mms", headers=auth, timeout=10),  # 200
        requests.get(f"{who}/icd/release/11/2025-01/mms/5", headers=auth, timeout=10),  # 404
        requests.get(f"{who}/icd/release/11/mms", headers={**H, "Origin": ORIGIN},
                     timeout=10),  # 401
        requests.get(f"{container}/icd/release/11/mms", timeout=10,
                     headers={"Accept": "application/json", "Origin": ORIGIN}),  # 400
        requests.get(f"{container}/icd/entity", timeout=10,
                     headers={"API-Version": "v2", "Accept-Language": "en"}),  # 412 (no Accept)
    ]
    assert [r.status_code for r in answers[:3]] == [200, 404, 401]
    assert answers[3].status_code == 400 and answers[4].status_code in (200, 412)
    for r in answers:
        assert r.headers["Access-Control-Allow-Origin"] == "*"
        assert "API-Version" in r.headers["Access-Control-Expose-Headers"]
        assert r.headers["API-Version"].startswith("v2.")


def test_client_analytics_are_accepted(box):
    sb, who, container, token = box
    body = {"uniqueSearchId": "8b0f7c57-3c8c-4a33-bf84-6a0e5d3f0d2b", "code": "1A00",
            "uri": "http://id.who.int/icd/release/11/2025-01/mms/257068234",
            "bestMatchingText": "Cholera", "selectedSearchResultEntityType": 0, "sourceApp": ""}
    before = sb.count("/id.who.int/analytics/clientanalytics")
    r = requests.post(f"{who}/analytics/clientanalytics", data=json.dumps(body), timeout=10,
                      headers={"Content-Type": "application/json",
                               "Authorization": f"Bearer {token}", "Origin": ORIGIN})
    assert r.status_code == 204 and r.headers["Access-Control-Allow-Origin"] == "*"
    assert sb.count("/id.who.int/analytics/clientanalytics") == before + 1
    assert requests.post(f"{who}/analytics/clientanalytics", json=body,
                         timeout=10).status_code == 401
    assert requests.post(f"{container}/analytics/clientanalytics", json=body,
                         timeout=10).status_code == 204
    assert requests.get(f"{container}/analytics/clientanalytics",
                        timeout=10).status_code == 405


def test_parameter_names_are_case_insensitive(box):
    _, _, container, _ = box
    base = f"{container}/icd/release/11/2025-01/mms"
    a = requests.get(f"{base}/257068234?include=ancestor", headers=H, timeout=10).json()
    b = requests.get(f"{base}/257068234?Include=ancestor", headers=H, timeout=10).json()
    assert a == b and a["ancestor"]
    old = requests.get(f"{container}/icd/entity?RELEASEID=2024-01", headers=H, timeout=10)
    assert old.json()["releaseId"] == "2024-01"
