"""Attacks on availability: waits, slow answers, large answers, failing token endpoints.

Items of the security issue: 1 (Retry-After without a bound), 2 (the read timeout is per gap,
not per call), 3 (unbounded bodies, gzip bombs), 5 (token-endpoint failures not shared).
Every server is local and hostile; every call is bounded by :func:`within` / :func:`at_once`
so that code without the bounds fails the test instead of hanging the run.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import gzip
import json
import socket
import threading
import time
from email.utils import format_datetime

import pytest
from werkzeug.wrappers import Response

from explorer import ApiError, AuthenticationError, ConfigurationError, ExplorerError

from .hostile import (
    MB,
    HttpServer,
    RawServer,
    at_once,
    chunked,
    connect,
    deflate_bomb,
    gzip_bomb,
    http_response,
    json_answer,
    multi_member_bomb,
    nested_gzip_bomb,
    peak_memory,
    token_answer,
    token_text,
    within,
)

pytestmark = pytest.mark.timeout(60)


def plain(url: str, **kwargs):
    """A session without authentication on ``url``."""
    return connect(base_url=url, auth=None, **kwargs)


def answer(data: bytes):
    return lambda conn: conn.send(data)


# -- item 1: Retry-After ------------------------------------------------------------------------
@pytest.mark.parametrize("status", [429, 503])
def test_retry_after_in_seconds_beyond_max_wait_fails_at_once(status):
    """Item 1: ``Retry-After: 999999`` (11.6 days) on a 429/503 is an immediate ApiError naming
    the status, the wait asked for and ``max_wait`` — never a sleep."""
    with RawServer(answer(http_response(status, headers=[("Retry-After", "999999")]))) as api:
        out = within(5, plain(api.url).get, "/things")
        assert api.connections == 1  # asked once, no retry
    assert isinstance(out.error, ApiError), out.error
    assert out.elapsed < 2
    text = str(out.error)
    assert f"HTTP {status}" in text and "11.6 days" in text and "max_wait" in text


def test_retry_after_as_an_http_date_30_days_ahead_fails_at_once():
    """Item 1: ``Retry-After`` as an HTTP date 30 days ahead is refused the same way."""
    when = format_datetime(dt.datetime.now(dt.timezone.utc) + dt.timedelta(days=30),
                           usegmt=True)
    with RawServer(answer(http_response(429, headers=[("Retry-After", when)]))) as api:
        out = within(5, plain(api.url).get, "/things")
    assert isinstance(out.error, ApiError), out.error
    assert out.elapsed < 2
    assert "HTTP 429" in str(out.error) and "30.0 days" in str(out.error)


def test_max_wait_is_the_bound_both_ways():
    """Item 1: with ``connect(max_wait=2)`` a 3 s ``Retry-After`` fails at once, a 1 s one is
    waited for and the call succeeds."""
    calls = {"n": 0}

    def once_then_ok(wait: str):
        def handler(conn):
            calls["n"] += 1
            if calls["n"] == 1:
                conn.send(http_response(503, headers=[("Retry-After", wait)]))
            else:
                conn.send(http_response(200, b'{"ok": true}',
                                        [("Content-Type", "application/json")]))
        return handler

    with RawServer(once_then_ok("3")) as api:
        out = within(5, plain(api.url, max_wait=2).get, "/x")
    assert isinstance(out.error, ApiError) and out.elapsed < 1.5, out.error
    assert "max_wait=2" in str(out.error)
    calls["n"] = 0
    with RawServer(once_then_ok("1")) as api:
        out = within(5, plain(api.url, max_wait=2).get, "/x")
    assert out.error is None and out.value == {"ok": True}
    assert 0.9 < out.elapsed < 2.5


@pytest.mark.parametrize("value", [
    "\xb2",                                           # '²': str.isdigit() is True, float() fails
    "Mon, 01 Jan 99999999999999999999 00:00:00 GMT",  # a year beyond any C long: OverflowError
    "Fri, 31 Dec 9999 23:59:59 GMT",                  # the last HTTP date there is
    "99999999999999999999999999999",                  # more seconds than a float is precise for
    "-1", "1e9", "soon",
])
def test_unreadable_retry_after_values_are_typed_errors(value):
    """Item 1: whatever a ``Retry-After`` holds, the call ends within seconds in a typed error
    (a value that cannot be read is ignored: ordinary backoff), never a bare ``ValueError`` /
    ``OverflowError`` from the HTTP stack."""
    head = [("Retry-After", value)]
    with RawServer(answer(http_response(503, headers=head))) as api:
        out = within(8, plain(api.url, retries=1).get, "/x")
    assert isinstance(out.error, ApiError), repr(out.error)
    assert out.elapsed < 3


def test_token_endpoint_retry_after_beyond_max_wait_fails_all_waiters_at_once():
    """Item 1, on a token endpoint: 16 threads need a token, the endpoint answers 503 with
    ``Retry-After: 999999``: one token request, and every thread gets an AuthenticationError
    naming the status and the wait, at once."""
    with RawServer(answer(http_response(503, headers=[("Retry-After", "999999")]))) as token, \
            HttpServer(lambda r: json_answer({"ok": True})) as api:
        session = connect(token_url=token.url + "/token", client_id="c", client_secret="s3cret",
                          base_url=api.url)
        outs = at_once(16, lambda: session.get("/x"), limit=6)
        assert token.connections == 1
        assert api.requests() == []
    assert all(isinstance(o.error, AuthenticationError) for o in outs), outs[0].error
    assert max(o.elapsed for o in outs) < 2
    assert "HTTP 503" in str(outs[0].error) and "11.6 days" in str(outs[0].error)


def test_no_thread_holds_the_token_lock_while_the_token_request_waits():
    """Item 1: the token endpoint asks for a 1 s wait (within max_wait); while the fetching
    thread waits, the token lock is free (nobody sleeps holding it on behalf of others), and
    the 16 threads then share one token."""
    first_seen = threading.Event()
    calls = {"n": 0}

    def token_handler(request):
        calls["n"] += 1
        if calls["n"] == 1:
            first_seen.set()
            return Response("busy", status=503, headers={"Retry-After": "1"})
        return token_answer("tok-0123456789")(request)

    with HttpServer(token_handler) as token, \
            HttpServer(lambda r: json_answer({"ok": True})) as api:
        session = connect(token_url=token.url + "/token", client_id="c", client_secret="s3cret",
                          base_url=api.url)
        box: dict = {}
        runner = threading.Thread(
            target=lambda: box.update(outs=at_once(16, lambda: session.get("/x"), limit=8)))
        runner.start()
        assert first_seen.wait(5)
        time.sleep(0.2)  # the fetching thread is in its Retry-After wait now
        free = session.flow._lock.acquire(timeout=0.3)
        if free:
            session.flow._lock.release()
        runner.join(10)
        assert free, "the token lock is held while the token request waits for Retry-After"
        assert all(o.error is None for o in box["outs"]), box["outs"][0].error
        assert len(token.requests()) == 2
        assert len(api.requests()) == 16


def test_retry_waits_never_run_past_the_deadline():
    """Items 1 and 2: ``Retry-After: 1`` on every answer, 10 retries allowed: the waits stop at
    ``deadline=2``, a typed error naming it."""
    with RawServer(answer(http_response(503, headers=[("Retry-After", "1")]))) as api:
        out = within(6, plain(api.url, retries=10, deadline=2).get, "/x")
    assert isinstance(out.error, ApiError), out.error
    assert out.elapsed < 2.6
    assert "deadline=2" in str(out.error)


# -- item 2: dripping servers -----------------------------------------------------------------
HEAD_JSON = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"


def drip_body(conn):
    conn.send(HEAD_JSON + b"Content-Length: 100000\r\nConnection: close\r\n\r\n")
    conn.drip(b"[" + b"1," * 50000, every=0.1)


def drip_head(conn):
    conn.drip(HEAD_JSON + b"X-Padding: " + b"p" * 500 + b"\r\n\r\n", every=0.05)


def drip_chunks(conn):
    conn.send(HEAD_JSON + b"Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n")
    for _ in range(1000):
        if not conn.send(b"1\r\n \r\n") or conn.stop.wait(0.1):
            return


def slow_redirects(conn):
    conn.drip(b"HTTP/1.1 302 Found\r\nLocation: /again\r\nContent-Length: 0\r\n"
              b"Connection: close\r\n\r\n", every=0.005)  # ~0.4 s per hop, 30 hops allowed


def slow_retries(conn):
    conn.drip(http_response(503, headers=[("Retry-After", "0")]), every=0.01)


@pytest.mark.parametrize("handler", [drip_body, drip_head, drip_chunks, slow_redirects,
                                     slow_retries])
def test_dripping_api_is_cut_at_the_deadline(handler):
    """Item 2: a server sending one byte every 0.1 s (body, headers, chunks), or slow hop
    after slow hop (redirects, retries), is cut at ``deadline=1.5``: an ApiError naming it."""
    with RawServer(handler) as api:
        out = within(6, plain(api.url, deadline=1.5, retries=10).get, "/x")
    assert isinstance(out.error, ApiError), out.error
    assert 1.2 < out.elapsed < 2.5, out.elapsed
    assert "deadline=1.5" in str(out.error)


def test_connecting_to_a_server_that_never_accepts_is_cut_at_the_deadline():
    """Item 2, the connect phase: a listener whose backlog is full (the kernel drops the SYN,
    the client retries) with connect retries allowed: cut at ``deadline=1``, not after the
    5 s connect timeout per attempt."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(0)
    port = listener.getsockname()[1]
    fillers = []
    try:
        for _ in range(8):  # fill the accept queue and the SYN queue
            filler = socket.socket()
            filler.setblocking(False)
            with contextlib.suppress(BlockingIOError):
                filler.connect(("127.0.0.1", port))
            fillers.append(filler)
        time.sleep(0.1)
        out = within(6, plain(f"http://127.0.0.1:{port}", deadline=1, retries=3).get, "/x")
    finally:
        for sock in [*fillers, listener]:
            sock.close()
    assert isinstance(out.error, ApiError), out.error
    assert out.elapsed < 1.8, out.elapsed


