"""The sandbox's rate limit: a token bucket per client and per mount, like an API gateway."""

from __future__ import annotations

import requests

import explorer
from explorer import sandbox


def _token(box, **creds) -> str:
    return explorer.connect("icd", sandbox=box, **creds).token.access_token


def test_beyond_the_burst_a_429_with_a_whole_retry_after():
    with sandbox.start(rate_limit=5, burst=3) as box:
        url = box.credentials("icd", auth=False)["base_url"] + "/icd/release/11/mms"
        headers = {"Accept": "application/json", "API-Version": "v2", "Accept-Language": "en"}
        codes = [requests.get(url, headers=headers, timeout=10) for _ in range(5)]
        assert [r.status_code for r in codes[:3]] == [200, 200, 200]
        refused = [r for r in codes if r.status_code == 429]
        assert refused and all(r.headers["Retry-After"] == "1" for r in refused)
        assert box.rate_limited() == len(refused)
        box.limit_rate(None)  # lifted
        assert requests.get(url, headers=headers, timeout=10).status_code == 200


def test_buckets_per_client_and_per_mount():
    with sandbox.start(rate_limit=1, burst=1) as box:
        icd = box.credentials("icd")["base_url"] + "/icd/release/11/mms"
        headers = {"Accept": "application/json", "API-Version": "v2", "Accept-Language": "en"}
        one = {**headers, "Authorization": "Bearer " + _token(box)}
        box.add_client("icd", "second-client", "second-secret-value")
        other = _token(box, client_id="second-client", client_secret="second-secret-value")
        two = {**headers, "Authorization": "Bearer " + other}
        assert requests.get(icd, headers=one, timeout=10).status_code == 200
        assert requests.get(icd, headers=one, timeout=10).status_code == 429
        assert requests.get(icd, headers=two, timeout=10).status_code == 200  # another client
        itcare = box.credentials("itcare")["base_url"] + "/health"
        assert requests.get(itcare, timeout=10).status_code == 200  # another mount
