"""GOPACS emulator: IDCONS, public reporting, UFTP participants."""

from __future__ import annotations

import requests
from sandbox_helpers import bearer, keycloak_token

from explorer.sandbox._gopacs_data import GopacsData


def test_public_announcements_page(sb):
    c = sb.credentials("gopacs")
    page = requests.get(c["idcons_url"] + "/public/announcements",
                        params={"page": 0, "size": 100}).json()
    assert page["totalElements"] == 500 and page["totalPages"] == 5
    last = requests.get(c["idcons_url"] + "/public/announcements",
                        params={"page": 4, "size": 100}).json()
    assert last["last"] and last["numberOfElements"] == 100
    created = [a["createdTimestamp"] for a in page["content"]]
    assert created == sorted(created, reverse=True)
    prod = sb.credentials("gopacs", environment="production")["idcons_url"]
    assert "idcons.gopacs-services.eu" in prod
    assert requests.get(prod + "/public/announcements").json()["totalElements"] == 500


def test_machineannouncements(sb):
    url = sb.credentials("gopacs")["idcons_url"] + "/machineannouncements"
    every = requests.get(url).json()
    assert isinstance(every, list) and len(every) == 500
    a = every[0]
    period = a["problemPeriod"]
    assert set(period) == {"startTime", "endTime", "durationInHours",
                           "numberOfQuartersInTimeSpan"}
    for ann in every:
        n = ann["problemPeriod"]["numberOfQuartersInTimeSpan"]
        assert len(ann["requiredProblemProfileInMW"]) == n
        assert len(ann["remainingProblemProfileInMW"]) == n
        assert ann["problemPeriod"]["endTime"] - ann["problemPeriod"]["startTime"] == n * 900_000
    zip_code = a["congestedZipCodes"][0]
    hits = requests.get(url, params={"postalcode": zip_code + "AB"}).json()
    assert hits and all(zip_code in h["congestedZipCodes"] for h in hits)
    window = requests.get(url, params={"starttime": period["startTime"],
                                       "endtime": period["endTime"]}).json()
    assert a["id"] in {w["id"] for w in window} and len(window) < 500
    open_ = requests.get(url, params={"state": "ANNOUNCEMENT_OPEN",
                                      "type": "CONGESTIONMANAGEMENT"}).json()
    assert all(o["announcementState"] == "ANNOUNCEMENT_OPEN" for o in open_)
    bad = requests.get(url, params={"starttime": "yesterday"})
    assert bad.status_code == 400 and bad.json()["status"] == 400


def test_ean_solving_effectivity_api_key(sb):
    c = sb.credentials("gopacs")
    ann = requests.get(c["idcons_url"] + "/machineannouncements").json()[3]
    url = f"{c['idcons_url']}/public-api/1.0/announcements/{ann['id']}/eansolvingeffectivity"
    assert requests.get(url).status_code == 401
    assert requests.get(url, headers={"API_KEY": "wrong"}).status_code == 401
    r = requests.get(url, headers={"API_KEY": c["api_key"]})
    body = r.json()
    assert r.status_code == 200 and isinstance(body, list) and body
    assert set(body[0]) == {"during", "eansByCategory"}
    assert {"startTime", "endTime"} <= set(body[0]["during"])
    eans = next(iter(body[0]["eansByCategory"].values()))
    assert all(len(e) == 18 and e.isdigit() for e in eans)
    missing = url.replace(ann["id"], "00000000-0000-0000-0000-000000000000")
    assert requests.get(missing, headers={"API_KEY": c["api_key"]}).status_code == 404


def test_cleared_buckets(sb):
    url = sb.credentials("gopacs")["reporting_url"] + "/clearedbuckets"
    page = requests.get(url, params={"page": 0, "size": 500}).json()
    assert page["totalElements"] == 10000 and page["totalPages"] == 20
    b = page["content"][0]
    assert b["startTime"].endswith("Z")
    assert abs(sum(p["buyVolumeInMW"] for p in b["clearedVolumesForPtus"]) * 0.25
               - b["buyVolumeInMWh"]) < 0.01
    last = requests.get(url, params={"page": 19, "size": 500}).json()
    assert last["last"] and last["numberOfElements"] == 500
    assert requests.get(url, params={"size": 1000}).json()["size"] == 500
    assert requests.get(url, params={"page": 20, "size": 500}).json()["empty"]
    assert requests.get(url, params={"size": "x"}).status_code == 400
    again = requests.get(url, params={"page": 0, "size": 1}).json()["content"][0]
    assert again == b  # deterministic