def test_dripping_token_endpoint_is_cut_at_the_deadline_for_16_waiters():
    """Item 2, on a token endpoint: it drips its answer while 16 threads wait for the token.
    One token request, cut at the deadline; every thread gets an AuthenticationError in about
    the deadline."""
    def drip_token(conn):
        conn.send(HEAD_JSON + b"Content-Length: 5000\r\nConnection: close\r\n\r\n")
        conn.drip(b'{"access_token": "' + b"t" * 4900, every=0.1)

    with RawServer(drip_token) as token, HttpServer(lambda r: json_answer({})) as api:
        session = connect(token_url=token.url + "/token", client_id="c", client_secret="s3cret",
                          base_url=api.url, deadline=1.5)
        outs = at_once(16, lambda: session.get("/x"), limit=6)
        assert token.connections == 1
    assert all(isinstance(o.error, AuthenticationError) for o in outs), outs[0].error
    assert max(o.elapsed for o in outs) < 2.5
    assert "deadline=1.5" in str(outs[0].error)


def test_a_slow_oidc_issuer_holds_the_token_request_one_deadline_at_most():
    """Item 2: OIDC discovery through three same-origin redirects, each answered in ~1.2 s
    (each under ``deadline=1.5``): discovery and the grant are one token request, cut at the
    deadline — not 1.5 s per hop while 16 threads wait."""
    def handler(conn):
        path = conn.path
        if "openid-configuration" in path and path.count("x") < 3:
            conn.drip(http_response(302, headers=[("Location", path + "x")]), every=0.012)
        elif "openid-configuration" in path:
            doc = {"issuer": issuer.url + "/r", "token_endpoint": issuer.url + "/token"}
            conn.send(http_response(200, json.dumps(doc).encode(),
                                    [("Content-Type", "application/json")]))
        else:
            conn.send(http_response(200, token_text(expires_in="300").encode(),
                                    [("Content-Type", "application/json")]))

    with RawServer(handler) as issuer, HttpServer(lambda r: json_answer({})) as api:
        session = connect(issuer=issuer.url + "/r", client_id="c", client_secret="s3cret",
                          base_url=api.url, deadline=1.5)
        outs = at_once(16, lambda: session.get("/x"), limit=8)
    assert all(isinstance(o.error, ExplorerError) for o in outs), outs[0]
    assert max(o.elapsed for o in outs) < 2.5, max(o.elapsed for o in outs)


