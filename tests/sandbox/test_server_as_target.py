"""The sandbox as a target: whatever a client sends, it gets an answer and the server lives on.

Every attack goes over a real socket on 127.0.0.1 (raw bytes where a well-behaved client could
not send them), every wait is bounded, and every test ends with a normal request that must
still work. The 300 MB attack runs against a sandbox in a child process, whose peak memory is
read from ``/proc``.
"""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from sandbox_helpers import bearer, icd_token, keycloak_token

from explorer import sandbox

ROOT = Path(__file__).resolve().parents[2]
HEALTH = "/api.jindexe.net/ext/health"
JX_TOKEN = "/api.jindexe.net/public/token"
KC_TOKEN = "/accounts.cegedim.cloud/auth/realms/cloud/protocol/openid-connect/token"
ICD_SEARCH = "/id.who.int/icd/release/11/2026-01/mms/search"
#: what socketserver prints when a handler thread dies on an exception
CRASH = "Exception occurred during processing of request"


@pytest.fixture(scope="module")
def box() -> Iterator[sandbox.Sandbox]:
    """A private sandbox for this module (its knobs are restored by each test)."""
    with sandbox.start() as s:
        yield s


@pytest.fixture(autouse=True)
def _no_dead_handler(capfd: pytest.CaptureFixture[str]) -> Iterator[None]:
    """No handler thread may die on an exception (socketserver prints it on stderr)."""
    yield
    assert CRASH not in capfd.readouterr().err


def alive(box: sandbox.Sandbox) -> None:
    """The next normal request still works, on a fresh connection."""
    r = requests.get(box.url + HEALTH, timeout=5)
    assert r.status_code == 200 and r.json() == {"status": "ok"}


def connect(box: sandbox.Sandbox, wait: float = 5.0) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", box.port), timeout=wait)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return sock


def read_answer(sock: socket.socket, wait: float = 5.0) -> bytes:
    """Bytes received until a whole response head has arrived, the server closed, or ``wait``
    seconds passed (never longer)."""
    deadline = time.monotonic() + wait
    data = b""
    while b"\r\n\r\n" not in data:
        left = deadline - time.monotonic()
        if left <= 0:
            break
        sock.settimeout(left)
        try:
            chunk = sock.recv(65536)
        except (TimeoutError, ConnectionError):
            break
        if not chunk:
            break
        data += chunk
    return data


def status_of(data: bytes) -> int | None:
    """The status code of the first response in ``data`` (``None``: no status line)."""
    match = re.match(rb"HTTP/1\.[01] (\d{3}) ", data)
    return int(match.group(1)) if match else None


def exchange(box: sandbox.Sandbox, data: bytes, *, half_close: bool = False,
             wait: float = 5.0) -> bytes:
    """Send ``data`` on a fresh connection (then half-close if asked) and read the answer."""
    with connect(box, wait) as sock:
        sock.sendall(data)
        if half_close:
            sock.shutdown(socket.SHUT_WR)
        return read_answer(sock, wait)


def closed_within(sock: socket.socket, wait: float) -> bool:
    """Whether the server closes ``sock`` within ``wait`` seconds (whatever it sends first)."""
    deadline = time.monotonic() + wait
    while (left := deadline - time.monotonic()) > 0:
        sock.settimeout(left)
        try:
            if not sock.recv(65536):
                return True
        except ConnectionError:
            return True
        except TimeoutError:
            return False
    return False


def head(method: str, path: str, *lines: str) -> bytes:
    text = f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n" + "".join(f"{x}\r\n" for x in lines)
    return (text + "\r\n").encode("latin-1")


# -- bodies past the cap --------------------------------------------------------------------------
def test_a_chunked_body_past_the_cap_is_refused_while_it_streams(box):
    """10 MB of chunks and more to come: 413 at once, without waiting for the rest."""
    with connect(box) as sock:
        sock.sendall(head("POST", JX_TOKEN, "Transfer-Encoding: chunked"))
        chunk = b"100000\r\n" + b"x" * 0x100000 + b"\r\n"  # 1 MiB
        try:
            for _ in range(11):  # 11.5 MB, past the 10 MB cap; the body never ends
                sock.sendall(chunk)
        except ConnectionError:
            pass  # the server may stop reading once it has refused
        answer = read_answer(sock, wait=5)
    assert status_of(answer) == 413
    assert b"Connection: close" in answer
    alive(box)