def test_expenses_and_metrics(sb):
    base = sb.credentials("gopacs")["reporting_url"]
    exp = requests.get(base + "/expenses").json()
    assert set(exp) == {"organisations", "expenses"}
    org = exp["organisations"][0]["id"]
    row = exp["expenses"][0]
    assert {"year", "month", "sellVolumesPerOrganisation", "buyVolumesPerOrganisation",
            "spreadPerOrganisation"} == set(row) and org in row["spreadPerOrganisation"]
    m = requests.get(base + "/performance-metrics").json()
    assert set(m) == {"volumeAndCostsPerYear", "volumeAndCostsInTotal",
                      "numberOfActiveGridConnections"}
    month = m["volumeAndCostsPerYear"][0]["volumeAndCostsPerMonth"][0]
    assert set(month["volumeAndCosts"]) == set(m["volumeAndCostsInTotal"])


def test_public_endpoints_ignore_credentials(sb):
    c = sb.credentials("gopacs")
    headers = {**bearer(keycloak_token(sb, "gopacs")), "API_KEY": c["api_key"]}
    assert requests.get(c["reporting_url"] + "/expenses", headers=headers).status_code == 200


def test_uftp_participants(sb):
    data = GopacsData(0)
    acc = sb.credentials("gopacs", environment="acceptance")
    prod = sb.credentials("gopacs", environment="production")
    assert "api.acc.gopacs-services.eu" in acc["base_url"]
    path = "/uftp-participants/v3/participants/dso.liander.nl"
    acc_tok = bearer(keycloak_token(sb, "gopacs", environment="acceptance"))
    prod_tok = bearer(keycloak_token(sb, "gopacs", environment="production"))
    r = requests.get(acc["base_url"] + path, headers=acc_tok)
    assert r.json() == {"domain": "dso.liander.nl",
                        "publicKey": data.participants["dso.liander.nl"]["publicKey"]}
    assert requests.get(prod["base_url"] + path, headers=prod_tok).status_code == 200
    r = requests.get(prod["base_url"] + path, headers=acc_tok)
    assert r.status_code == 401 and r.content == b""
    assert requests.get(acc["base_url"] + path).status_code == 401
    unknown = acc["base_url"] + "/uftp-participants/v3/participants/unknown.example"
    assert requests.get(unknown, headers=acc_tok).status_code == 404
    contract = acc["base_url"] + "/uftp-participants/v3/participants/contracts/CTR-2024-0001"
    agrs = requests.get(contract + "/roles/AGR", headers=acc_tok).json()
    assert agrs and all(set(a) == {"domain", "publicKey"} for a in agrs)
    assert len(requests.get(contract + "/roles/DSO", headers=acc_tok).json()) == 1
    assert requests.get(contract + "/roles/CRO", headers=acc_tok).status_code == 400
    missing = contract.replace("0001", "9999") + "/roles/AGR"
    assert requests.get(missing, headers=acc_tok).status_code == 404


def _longest_run(values) -> int:
    best = run = 1
    for a, b in zip(values, values[1:], strict=False):
        run = run + 1 if a == b else 1
        best = max(best, run)
    return best


def test_profiles_are_shaped_like_congestion_profiles():
    """Ramps and plateaus over hours, not noise from one quarter hour to the next (an
    emulator choice; the numbers below are what real profiles look like, not tuned bounds)."""
    announcements = GopacsData(0).announcements
    steps = equal = small = 0
    for ann in announcements:
        required = ann["requiredProblemProfileInMW"]
        remaining = ann["remainingProblemProfileInMW"]
        assert all(0 <= r <= q for r, q in zip(remaining, required, strict=True))
        top = max(required)
        for a, b in zip(required, required[1:], strict=False):
            steps += 1
            equal += a == b
            small += abs(b - a) <= 0.2 * top
        assert _longest_run(required) >= 4            # a plateau of an hour at least
        assert _longest_run(remaining) >= 4
        assert ann["problemPeriod"]["durationInHours"] >= 2
    assert equal / steps >= 0.4                       # most steps: the same value, or
    assert small / steps >= 0.95                      # a small part of the peak
    # deterministic from the seed, different for another seed
    again = GopacsData(0).announcements
    assert [a["requiredProblemProfileInMW"] for a in again] == [
        a["requiredProblemProfileInMW"] for a in announcements]
    other = GopacsData(1).announcements
    assert other[0]["requiredProblemProfileInMW"] != announcements[0][
        "requiredProblemProfileInMW"]
