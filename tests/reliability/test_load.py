"""Load: 16 threads × 2,000 calls through one session while tokens expire every 2 s and the API
injects 5 % 503s and 1 % 429s (``Retry-After``: 0 s for 503, 1 s for 429).

Every test checks, against the sandbox's own counters:

* zero failed calls;
* every API answer "token expired" (``sb.expired_token_hits()``) is a 401 the session saw and
  answered by renewing and retrying (the call then succeeded: zero failures);
* token requests within one of ``duration / lifetime``, and never two fetches for one expiry
  (consecutive token responses at least half a lifetime apart).

Retry budget: the default ``retries=5``. With 6 % faults, a request fails only if 6 attempts in
a row are faults: 0.06⁶ × 32,000 ≈ 0.0015 expected failures per run.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

import explorer
from explorer import sandbox
from tests.reliability.conftest import MixedRetryAfter, Probe, attach, report

pytestmark = pytest.mark.slow

THREADS = 16
CALLS = 2_000
LIFETIME = 2.0
RATES = {503: 0.05, 429: 0.01}


def faults(match: str | None = None) -> MixedRetryAfter:
    return MixedRetryAfter(RATES, retry_after_by_kind={503: 0, 429: 1}, match=match, seed=0)


def hammer(call: Callable[[], Any]) -> tuple[float, list[BaseException]]:
    """THREADS × CALLS calls of ``call``; (duration, errors)."""
    errors: list[BaseException] = []

    def worker(_: int) -> None:
        for _ in range(CALLS):
            try:
                call()
            except Exception as exc:  # collected, asserted empty below
                errors.append(exc)

    start = time.monotonic()
    with ThreadPoolExecutor(THREADS) as pool:
        list(pool.map(worker, range(THREADS)))
    return time.monotonic() - start, errors


def check_tokens(sb: sandbox.Sandbox, probe: Probe, duration: float, issued: int,
                 capsys: pytest.CaptureFixture[str], title: str, **extra: Any) -> None:
    expected = duration / LIFETIME
    hits = sb.expired_token_hits()
    figures = {"duration_s": duration, "calls_per_s": THREADS * CALLS / duration,
               "token_requests": issued, "expected": expected, "expired_token_401s": hits,
               "session_401s": probe.api_401, **extra}
    report(capsys, title, figures)
    # every "token expired" answer reached the session as a 401; with zero failed calls,
    # each was renewed and retried successfully
    assert probe.api_401 == hits
    assert abs(issued - expected) <= 1, figures
    # never two fetches for one expiry
    assert all(status == 200 for status in probe.token_statuses)
    assert min(probe.gaps(), default=LIFETIME) >= LIFETIME / 2, sorted(probe.gaps())[:3]


def test_itcare_sixteen_threads_under_faults_and_expiry(sb, capsys):
    session = explorer.connect("itcare", **sb.credentials("itcare"), leeway=0)
    probe = attach(session)
    sb.faults = faults()
    ok = [0]

    def call() -> None:
        assert session.get("/compute/environments")["totalElements"] == 4
        ok[0] += 1

    duration, errors = hammer(call)
    sb.faults, injected = None, sb.faults.injected
    assert errors == [], errors[:3]
    assert ok[0] == THREADS * CALLS
    issued = sb.token_requests(issuer="itcare")
    assert session.flow.fetches == issued
    check_tokens(sb, probe, duration, issued, capsys, "load itcare",
                 injected_503=injected[503], injected_429=injected[429])
    assert injected[503] > 0.04 * THREADS * CALLS and injected[429] > 0.005 * THREADS * CALLS


def test_jindexe_password_grant_refreshes_with_rotation(sb, capsys):
    session = explorer.connect("jindexe", **sb.credentials("jindexe"), leeway=0)
    probe = attach(session)
    sb.faults = faults()
    user = sb.credentials("jindexe")["username"]

    def call() -> None:
        assert session.get("/user/me")["email"] == user

    duration, errors = hammer(call)
    sb.faults, injected = None, sb.faults.injected
    assert errors == [], errors[:3]
    issued = sb.token_requests(issuer="jindexe")
    password = sb.token_requests(issuer="jindexe", grant_type="password")
    refresh = sb.token_requests(issuer="jindexe", grant_type="refresh_token")
    # one login, then only refreshes: each rotated refresh token was used exactly once (a
    # second use would be refused and force a new password grant)
    assert password == 1 and refresh == issued - 1
    check_tokens(sb, probe, duration, issued, capsys, "load jindexe", password_grants=password,
                 refresh_grants=refresh, injected_503=injected[503],
                 injected_429=injected[429])


def test_icd_tree_crawl_of_2500_entities(sb, capsys):
    sb.state.synthetic_icd = 2_500
    session = explorer.connect("icd", **sb.credentials("icd"), leeway=0,
                               cache="memory", progress=False, workers=16)
    session.release  # noqa: B018 - resolve the release before timing the crawl
    probe = attach(session)
    sb.reset_counters()
    sb.faults = faults(match="/id.who.int/")
    start = time.monotonic()
    df = session.tree("S1")
    duration = time.monotonic() - start
    sb.faults, injected = None, sb.faults.injected
    assert len(df) == 2_500 and df["id"].is_unique
    assert df["code"].iloc[0] == "S1" and df["depth"].iloc[0] == 1
    issued = sb.token_requests(issuer="icd")
    expected = duration / LIFETIME
    figures = {"entities": len(df), "duration_s": duration, "entities_per_s": len(df) / duration,
               "token_requests": issued, "expected": expected,
               "expired_token_401s": sb.expired_token_hits(), "session_401s": probe.api_401,
               "injected_503": injected[503], "injected_429": injected[429]}
    report(capsys, "load icd tree", figures)
    assert probe.api_401 == sb.expired_token_hits()
    assert abs(issued - expected) <= 1, figures
    assert min(probe.gaps(), default=LIFETIME) >= LIFETIME / 2
