"""Faults: every failure is a typed ``ExplorerError`` naming the provider and the URL, raised
within its time budget (never a hang), and holding no secret (message, repr, traceback).

Token endpoint: down, 500, HTML, invalid JSON, no ``access_token``, no ``expires_in`` (not an
error), refresh token revoked or expired (falls back to a new grant). API: HTML instead of JSON,
connection dropped mid-body, slower than the read timeout, 503 storm beyond the retry budget.
An ICD ``tree`` interrupted half-way resumes from the cache without losing or duplicating rows.
"""

from __future__ import annotations

import socket
import time
import traceback
from collections.abc import Iterable

import pytest

import explorer
from explorer import ApiError, AuthenticationError, ExplorerError
from explorer.sandbox import Faults

pytestmark = pytest.mark.timeout(120)

TIMEOUT = (1.0, 1.0)  # (connect, read) seconds given to every session here
#: worst case of urllib3's retry schedule (backoff 0.3 s: 0 + 0.6 + 1.2) plus the timeouts
BUDGET = 3 * sum(TIMEOUT) + 1.8


def secrets_of(sb, api: str, session=None) -> list[str]:
    creds = sb.credentials(api)
    values = [creds.get(k) for k in ("client_secret", "password", "api_key")]
    token = session.flow.current if session is not None and session.flow else None
    if token is not None:
        values += [token.access_token, token.refresh_token]
    return [v for v in values if v]


def assert_typed(exc: BaseException, cls: type[ExplorerError], provider: str, url_part: str,
                 secrets: Iterable[str]) -> None:
    """Typed, names provider and URL, no secret anywhere in its text."""
    assert isinstance(exc, cls), repr(exc)
    assert exc.provider == provider
    assert exc.url and url_part in exc.url and exc.url in str(exc)
    text = "".join(traceback.format_exception(exc)) + repr(exc) + str(exc)
    for secret in secrets:
        assert secret not in text


def raised(call, budget: float = BUDGET) -> BaseException:
    start = time.monotonic()
    with pytest.raises(ExplorerError) as info:
        call()
    elapsed = time.monotonic() - start
    assert elapsed < budget, f"took {elapsed:.1f} s (budget {budget:.1f} s)"
    return info.value


def token_path(sb, api: str) -> str:
    """The sandbox path of ``api``'s token endpoint (a fault ``match`` prefix)."""
    return sb.credentials(api)["token_url"][len(sb.url):]


@pytest.fixture(autouse=True)
def _itcare_data_built(sb):
    """The emulator builds its data on the first ITCare call (about 0.25 s, more on a busy
    machine): done before each test, with the default timeout, so TIMEOUT times the faults."""
    explorer.connect("itcare", sandbox=sb).environments()


def itcare(sb, **kwargs):
    return explorer.connect("itcare", **{**sb.credentials("itcare"), **kwargs}, timeout=TIMEOUT)


# --- token endpoint ---------------------------------------------------------------------------

def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_token_endpoint_down(sb):
    url = f"http://127.0.0.1:{closed_port()}/realms/x/protocol/openid-connect/token"
    session = itcare(sb, token_url=url)
    exc = raised(lambda: session.get("/compute/environments"))
    assert_typed(exc, AuthenticationError, "itcare", url, secrets_of(sb, "itcare"))
    assert exc.status is None and "cannot reach" in str(exc)


@pytest.mark.parametrize(("kind", "words"), [
    (500, "HTTP 500"),
    ("html", "text/html"),
    ("badjson", "not JSON"),
    ("no_access_token", "no access_token"),
])
def test_token_endpoint_misbehaves(sb, kind, words):
    sb.faults = Faults(script=[kind], match=token_path(sb, "itcare"))
    session = itcare(sb)
    exc = raised(lambda: session.get("/compute/environments"))
    assert_typed(exc, AuthenticationError, "itcare", token_path(sb, "itcare"),
                 secrets_of(sb, "itcare"))
    assert words in str(exc)
    if kind == "no_access_token":  # the other keys are named, their values are not
        assert "refresh_token" in str(exc)


def test_token_endpoint_html_error_page_with_error_status(sb):
    """A proxy's HTML page with an error status: refused, in a few words, no page dump."""
    sb.faults = Faults(script=[502] * 6, match=token_path(sb, "icd"))  # beyond 5 retries
    session = explorer.connect("icd", **sb.credentials("icd"), timeout=TIMEOUT,
                               cache="memory", release="2025-01")
    exc = raised(lambda: session.token)
    assert_typed(exc, AuthenticationError, "icd", token_path(sb, "icd"), secrets_of(sb, "icd"))
    assert exc.status == 502


@pytest.mark.parametrize("api", ["icd", "jindexe"])
def test_no_expires_in_is_not_an_error(sb, api):
    """ICD's JWT → expiry from ``exp``; Jindexe's opaque token → the conservative default."""
    sb.token_lifetime = None
    sb.faults = Faults(script=["no_expires_in"], match=token_path(sb, "icd") if api == "icd"
                       else "/api.jindexe.net/public/token")
    session = explorer.connect(api, **sb.credentials(api), timeout=TIMEOUT,
                               **({"cache": "memory"} if api == "icd" else {}))
    token = session.token
    assert token is not None
    if api == "icd":
        assert token.expiry_source == "jwt exp" and 3500 < token.expires_in <= 3600
        assert session.get("/icd/release/11/2025-01/mms")["title"]
    else:
        assert token.expiry_source == "default" and 0 < token.expires_in <= 300
        assert session.get("/user/me")["email"]


