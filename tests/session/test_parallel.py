"""Adaptive concurrency over real sockets: the pool grows while the server keeps up, shrinks on
429, pauses as a whole on ``Retry-After``, and ``workers=N`` pins a fixed pool."""

from __future__ import annotations

import threading
import time

import pytest
from werkzeug.wrappers import Request, Response

import explorer
from explorer.session.parallel import Limiter, crawl, parallel_map
from tests.localserver import json_response

pytestmark = pytest.mark.timeout(120)


class Gate:
    """Counts requests in flight at the server; optional capacity (429 above it)."""

    def __init__(self, latency: float, capacity: int | None = None,
                 retry_after: str = "0") -> None:
        self.latency, self.capacity, self.retry_after = latency, capacity, retry_after
        self.in_flight = self.peak = self.throttled = self.served = 0
        self.starts: list[float] = []
        self.lock = threading.Lock()

    def __call__(self, request: Request) -> Response:
        with self.lock:
            self.starts.append(time.monotonic())
            if self.capacity is not None and self.in_flight >= self.capacity:
                self.throttled += 1
                return Response(b"", status=429, headers={"Retry-After": self.retry_after})
            self.in_flight += 1
            self.peak = max(self.peak, self.in_flight)
        try:
            time.sleep(self.latency)
            return json_response({"i": request.args.get("i")})
        finally:
            with self.lock:
                self.in_flight -= 1
                self.served += 1


def _session(server, **kw):
    return explorer.connect(base_url=server.url, auth=None, retries=8, **kw)


def test_the_pool_grows_while_the_server_keeps_up(server):
    gate = server.route("GET", "/x")(Gate(latency=0.02))
    session = _session(server, max_workers=12)
    got = parallel_map(lambda i: session.get("/x", i=i)["i"], range(300),
                       limiter=session.limiter(), progress=False)
    assert got == [str(i) for i in range(300)]  # in input order
    lim = session.limiter()
    assert lim.peak == 12 and gate.peak >= 10 and lim.throttled == 0


def test_the_pool_shrinks_on_429_and_stays_under_the_limit(server):
    gate = server.route("GET", "/x")(Gate(latency=0.02, capacity=4))
    session = _session(server, max_workers=16)
    parallel_map(lambda i: session.get("/x", i=i), range(400), limiter=session.limiter(),
                 progress=False)
    lim = session.limiter()
    assert gate.served == 400 and lim.throttled > 0
    assert lim.window < 6  # found the server's limit (4 in flight) and stayed near it
    assert gate.throttled < 0.1 * 400  # polite: few requests refused


def test_retry_after_pauses_every_worker(server):
    calls = {"n": 0}
    lock = threading.Lock()
    starts: list[float] = []

    @server.route("GET", "/x")
    def x(request: Request) -> Response:
        with lock:
            calls["n"] += 1
            n = calls["n"]
            starts.append(time.monotonic())
        if n == 40:
            return Response(b"", status=429, headers={"Retry-After": "1"})
        time.sleep(0.01)
        return json_response({})

    session = _session(server, max_workers=8)
    parallel_map(lambda i: session.get("/x"), range(120), limiter=session.limiter(),
                 progress=False)
    throttled_at = starts[39]
    after = [t for t in starts[40:] if t > throttled_at]
    # nothing starts while the pause lasts (only the requests already on their way)
    gap = [t for t in after if throttled_at + 0.05 < t < throttled_at + 0.9]
    assert gap == [] and session.limiter().throttled == 1


def test_workers_pins_a_fixed_pool(server):
    gate = server.route("GET", "/x")(Gate(latency=0.02))
    session = _session(server)
    parallel_map(lambda i: session.get("/x"), range(100), workers=3, progress=False)
    assert gate.peak == 3


def test_nested_work_runs_in_the_slot_of_its_task(server):
    server.route("GET", "/x")(Gate(latency=0.005))
    session = _session(server, max_workers=2)
    lim = session.limiter()

    def outer(i: int) -> int:  # each task fans out again on the same limiter: no deadlock
        return len(parallel_map(lambda j: session.get("/x"), range(3), limiter=lim,
                                progress=False))

    assert parallel_map(outer, range(6), limiter=lim, progress=False) == [3] * 6


def test_crawl_follows_what_each_answer_reveals_and_raises_the_first_error():
    tree = {0: [1, 2], 1: [3, 4], 2: [5], 3: [], 4: [6], 5: [], 6: []}
    seen: list[int] = []
    crawl([0], lambda k: tree[k], lambda k, kids: (seen.append(k), kids)[1],
          limiter=Limiter(4), progress=False)
    assert sorted(seen) == list(range(7))

    def boom(k: int) -> list[int]:
        if k == 4:
            raise ValueError("broken")
        return tree[k]

    with pytest.raises(ValueError, match="broken"):
        crawl([0], boom, lambda k, kids: kids, limiter=Limiter(4), progress=False)


def test_a_queued_slot_wait_ends_at_the_timeout():
    """A throttled retry queues for a slot within what is left of its request's deadline."""
    lim = Limiter(1)
    start = lim.acquire()
    t0 = time.monotonic()
    with pytest.raises(TimeoutError):
        lim.acquire(timeout=0.2)
    assert 0.15 < time.monotonic() - t0 < 2
    lim.release(start)
    assert lim.acquire(timeout=0.2) >= t0  # a free slot is taken at once
