"""Sandbox server: lifecycle, keep-alive, concurrency, counters, latency, faults."""

from __future__ import annotations

import http.client
import socket
import threading
import time

import pytest
import requests
from sandbox_helpers import bearer, keycloak_token

from explorer import sandbox
from explorer.sandbox import Faults


def _sandbox_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name.startswith("explorer-sandbox")
            or "process_request_thread" in t.name]


def test_start_stop_fast_no_leaks():
    before = set(threading.enumerate())
    t0 = time.perf_counter()
    sb = sandbox.start()
    assert time.perf_counter() - t0 < 1.0
    port = sb.port
    assert sb.url == f"http://127.0.0.1:{port}"
    s = requests.Session()  # keep-alive connection left open on purpose
    assert s.get(sb.url + "/itcare.cegedim.cloud/itcare/health").status_code == 200
    t0 = time.perf_counter()
    sb.stop()
    assert time.perf_counter() - t0 < 2.0
    leaked = [t for t in set(threading.enumerate()) - before if t.is_alive()]
    assert leaked == []
    with sandbox.start(port) as again:  # the port is free again (SO_REUSEADDR, as servers do)
        assert again.port == port
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        probe.bind(("127.0.0.1", port))
    sb.stop()  # idempotent


def test_fixed_port_and_context_manager():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with sandbox.start(port) as sb:
        assert sb.port == port
        assert requests.get(sb.url + "/api.jindexe.net/ext/health").json() == {"status": "ok"}


def test_repr_shows_no_secret(sb):
    text = repr(sb) + repr(sb.state) + repr(sb.faults)
    assert sb.url in repr(sb)
    for api in ("icd", "itcare", "gopacs", "jindexe"):
        for key, value in sb.credentials(api).items():
            if key in ("client_secret", "password", "api_key"):
                assert value not in text


def test_unknown_host_is_404_empty(sb):
    r = requests.get(sb.url + "/no.such.host/x")
    assert r.status_code == 404 and r.content == b""
    assert requests.get(sb.url + "/").status_code == 404


def test_keep_alive_reuses_connection(sb):
    conn = http.client.HTTPConnection("127.0.0.1", sb.port, timeout=5)
    for _ in range(5):
        conn.request("GET", "/itcare.cegedim.cloud/itcare/health")
        resp = conn.getresponse()
        assert resp.status == 200 and resp.read() == b'{"status":"UP"}'
        assert resp.getheader("Connection") != "close"
    # a POST body is consumed even when the route ignores it
    conn.request("POST", "/no.such.host/x", body=b"x" * 5000)
    resp = conn.getresponse()
    assert resp.status == 404
    resp.read()
    conn.request("GET", "/itcare.cegedim.cloud/itcare/health")
    assert conn.getresponse().status == 200
    conn.close()