# -- item 3: bombs ------------------------------------------------------------------------------
def bomb_server(status: int, body: bytes, encoding: str | None, *, framing: str = "length",
                extra: tuple = ()):
    headers = [("Content-Type", "application/json"), *extra]
    if encoding:
        headers.append(("Content-Encoding", encoding))
    if framing == "chunked":
        headers.append(("Transfer-Encoding", "chunked"))
        data = http_response(status, chunked(body, 65536), headers)
    elif framing == "close":  # no length: read until the server closes
        head = "".join(f"{k}: {v}\r\n" for k, v in headers)
        data = f"HTTP/1.1 {status} X\r\n{head}Connection: close\r\n\r\n".encode() + body
    else:
        data = http_response(status, body, headers)
    return RawServer(answer(data))


def test_gzip_bomb_stops_at_the_default_cap_in_bounded_memory():
    """Item 3: 0.4 MB of gzip inflating to 400 MB, as an API answer, with the defaults: an
    ApiError naming the 200 MB cap; peak memory stays near the cap (the old code peaked near
    1 GB)."""
    bomb = gzip_bomb(400 * MB)
    assert len(bomb) < MB
    with bomb_server(200, bomb, "gzip") as api:
        session = plain(api.url)
        peak, out = peak_memory(lambda: session.get("/bomb"))
    assert isinstance(out.error, ApiError), out.error
    assert "200,000,000" in str(out.error)
    assert peak < 215 * MB, f"peak {peak / MB:.0f} MB"