def test_a_declared_length_past_the_cap_is_refused_before_any_continue(box):
    answer = exchange(box, head("POST", JX_TOKEN, "Content-Length: 300000000",
                                "Expect: 100-continue"))
    assert status_of(answer) == 413  # the first line: no "100 Continue" invites the body
    alive(box)


def test_a_small_body_with_expect_continue_is_invited_once(box):
    body = json.dumps({"grant_type": "password"}).encode()
    with connect(box) as sock:
        sock.sendall(head("POST", JX_TOKEN, f"Content-Length: {len(body)}",
                          "Expect: 100-continue", "Content-Type: application/json"))
        first = read_answer(sock)
        assert first == b"HTTP/1.1 100 Continue\r\n\r\n"
        sock.sendall(body)
        assert status_of(read_answer(sock)) == 401  # no API key: Jindexe's answer
    alive(box)


CHILD = """
import json, sys, threading
from explorer import sandbox
box = sandbox.start()
for t in threading.enumerate():  # the ICD releases are parsed in the background: not measured
    if t.name == "explorer-icd-warm":
        t.join()
print(json.dumps({"port": box.port}), flush=True)
sys.stdin.read()
box.stop()
"""


def _peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmHWM")


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads /proc (Linux)")
def test_a_300_mb_chunked_body_never_lands_in_memory(capfd):
    """The attack of the issue: 300 MB, chunked, through requests, against a sandbox in a child
    process. The answer is 413 and the child's peak memory grows by far less than the body."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT),
                                                        os.environ.get("PYTHONPATH", "")])}
    child = subprocess.Popen([sys.executable, "-c", CHILD], stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, env=env, text=True)
    try:
        port = json.loads(child.stdout.readline())["port"]
        url = f"http://127.0.0.1:{port}"
        assert requests.get(url + HEALTH, timeout=5).status_code == 200
        before = _peak_rss_mb(child.pid)
        block = b"x" * (1 << 20)

        def body() -> Iterator[bytes]:
            for _ in range(300):
                yield block

        t0 = time.perf_counter()
        r = requests.post(url + JX_TOKEN, data=body(), timeout=30)
        seconds = time.perf_counter() - t0
        after = _peak_rss_mb(child.pid)
        assert r.status_code == 413
        assert requests.get(url + HEALTH, timeout=5).status_code == 200
        with capfd.disabled():
            print(f"\n[300 MB chunked] status={r.status_code} in {seconds:.2f}s, sandbox "
                  f"peak RSS {before:.0f} MB -> {after:.0f} MB")
        assert after - before < 50, (before, after)
    finally:
        child.stdin.close()
        try:
            child.wait(10)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait(5)


# -- JSON the sandbox parses ----------------------------------------------------------------------
DEEP = [b"[" * 100_000, b'{"a":' * 50_000, b"[" * 100_000 + b"]" * 100_000]
BAD = [b"{", b"\xff\xfe\x00", b'{"grant_type": "password", }', b"1" * 5000, b"",
       b"{" * 100_000]


@pytest.mark.parametrize("body", DEEP + BAD, ids=lambda b: f"{b[:8]!r}x{len(b)}")
@pytest.mark.parametrize("content_type", ["application/json", "text/plain"])
def test_deep_or_invalid_json_to_the_jindexe_token_route_is_a_400(box, body, content_type):
    key = box.credentials("jindexe")["api_key"]
    r = requests.post(box.url + JX_TOKEN, data=body, timeout=10,
                      headers={"X-API-KEY": key, "Content-Type": content_type})
    assert r.status_code == 400
    assert r.json()["error"] == "invalid_request"
    alive(box)


@pytest.mark.parametrize("body", DEEP[:2] + BAD[:3], ids=lambda b: f"{b[:8]!r}x{len(b)}")
def test_deep_or_invalid_json_to_an_itcare_operation_is_a_400(box, body):
    base = box.credentials("itcare")["base_url"]
    token = keycloak_token(box)
    url = base + "/compute/instances/" + str(_an_instance(box, token)["id"])
    r = requests.patch(url, data=body, timeout=10, headers={
        **bearer(token), "Content-Type": "application/json", "X-Dry-Run": "true"})
    assert r.status_code == 400
    alive(box)


def _an_instance(box: sandbox.Sandbox, token: dict) -> dict:
    base = box.credentials("itcare")["base_url"]
    r = requests.get(base + "/compute/instances?size=1", headers=bearer(token), timeout=10)
    return r.json()["content"][0]


# -- forms ----------------------------------------------------------------------------------------
FIELDS = b"&".join(b"f%d=1" % i for i in range(200_000))  # 1.6 MB, 200,000 fields


@pytest.mark.parametrize("path", [JX_TOKEN, KC_TOKEN, ICD_SEARCH])
def test_a_form_with_a_huge_number_of_fields_is_a_413(box, path):
    t0 = time.perf_counter()
    r = requests.post(box.url + path, data=FIELDS, timeout=10, headers={
        "Content-Type": "application/x-www-form-urlencoded",
        "X-API-KEY": box.credentials("jindexe")["api_key"]})
    assert r.status_code == 413
    assert time.perf_counter() - t0 < 2  # refused before anything parses 200,000 fields
    alive(box)


def test_a_multipart_form_with_too_many_parts_is_a_413(box):
    """Werkzeug's multipart limits, answered as 413 (not a dead thread) even on a token route,
    where the request counter reads the form before any mount."""
    boundary = "b0undary"
    parts = "".join(f"--{boundary}\r\nContent-Disposition: form-data; name=\"f{i}\"\r\n\r\n1\r\n"
                    for i in range(1500))
    body = (parts + f"--{boundary}--\r\n").encode()
    icd = {**bearer(icd_token(box)), "API-Version": "v2", "Accept-Language": "en"}
    for path, auth in ((KC_TOKEN, {}), (ICD_SEARCH, icd)):
        r = requests.post(box.url + path, data=body, timeout=10, headers={
            **auth, "Content-Type": f"multipart/form-data; boundary={boundary}"})
        assert r.status_code == 413, path
    alive(box)


def test_a_form_with_a_few_fields_still_works(box):
    c = box.credentials("itcare")
    form = {"grant_type": "client_credentials", **{f"x{i}": "1" for i in range(50)}}
    r = requests.post(c["token_url"], auth=(c["client_id"], c["client_secret"]), data=form,
                      timeout=10)
    assert r.status_code == 200


# -- the request line -----------------------------------------------------------------------------
@pytest.mark.parametrize("half_close", [False, True], ids=["open", "half-closed"])
@pytest.mark.parametrize("line", [b"GET /\r\n", b"GET /\r\n\r\n", b"GET " + HEALTH.encode() +
                                  b"\r\n", b"POST /\r\n"])
def test_an_http_0_9_request_gets_an_answer(box, line, half_close):
    answer = exchange(box, line, half_close=half_close)
    assert status_of(answer) == 505
    alive(box)


@pytest.mark.parametrize("data, status", [
    (b"GET / FOO\r\n\r\n", 400),                        # a version that is not one
    (b"GET / HTTP/1.x\r\n\r\n", 400),
    (b"GET / HTTP/1.1 more\r\n\r\n", 400),              # four words
    (b"GET\r\n\r\n", 400),                              # one word
    (b" \t \r\n\r\n", 400),                             # blank
    (b"\r\n\r\n", 400),                                 # empty lines only
    (b"GET / HTTP/2.0\r\n\r\n", 505),
    (b"\x16\x03\x01\x00\xa5\x01\x00\x00\xa1\x03\x03" + b"\x00" * 40 + b"\r\n\r\n", 400),  # TLS
    (b"GET http://[::1/x HTTP/1.1\r\nHost: x\r\n\r\n", 400),  # a target urllib cannot split
    (b"GET /" + b"a" * 70_000 + b" HTTP/1.1\r\n\r\n", 414),
], ids=["bad-version", "bad-minor", "four-words", "one-word", "blank", "empty", "http2", "tls",
        "bad-target", "line-too-long"])
def test_a_malformed_request_line_gets_an_answer(box, data, status):
    assert status_of(exchange(box, data, half_close=True)) == status
    alive(box)


def test_a_request_line_cut_short_gets_an_answer(box):
    assert status_of(exchange(box, b"GET /api.jindexe.net/ext/hea", half_close=True)) == 400
    alive(box)


def test_an_empty_line_before_a_request_is_skipped(box):
    """RFC 9112 section 2.2: one empty line before the request line is ignored."""
    answer = exchange(box, b"\r\n" + head("GET", HEALTH, "Connection: close"))
    assert status_of(answer) == 200
    alive(box)


# -- headers --------------------------------------------------------------------------------------
@pytest.mark.parametrize("lines", [
    [f"X-Long: {'a' * 70_000}"],                       # one line above 64 KB
    [f"X-{i}: a" for i in range(150)],                 # more than 100 headers
], ids=["too-long", "too-many"])
def test_headers_too_long_or_too_many_get_a_431(box, lines):
    assert status_of(exchange(box, head("GET", HEALTH, *lines))) == 431
    alive(box)


# -- lengths that lie -----------------------------------------------------------------------------
def test_a_content_length_bigger_than_the_body_is_a_408_within_the_request_timeout(box):
    box.request_timeout = 0.5
    try:
        with connect(box) as sock:
            sock.sendall(head("POST", JX_TOKEN, "Content-Length: 1000") + b"abc")
            t0 = time.monotonic()
            answer = read_answer(sock, wait=5)
            took = time.monotonic() - t0
    finally:
        box.request_timeout = 30
    assert status_of(answer) == 408 and took < 3
    alive(box)


def test_a_body_cut_short_by_the_client_is_a_400(box):
    answer = exchange(box, head("POST", JX_TOKEN, "Content-Length: 1000") + b"abc",
                      half_close=True)
    assert status_of(answer) == 400
    alive(box)


@pytest.mark.parametrize("lines", [
    ["Content-Length: -1"], ["Content-Length: abc"], ["Content-Length: +3"],
    ["Content-Length: 0x3"], ["Content-Length: 3, 4"], ["Content-Length: 3", "Content-Length: 4"],
    ["Content-Length: \u00b3"],  # SUPERSCRIPT THREE: str.isdigit() says yes
    ["Content-Length: 3", "Transfer-Encoding: chunked"],  # both: a smuggling shape
    ["Transfer-Encoding: gzip"],  # chunked is not the final coding
    ["Transfer-Encoding: chunked, gzip"],
], ids=["negative", "letters", "plus", "hex", "list", "two", "superscript", "cl-and-te",
        "gzip", "chunked-then-gzip"])
def test_a_bad_length_or_transfer_coding_is_a_400(box, lines):
    data = head("POST", JX_TOKEN, *lines) + b"abc"
    assert status_of(exchange(box, data, half_close=True)) == 400
    alive(box)


def test_an_unknown_transfer_coding_before_chunked_is_a_501(box):
    data = head("POST", JX_TOKEN, "Transfer-Encoding: gzip, chunked") + b"3\r\nabc\r\n0\r\n\r\n"
    assert status_of(exchange(box, data, half_close=True)) == 501
    alive(box)


def test_repeated_equal_content_lengths_are_one(box):
    body = b'{"grant_type": "password"}'
    data = head("POST", JX_TOKEN, f"Content-Length: {len(body)}",
                f"Content-Length: {len(body)}", "Connection: close") + body
    assert status_of(exchange(box, data)) == 401  # read and answered by Jindexe (no key)


# -- chunked bodies -------------------------------------------------------------------------------
@pytest.mark.parametrize("chunks, status", [
    (b"zz\r\nabc\r\n0\r\n\r\n", 400),                    # not hex
    (b"-3\r\nabc\r\n0\r\n\r\n", 400),                    # negative
    (b"0x3\r\nabc\r\n0\r\n\r\n", 400),                   # a prefix
    (b"\r\nabc\r\n0\r\n\r\n", 400),                      # empty size
    (b"3 3\r\nabc\r\n0\r\n\r\n", 400),                   # space inside
    (b"3\r\nabcdef\r\n0\r\n\r\n", 400),                  # more data than the size says
    (b"3" + b"0" * 5000 + b"\r\n", 400),                 # a size line without end
    (b"ffffffffffffffffffff\r\nabc", 413),               # 20 hex digits
    (b"7fffffffffffffff\r\nabc", 413),                   # fits 64 bits, not the cap
    (b"3\r\nabc\r\n0\r\n" + b"X: y\r\n" * 200 + b"\r\n", 431),  # trailers without end
], ids=["not-hex", "negative", "0x", "empty", "space", "overlong-data", "endless-line",
        "20-digits", "huge", "endless-trailers"])
def test_an_invalid_chunk_gets_an_answer(box, chunks, status):
    data = head("POST", JX_TOKEN, "Transfer-Encoding: chunked") + chunks
    assert status_of(exchange(box, data, half_close=True)) == status
    alive(box)


def test_a_valid_chunked_body_with_extensions_and_trailers_is_read(box):
    c = box.credentials("jindexe")
    body = json.dumps({"grant_type": "password", "username": c["username"],
                       "password": c["password"]}).encode()
    chunks = (b"%x;name=value\r\n" % 5 + body[:5] + b"\r\n"
              + b"%X\r\n" % (len(body) - 5) + body[5:] + b"\r\n0\r\nX-Trailer: 1\r\n\r\n")
    data = head("POST", JX_TOKEN, "Transfer-Encoding: chunked", f"X-API-KEY: {c['api_key']}",
                "Connection: close") + chunks
    assert status_of(exchange(box, data)) == 200


# -- slow clients ---------------------------------------------------------------------------------
def test_a_client_trickling_its_headers_is_cut_at_the_request_timeout(box):
    """Slowloris: a byte now and then resets no clock; the request has request_timeout."""
    box.request_timeout = 0.5
    stop = threading.Event()
    try:
        with connect(box) as sock:
            sock.sendall(b"GET " + HEALTH.encode() + b" HTTP/1.1\r\n")

            def trickle() -> None:
                try:
                    while not stop.wait(0.05):
                        sock.sendall(b"X: y\r\n")
                except OSError:
                    pass

            feeder = threading.Thread(target=trickle, daemon=True)
            feeder.start()
            t0 = time.monotonic()
            answer = read_answer(sock, wait=5)
            took = time.monotonic() - t0
            stop.set()
            feeder.join(5)
    finally:
        box.request_timeout = 30
    assert status_of(answer) == 408 and took < 3
    alive(box)


def test_an_idle_connection_is_closed_at_the_idle_timeout(box):
    box.idle_timeout = 0.3
    try:
        with connect(box) as idle:
            alive(box)  # others are served meanwhile
            assert closed_within(idle, wait=3)
        with connect(box) as kept:  # and after a request, the keep-alive wait is the same
            kept.sendall(head("GET", HEALTH))
            assert status_of(read_answer(kept)) == 200
            assert closed_within(kept, wait=3)
    finally:
        box.idle_timeout = 120
    alive(box)


def test_the_timeouts_are_knobs_with_defaults():
    with sandbox.start() as fresh:
        assert (fresh.idle_timeout, fresh.request_timeout) == (120, 30)
        with pytest.raises(ValueError):
            fresh.request_timeout = 0
        fresh.idle_timeout = "2.5"
        assert fresh.idle_timeout == 2.5


# -- the server lives on --------------------------------------------------------------------------
def test_keep_alive_survives_a_refused_request_on_another_connection(box):
    """A refusal closes only its own connection."""
    with requests.Session() as s:
        assert s.get(box.url + HEALTH, timeout=5).status_code == 200
        assert status_of(exchange(box, b"GET /\r\n")) == 505
        assert s.get(box.url + HEALTH, timeout=5).status_code == 200


def test_many_attacks_at_once_leave_the_server_serving(box):
    attacks = [b"GET /\r\n", b"GET / FOO\r\n\r\n",
               head("POST", JX_TOKEN, "Transfer-Encoding: chunked") + b"zz\r\n",
               head("POST", JX_TOKEN, "Content-Length: -1")] * 8
    statuses: list[int | None] = []
    lock = threading.Lock()

    def attack(data: bytes) -> None:
        got = status_of(exchange(box, data, half_close=True))
        with lock:
            statuses.append(got)

    threads = [threading.Thread(target=attack, args=(a,)) for a in attacks]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert sorted(statuses) == sorted([505, 400, 400, 400] * 8)
    alive(box)