def test_sixteen_concurrent_clients(sb):
    tok = keycloak_token(sb)
    url = sb.credentials("itcare")["base_url"] + "/compute/instances?size=3"
    errors: list[object] = []

    def worker() -> None:
        s = requests.Session()
        for _ in range(20):
            r = s.get(url, headers=bearer(tok), timeout=10)
            if r.status_code != 200 or len(r.json()["content"]) != 3:
                errors.append(r.status_code)

    threads = [threading.Thread(target=worker) for _ in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []


def test_counters(fresh):
    base = fresh.url + "/itcare.cegedim.cloud/itcare/health"
    for _ in range(3):
        requests.get(base)
    requests.get(fresh.url + "/api.jindexe.net/ext/health")
    assert fresh.count("/itcare.cegedim.cloud/") == 3
    assert fresh.count("/api.jindexe.net") == 1
    assert fresh.count() == 4
    keycloak_token(fresh)
    assert fresh.token_requests() == 1
    assert fresh.token_requests(grant_type="client_credentials") == 1
    assert fresh.token_requests(client_id="nobody") == 0
    fresh.reset_counters()
    assert fresh.count() == 0 and fresh.token_requests() == 0


def test_latency_settable(fresh):
    url = fresh.url + "/api.jindexe.net/ext/health"
    fresh.latency = 0.2
    t0 = time.perf_counter()
    requests.get(url)
    assert time.perf_counter() - t0 >= 0.2
    fresh.latency = 0
    t0 = time.perf_counter()
    requests.get(url)
    assert time.perf_counter() - t0 < 0.2


def test_shared_is_one_sandbox():
    assert sandbox.shared() is sandbox.shared()


# -- faults ------------------------------------------------------------------------------
HEALTH = "/itcare.cegedim.cloud/itcare/health"


@pytest.mark.parametrize("status", [500, 502, 503, 504, 429])
def test_fault_status(fresh, status):
    fresh.faults = Faults(script=[status], retry_after=7)
    r = requests.get(fresh.url + HEALTH)
    assert r.status_code == status and r.content == b""
    if status in (429, 503):
        assert r.headers["Retry-After"] == "7"
    assert requests.get(fresh.url + HEALTH).status_code == 200  # script exhausted


def test_fault_script_order_and_match(fresh):
    fresh.faults = Faults(script=["503", None, "html", "badjson"], match="/itcare.cegedim.cloud/")
    assert requests.get(fresh.url + "/api.jindexe.net/ext/health").status_code == 200
    codes = []
    for _ in range(5):
        r = requests.get(fresh.url + HEALTH)
        codes.append((r.status_code, r.headers.get("Content-Type", "")))
    assert [c for c, _ in codes] == [503, 200, 200, 200, 200]
    assert codes[2][1].startswith("text/html")
    assert fresh.faults.injected == {503: 1, "html": 1, "badjson": 1}


def test_fault_badjson(fresh):
    fresh.faults = Faults(script=["badjson"])
    r = requests.get(fresh.url + HEALTH)
    assert r.status_code == 200 and r.headers["Content-Type"] == "application/json"
    with pytest.raises(ValueError):
        r.json()


def test_fault_drop(fresh):
    fresh.faults = Faults(script=["drop"])
    with pytest.raises(requests.exceptions.RequestException):
        requests.get(fresh.url + "/public-reporting.gopacs-services.eu/clearedbuckets?size=5")
    assert requests.get(fresh.url + HEALTH).status_code == 200


def test_fault_slow(fresh):
    fresh.faults = Faults(script=["slow"], slow_seconds=0.3)
    t0 = time.perf_counter()
    assert requests.get(fresh.url + HEALTH).status_code == 200
    assert time.perf_counter() - t0 >= 0.3
    fresh.faults = Faults(script=["slow"], slow_seconds=2)
    with pytest.raises(requests.exceptions.Timeout):
        requests.get(fresh.url + HEALTH, timeout=0.3)


def test_default_match_excludes_token_endpoints(fresh):
    fresh.faults = Faults(rate={503: 1.0})
    keycloak_token(fresh)  # not affected
    assert requests.get(fresh.url + HEALTH).status_code == 503


@pytest.mark.parametrize("kind", ["no_access_token", "no_expires_in"])
def test_token_faults(fresh, kind):
    fresh.faults = Faults(script=[kind], match="/accounts.cegedim.cloud/")
    c = fresh.credentials("itcare")
    body = requests.post(c["token_url"], auth=(c["client_id"], c["client_secret"]),
                         data={"grant_type": "client_credentials"}).json()
    assert kind[3:] not in body and "token_type" in body
    assert "access_token" in keycloak_token(fresh)


def test_rate_is_deterministic(fresh):
    def offline(seed: int) -> list[object]:
        f = Faults(rate={503: 0.3, 429: 0.2}, seed=seed)
        return [f.pick(HEALTH, is_token=False) for _ in range(40)]

    assert offline(3) == offline(3)
    assert offline(3) != offline(4)
    fresh.faults = Faults(rate={503: 0.3, 429: 0.2}, seed=3)
    seen = [requests.get(fresh.url + HEALTH).status_code for _ in range(40)]
    assert seen == [k or 200 for k in offline(3)]
    assert {503, 429, 200} == set(seen)


def test_faults_thread_safe():
    f = Faults(rate={503: 0.5}, seed=1)
    out: list[object] = []
    lock = threading.Lock()

    def worker() -> None:
        got = [f.pick("/x", is_token=False) for _ in range(500)]
        with lock:
            out.extend(got)

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    ref = Faults(rate={503: 0.5}, seed=1)
    expected = [ref.pick("/x", is_token=False) for _ in range(4000)]
    assert sorted(map(str, out)) == sorted(map(str, expected))
    assert f.injected[503] == expected.count(503)


def test_faults_validation():
    with pytest.raises(ValueError):
        Faults(script=["explode"])
    with pytest.raises(ValueError):
        Faults(rate={503: 0.8, 500: 0.5})
    with pytest.raises(ValueError):
        Faults(script=[200])
