"""Authentication benchmarks against the sandbox (ITCare's Keycloak realm, client credentials).

(a) Token requests for 16 threads × 1,000 calls through one client while the token expires
    about three times: explorer vs Authlib's ``OAuth2Session`` (``token_endpoint=`` and
    ``grant_type="client_credentials"`` in the constructor, so it re-fetches), requests-oauthlib's
    ``OAuth2Session`` + ``BackendApplicationClient`` (fetch, catch ``TokenExpiredError``, fetch
    again) and requests-auth's ``OAuth2ClientCredentials`` (``requests.Session.auth``). Token
    requests and calls that did not end in 200 are counted by the sandbox and the callers.
    Leeways are made comparable: explorer ``leeway=0``, Authlib ``leeway=0``, requests-auth
    ``early_expiry=0.001`` (0 is impossible: ``0 or 30.0``), requests-oauthlib has none.
(b) Per-call overhead of an authenticated ``session.get(path)`` against a bare
    ``requests.Session`` with a fixed ``Authorization`` header, same sandbox endpoint, one thread
    (medians of per-call times, interleaved blocks). Target ≤ 1.10×.

    python benchmarks/bench_auth.py [--quick]

Peers come from the ``bench`` extra: ``pip install -e .[bench]``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import requests

import explorer
from explorer import sandbox

THREADS = 16
PATH = "/compute/environments"
Row = dict[str, Any]


def _hammer(call: Callable[[], bool], threads: int, calls: int) -> tuple[float, int]:
    """``threads`` × ``calls`` calls; returns (seconds, calls that did not succeed)."""
    failed = [0]
    lock = threading.Lock()

    def worker(_: int) -> None:
        bad = 0
        for _ in range(calls):
            try:
                ok = call()
            except Exception:
                ok = False
            bad += not ok
        with lock:
            failed[0] += bad

    start = time.perf_counter()
    with ThreadPoolExecutor(threads) as pool:
        list(pool.map(worker, range(threads)))
    return time.perf_counter() - start, failed[0]


def _explorer(creds: dict[str, Any], url: str) -> Callable[[], bool]:
    session = explorer.connect("itcare", **creds, leeway=0)
    return lambda: session.get(PATH) is not None


def _authlib(creds: dict[str, Any], url: str) -> Callable[[], bool]:
    from authlib.integrations.requests_client import OAuth2Session

    session = OAuth2Session(creds["client_id"], creds["client_secret"],
                            token_endpoint=creds["token_url"], grant_type="client_credentials",
                            leeway=0)
    session.fetch_token()
    return lambda: session.get(url, timeout=30).status_code == 200


def _requests_oauthlib(creds: dict[str, Any], url: str) -> Callable[[], bool]:
    from oauthlib.oauth2 import BackendApplicationClient, TokenExpiredError
    from requests_oauthlib import OAuth2Session

    os.environ["OAUTHLIB_INSECURE_TRANSPORT"] = "1"  # the sandbox is http on 127.0.0.1
    client = BackendApplicationClient(client_id=creds["client_id"])
    session = OAuth2Session(client=client)

    def fetch() -> None:
        session.fetch_token(token_url=creds["token_url"], client_id=creds["client_id"],
                            client_secret=creds["client_secret"])

    fetch()

    def call() -> bool:
        try:
            resp = session.get(url, timeout=30)
        except TokenExpiredError:
            fetch()
            resp = session.get(url, timeout=30)
        return resp.status_code == 200

    return call


def _requests_auth(creds: dict[str, Any], url: str) -> Callable[[], bool]:
    import requests_auth

    requests_auth.OAuth2.token_cache.clear()  # process-global cache: start empty
    session = requests.Session()
    session.auth = requests_auth.OAuth2ClientCredentials(
        creds["token_url"], client_id=creds["client_id"], client_secret=creds["client_secret"],
        early_expiry=0.001)
    return lambda: session.get(url, timeout=30).status_code == 200


CLIENTS: dict[str, Callable[[dict[str, Any], str], Callable[[], bool]]] = {
    "explorer": _explorer,
    "authlib OAuth2Session": _authlib,
    "requests-oauthlib OAuth2Session": _requests_oauthlib,
    "requests-auth OAuth2ClientCredentials": _requests_auth,
}


def bench_tokens(calls: int, repeats: int) -> list[Row]:
    """(a): token requests per client for THREADS × ``calls`` calls spanning ~3 expiries."""
    rows: list[Row] = []
    with sandbox.start() as sb:
        creds = sb.credentials("itcare")
        url = creds["base_url"] + PATH
        # calibrate: the lifetime that makes the explorer run span three expiries
        probe = _explorer(creds, url)
        _hammer(probe, THREADS, 20)  # warm-up
        seconds, _ = _hammer(probe, THREADS, max(calls // 4, 20))
        lifetime = max(0.5, round(seconds * calls / max(calls // 4, 20) / 3.2, 2))
        sb.token_lifetime = lifetime
        for name, make in CLIENTS.items():
            tokens, failed, expiries = [], [], []
            for _ in range(repeats):
                sb.reset_counters()
                call = make(creds, url)  # Authlib and requests-oauthlib fetch here, as documented
                seconds, bad = _hammer(call, THREADS, calls)
                tokens.append(sb.token_requests())
                failed.append(bad)
                expiries.append(seconds / lifetime)
            ideal = statistics.median(expiries) + 1  # the first fetch + one per expiry
            med = statistics.median(tokens)
            rows.append({
                "name": f"token requests, {THREADS}x{calls} calls: {name}",
                "median": med, "baseline": ideal, "ratio": med / ideal,
                "target": "<= expiries+2" if name == "explorer" else "",
                "ok": (med <= ideal + 1) if name == "explorer" else None,
                "unit": "",
            })
            rows.append({
                "name": f"calls not answered 200: {name}", "median": statistics.median(failed),
                "baseline": None, "ratio": None, "target": "0" if name == "explorer" else "",
                "ok": statistics.median(failed) == 0 if name == "explorer" else None,
                "unit": "",
            })
        for row in rows:
            row["note"] = f"token lifetime {lifetime:.2f} s"
    return rows


def bench_overhead(calls: int, blocks: int) -> list[Row]:
    """(b): per-call time of explorer's ``get`` vs a bare ``requests.Session``."""
    with sandbox.start() as sb:
        creds = sb.credentials("itcare")
        session = explorer.connect("itcare", **creds)
        token = session.token
        assert token is not None
        bare = requests.Session()
        bare.headers.update({"Authorization": f"Bearer {token.access_token}",
                             "Accept": "application/json"})
        url = creds["base_url"] + PATH

        def ours() -> Any:
            return session.get(PATH)

        def theirs() -> Any:
            resp = bare.get(url, timeout=(5, 30))
            resp.raise_for_status()
            return resp.json()

        for fn in (ours, theirs):  # warm-up: connections, imports
            for _ in range(50):
                fn()
        t_ours: list[float] = []
        t_bare: list[float] = []
        for _ in range(blocks):
            for fn, out in ((theirs, t_bare), (ours, t_ours)):
                for _ in range(calls // blocks):
                    start = time.perf_counter()
                    fn()
                    out.append(time.perf_counter() - start)
        session.close()
        bare.close()
    med, base = statistics.median(t_ours), statistics.median(t_bare)
    return [{"name": f"authenticated get, per call ({len(t_ours)} calls)", "median": med * 1e3,
             "baseline": base * 1e3, "ratio": med / base, "target": "<= 1.10x",
             "ok": med / base <= 1.10, "unit": "ms",
             "note": "baseline: requests.Session + fixed Authorization header"}]


def rows(quick: bool = False) -> list[Row]:
    """Every row of this module (the contract of ``benchmarks/run.py``)."""
    calls, repeats = (300, 1) if quick else (1_000, 3)
    out = bench_tokens(calls, repeats)
    out += bench_overhead(1_000 if quick else 5_000, 10)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="300 calls per thread, 1 repeat")
    args = parser.parse_args(argv)
    from benchmarks.run import table

    print(table(rows(args.quick)))
    return 0


if __name__ == "__main__":
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    raise SystemExit(main())