@pytest.mark.parametrize("status", [200, 400])
def test_a_json_structure_bomb_under_the_byte_cap_is_not_decoded(status):
    """Item 3, the same class one step later: 20 MB of ``[{},{},…]`` — 20 KB of gzip, well
    under ``max_bytes=40 MB`` — decodes into some 500 MB of Python objects (an empty dict
    costs 64 bytes for its 3 bytes of JSON). Above one JSON container per 16 bytes of the
    cap the answer is not decoded: a typed error (or, for an error answer, an error without
    its body), memory near the body's size."""
    body = b"[" + b"{}," * (20 * MB // 3) + b"{}]"
    bomb = gzip.compress(body, 6)
    assert len(bomb) < 100_000
    del body
    with bomb_server(status, bomb, "gzip") as api:
        session = plain(api.url, max_bytes=40 * MB)
        peak, out = peak_memory(lambda: session.get("/x"))
    assert isinstance(out.error, ApiError), type(out.error)
    if status == 200:
        assert "40,000,000" in str(out.error)
    assert peak < 80 * MB, f"peak {peak / MB:.0f} MB"


def test_gzip_bomb_as_a_token_answer_stops_at_one_megabyte():
    """Item 3, on a token endpoint: a gzip bomb (100 MB) as the token answer is an
    AuthenticationError naming the 1 MB cap, in a few megabytes of memory."""
    with bomb_server(200, gzip_bomb(100 * MB), "gzip") as token, \
            HttpServer(lambda r: json_answer({})) as api:
        session = connect(token_url=token.url + "/token", client_id="c", client_secret="s3cret",
                          base_url=api.url)
        peak, out = peak_memory(lambda: session.get("/x"))
        assert api.requests() == []
    assert isinstance(out.error, AuthenticationError), out.error
    assert "1,000,000" in str(out.error)
    assert peak < 8 * MB, f"peak {peak / MB:.1f} MB"


CAP = 5 * MB
VARIANTS = {
    "deflate-zlib": (200, lambda: deflate_bomb(100 * MB), "deflate", "length"),
    "deflate-raw": (200, lambda: deflate_bomb(100 * MB, raw=True), "deflate", "length"),
    "gzip-multi-member": (200, lambda: multi_member_bomb(100 * MB), "gzip", "length"),
    "gzip-chunked": (200, lambda: gzip_bomb(100 * MB), "gzip", "chunked"),
    "x-gzip-until-close": (200, lambda: gzip_bomb(100 * MB), "x-gzip", "close"),
    "GZIP-upper-case": (200, lambda: gzip_bomb(100 * MB), "GZIP", "length"),
    "identity-chunked": (200, lambda: b"[" + b"0," * (10 * MB), None, "chunked"),
    "error-404-body": (404, lambda: gzip_bomb(100 * MB), "gzip", "length"),
    "error-400-body": (400, lambda: deflate_bomb(100 * MB), "deflate", "chunked"),
}


@pytest.mark.parametrize("name", list(VARIANTS))
def test_bomb_variants_stop_at_max_bytes(name):
    """Item 3: deflate (zlib and raw), multi-member gzip, chunked transfer, a body read until
    the server closes, a plain (identity) body, a 4xx error body: reading stops at
    ``connect(max_bytes=5 MB)`` decoded bytes, a typed error naming the cap, memory near it."""
    status, body, encoding, framing = VARIANTS[name]
    with bomb_server(status, body(), encoding, framing=framing) as api:
        session = plain(api.url, max_bytes=CAP)
        peak, out = peak_memory(lambda: session.get("/bomb"))
    assert isinstance(out.error, ApiError), out.error
    assert "5,000,000" in str(out.error)
    assert peak < 3 * CAP, f"peak {peak / MB:.1f} MB"


def test_redirect_whose_body_is_a_bomb_stops_at_max_bytes():
    """Item 3: a 302 whose own body is a gzip bomb (requests reads a redirect's body to reuse
    the connection): bounded like any answer."""
    head = [("Location", "/fine"), ("Content-Encoding", "gzip")]
    with RawServer(answer(http_response(302, gzip_bomb(100 * MB), head))) as api:
        session = plain(api.url, max_bytes=CAP)
        peak, out = peak_memory(lambda: session.get("/bomb"))
    assert isinstance(out.error, ApiError), out.error
    assert "5,000,000" in str(out.error)
    assert peak < 3 * CAP, f"peak {peak / MB:.1f} MB"


def test_token_error_body_that_is_a_bomb_stops_at_one_megabyte():
    """Item 3: a token endpoint refusing with a 400 whose body is a deflate bomb."""
    with bomb_server(400, deflate_bomb(100 * MB), "deflate") as token:
        session = connect(token_url=token.url + "/token", client_id="c", client_secret="s3cret",
                          base_url=token.url)
        peak, out = peak_memory(lambda: session.token)
    assert isinstance(out.error, AuthenticationError), out.error
    assert "1,000,000" in str(out.error)
    assert peak < 8 * MB, f"peak {peak / MB:.1f} MB"


def test_oidc_discovery_document_that_is_a_bomb_is_refused():
    """Item 3: the OIDC discovery document is a gzip bomb: refused within the token cap."""
    with bomb_server(200, gzip_bomb(100 * MB), "gzip") as issuer:
        peak, out = peak_memory(lambda: connect(
            issuer=issuer.url, client_id="c", client_secret="s3cret",
            base_url=issuer.url).token)
    assert isinstance(out.error, (ConfigurationError, AuthenticationError)), out.error
    assert peak < 8 * MB, f"peak {peak / MB:.1f} MB"


@pytest.mark.parametrize("encoding,body", [
    ("br", b"\x1b\xff\xff\x0f\x00" * 100),        # not asked for (brotli)
    ("zstd", b"\x28\xb5\x2f\xfd" + b"\0" * 100),   # not asked for (zstandard)
    ("gzip, gzip", None),                          # a bomb compressed twice
    ("compress", b"\x1f\x9d" + b"\0" * 100),
])
def test_encodings_not_asked_for_are_refused(encoding, body):
    """Item 3: an answer in an encoding explorer did not ask for (it asks for gzip and deflate,
    which it decodes with a bounded output) is a typed error, never decoded unbounded nor
    returned as if it were the answer."""
    data = nested_gzip_bomb(100 * MB) if body is None else body
    with bomb_server(200, data, encoding) as api:
        session = plain(api.url, max_bytes=CAP)
        peak, out = peak_memory(lambda: session.get("/x"))
    assert isinstance(out.error, ApiError), (out.error, out.value)
    assert peak < 3 * CAP, f"peak {peak / MB:.1f} MB"
    assert encoding.split(",")[0] in str(out.error) or "5,000,000" in str(out.error)


# -- item 4: crawls and paging without end ------------------------------------------------------
def paged_list_fails(api: HttpServer, said: str, requests: int):
    """``/list`` on ``api`` read with next links ends in an ``ApiError`` saying ``said`` (with
    a ``limit=`` hint) after exactly ``requests`` requests; returns the session."""
    from explorer.session import NextLink

    session = plain(api.url)
    out = within(20, session.frame, "/list", paging=NextLink(), progress=False)
    assert isinstance(out.error, ApiError), out
    assert said in str(out.error) and "limit=" in out.error.hint
    assert len(api.requests()) == requests
    return session


def test_pages_that_alternate_a_b_without_totals_are_refused():
    """Item 4: a collection without totals whose next links serve page A, B, A, B… — each page
    differs from the one before it, so only a fingerprint of every page seen catches it."""

    def pages(request):
        n = int(request.args.get("p", "0"))
        rows = [{"id": "A"}] if n % 2 == 0 else [{"id": "B"}]
        return json_answer({"entries": rows, "next": f"/list?p={n + 1}"})

    with HttpServer(pages) as api:
        paged_list_fails(api, "page 3 repeats a page", requests=3)


def test_a_collection_past_the_page_bound_is_an_error_never_a_silent_cut(monkeypatch):
    """Item 4: at the sequential page bound the crawl stops with a typed error, never returns
    part of the collection as if it were all; ``limit=`` below the bound is a chosen cut."""
    from explorer.session import NextLink, paging

    monkeypatch.setattr(paging, "MAX_SEQUENTIAL_PAGES", 20)

    def pages(request):
        n = int(request.args.get("p", "0"))
        return json_answer({"entries": [{"id": n}], "next": f"/list?p={n + 1}"})

    with HttpServer(pages) as api:
        session = paged_list_fails(api, "more than 20 pages", requests=21)
        assert len(session.frame("/list", paging=NextLink(), limit=5, progress=False)) == 5


def test_an_icd_hierarchy_with_a_cycle_is_stopped():
    """Item 4: an entity listed as its own ancestor's child is a typed error naming it, after
    a handful of requests (not a crawl that runs until max_entities)."""
    release = "http://id.who.int/icd/release/11/2025-01/mms"

    def icd(request):
        path = request.path
        if path == "/icd/release/11/mms":
            return json_answer({"latestRelease": release, "release": [release]})
        if path == "/icd/release/11/2025-01/mms":
            return json_answer({"@id": release, "child": [f"{release}/1"],
                                "availableLanguages": ["en"]})
        key = path.rsplit("/", 1)[-1]
        child = {"1": "2", "2": "3", "3": "1"}.get(key, "1")  # 1 -> 2 -> 3 -> 1
        return json_answer({"@id": f"{release}/{key}", "classKind": "block", "code": "",
                            "title": {"@value": key}, "child": [f"{release}/{child}"]})

    with HttpServer(icd) as api:
        session = connect("icd", base_url=api.url, auth=None, cache=False, progress=False)
        out = within(20, session.classification)
        assert isinstance(out.error, ApiError), out
        assert "linked twice" in str(out.error) and f"{release}/1" in str(out.error)
        assert len(api.requests()) < 10


# -- item 5: token failures shared ------------------------------------------------------------
def slow_500(request):
    time.sleep(1)
    return json_answer({"error": "server_error", "error_description": "down"}, status=500)


def slow_drop(conn):
    time.sleep(1)  # then the connection closes without an answer


@pytest.mark.parametrize("kind", ["500 after 1 s", "dropped after 1 s"])
def test_token_endpoint_failure_is_shared_by_every_waiter(kind):
    """Item 5: the token endpoint fails after 1 s while 16 threads wait for a token: one token
    request, and all 16 threads fail with its error in about one fetch time (not thread k after
    k seconds)."""
    server = HttpServer(slow_500) if kind.startswith("500") else RawServer(slow_drop)
    with server as token, HttpServer(lambda r: json_answer({})) as api:
        session = connect(token_url=token.url + "/token", client_id="c", client_secret="s3cret",
                          base_url=api.url, retries=0)
        outs = at_once(16, lambda: session.get("/x"), limit=8)
        count = len(token.requests()) if isinstance(token, HttpServer) else token.connections
        assert count == 1, f"{count} token requests"
        assert api.requests() == []
    assert all(isinstance(o.error, AuthenticationError) for o in outs), outs[0].error
    assert max(o.elapsed for o in outs) < 2.5, sorted(round(o.elapsed, 1) for o in outs)
    assert len({str(o.error) for o in outs}) == 1


def test_a_failure_is_not_cached_the_next_call_asks_again():
    """Item 5: sharing a failure is for the threads waiting on that fetch only: the next call
    asks the endpoint again (and gets its token once it is back)."""
    state = {"fail": True}

    def handler(request):
        if state["fail"]:
            return json_answer({"error": "temporarily_unavailable"}, status=500)
        return token_answer("tok-abcdef0123")(request)

    with HttpServer(handler) as token, HttpServer(lambda r: json_answer({"ok": 1})) as api:
        session = connect(token_url=token.url + "/token", client_id="c", client_secret="s3cret",
                          base_url=api.url, retries=0)
        with pytest.raises(AuthenticationError):
            session.get("/x")
        state["fail"] = False
        assert session.get("/x") == {"ok": 1}
        assert len(token.requests()) == 2