def test_revoked_refresh_token_falls_back_to_a_new_grant(sb):
    session = itcare(sb)
    session.get("/compute/environments")
    assert session.flow.current.refresh_token
    sb.revoke_refresh_tokens()
    sb.expire_tokens()  # the session still believes its token valid: the API answers 401
    sb.reset_counters()
    assert session.get("/compute/environments")["totalElements"] == 4
    assert sb.token_requests(grant_type="refresh_token") == 1
    assert sb.token_requests(grant_type="client_credentials") == 1
    assert sb.expired_token_hits() == 1


def test_expired_refresh_token_falls_back_to_password_grant(sb):
    """Jindexe says nothing of its refresh token's lifetime: the server's refusal is the cue."""
    sb.token_lifetime = None
    sb.refresh_token_lifetime = 0.5
    session = explorer.connect("jindexe", **sb.credentials("jindexe"), timeout=TIMEOUT)
    session.get("/user/me")
    time.sleep(0.6)
    sb.expire_tokens()
    sb.reset_counters()
    assert session.get("/user/me")["email"]
    assert sb.token_requests(grant_type="refresh_token") == 1
    assert sb.token_requests(grant_type="password") == 1


def test_refresh_token_known_to_be_expired_is_not_sent(sb):
    """Keycloak announces ``refresh_expires_in``: past it, the session goes straight to a grant."""
    sb.refresh_token_lifetime = 1
    session = itcare(sb)
    session.get("/compute/environments")
    time.sleep(2.1)  # both the access (2 s) and the refresh (1 s) token are past their expiry
    sb.reset_counters()
    session.get("/compute/environments")
    assert sb.token_requests(grant_type="refresh_token") == 0
    assert sb.token_requests(grant_type="client_credentials") == 1


# --- API --------------------------------------------------------------------------------------

API_PATH = "/itcare.cegedim.cloud/itcare/compute/environments"


@pytest.mark.parametrize(("kind", "words", "status"), [
    ("html", "expected JSON but got text/html", 200),
    ("badjson", "expected JSON", 200),
    ("drop", "connection dropped", None),
    ("slow", "read timeout", None),
])
def test_api_misbehaves(sb, kind, words, status):
    session = itcare(sb)
    session.get("/compute/environments")  # token in hand: the fault hits the API call
    sb.faults = Faults(script=[kind], match=API_PATH, slow_seconds=5 * TIMEOUT[1])
    exc = raised(lambda: session.get("/compute/environments"))
    assert_typed(exc, ApiError, "itcare", API_PATH, secrets_of(sb, "itcare", session))
    assert words in str(exc) and exc.status == status
    sb.faults = None
    assert session.get("/compute/environments")["totalElements"] == 4  # the session recovers


def test_503_storm_beyond_the_retry_budget(sb):
    session = itcare(sb)
    session.get("/compute/environments")
    sb.faults = Faults({503: 1.0}, retry_after=0, match=API_PATH)
    sb.reset_counters()
    exc = raised(lambda: session.get("/compute/environments"))
    assert_typed(exc, ApiError, "itcare", API_PATH, secrets_of(sb, "itcare", session))
    assert exc.status == 503 and sb.count(API_PATH) == 6  # 1 try + 5 retries, then the error


def test_503_storm_with_retry_after_stays_within_budget(sb):
    """``Retry-After: 1`` is honoured (3 retries ≈ 3 s) and still ends in a typed error."""
    session = itcare(sb)
    session.get("/compute/environments")
    sb.faults = Faults({503: 1.0}, retry_after=1, match=API_PATH)
    start = time.monotonic()
    exc = raised(lambda: session.get("/compute/environments"), budget=3 * 3.0 + BUDGET)
    assert time.monotonic() - start >= 2.9  # three waits of one second each
    assert_typed(exc, ApiError, "itcare", API_PATH, secrets_of(sb, "itcare", session))


# --- interrupted crawl ------------------------------------------------------------------------

def test_icd_tree_interrupted_half_way_resumes_from_the_cache(sb):
    sb.token_lifetime = None
    sb.state.synthetic_icd = 800
    creds = sb.credentials("icd")
    session = explorer.connect("icd", **creds, timeout=TIMEOUT, cache="memory", progress=False)
    session.release  # noqa: B018 - resolve the release first
    sb.reset_counters()
    sb.faults = Faults(script=[None] * 400 + [500], match="/id.who.int/")
    exc = raised(lambda: session.tree("S1"), budget=60)
    assert_typed(exc, ApiError, "icd", "/id.who.int/", secrets_of(sb, "icd", session))
    assert exc.status == 500
    first = sb.count("/id.who.int/")
    assert 400 < first < 800

    sb.faults = None
    sb.reset_counters()
    df = session.tree("S1")
    second = sb.count("/id.who.int/")
    # nothing lost, nothing duplicated, and the rerun asked only for what was missing
    assert len(df) == 800 and df["id"].is_unique
    assert second <= 800 - first + 2  # + the failed request, + the root's code lookup
    clean = explorer.connect("icd", **creds, cache="memory", progress=False).tree("S1")
    assert df["id"].tolist() == clean["id"].tolist()
    assert df.drop(columns=["release"]).equals(clean.drop(columns=["release"]))
