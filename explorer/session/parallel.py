"""Concurrent fetching at the server's limit: an adaptive :class:`Limiter`, ``parallel_map``
over a list, ``crawl`` over a growing frontier, and ``tqdm.auto`` progress bars.

How the limiter adapts (an AIMD rule on concurrency, plus a rate learned from throttling):

* it starts small (2 requests in flight) and, while latency stays flat (within 1.5× the lowest
  seen) and every slot is used, grows: by one per completion at first (doubling each round
  trip), by one per window of completions once it has been throttled or seen latency rise —
  up to ``max_workers``;
* latency rising past 2.5× the lowest means queueing at the server: the window shrinks by 10 %;
* a 429 or 503 (seen by the transport's retry, before it waits) halves the window — once per
  round trip, however many workers see it — and caps the *rate* at 90 % of the rate that was
  getting through; the cap then rises by 0.5 % a second, probing for more;
* ``Retry-After`` (or the backoff) pauses the whole pool: no new request starts until it has
  passed; the throttled request itself gives its slot back and queues for a new one, so its
  retry waits out the pause and fits in the shrunk window (the others do not hammer meanwhile).

One limiter serves one host of one session, shared by every call that runs at the same time
(:meth:`explorer.session.Session.limiter`). ``workers=N`` pins a fixed pool instead (each worker
backs off on its own, as plain thread pools do).

>>> parallel_map(lambda x: x * 2, [1, 2, 3], workers=2, progress=False)
[2, 4, 6]
>>> parallel_map(lambda x: x + 1, range(5), limiter=Limiter(4), progress=False)
[1, 2, 3, 4, 5]
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable, Hashable, Iterable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from typing import Any, TypeVar

from ..transport import throttle_listener

__all__ = ["DEFAULT_MAX_WORKERS", "DEFAULT_WORKERS", "PROGRESS_MIN", "Limiter", "crawl",
           "parallel_map", "progress_bar"]

T = TypeVar("T")
R = TypeVar("R")

#: The most requests in flight per host an adaptive limiter grows to (``max_workers=``).
DEFAULT_MAX_WORKERS = 16
#: Kept for callers that pin a pool: the former fixed default.
DEFAULT_WORKERS = 8
#: Below this many items no progress bar is shown (short work needs none).
PROGRESS_MIN = 20


def progress_bar(total: int | None, desc: str, enabled: bool = True, *, unit: str = "it"):
    """A ``tqdm.auto`` bar (notebook widget in Jupyter, text elsewhere), or a silent stand-in.
    tqdm shows the rate (``unit``/s) and, when ``total`` is known, an ETA."""
    if not enabled or (total is not None and total < PROGRESS_MIN):
        return _Silent()
    from tqdm.auto import tqdm

    return tqdm(total=total, desc=desc, leave=False, unit=unit)


class _Silent:
    total: int | None = None

    def update(self, n: int = 1) -> None:
        pass

    def refresh(self) -> None:
        pass

    def close(self) -> None:
        pass

    def __enter__(self) -> _Silent:
        return self

    def __exit__(self, *exc: object) -> None:
        pass


class Limiter:
    """Adaptive concurrency for one host (see the module docstring).

    ``fixed=True`` keeps ``max_workers`` slots and never adapts nor pauses (a plain pool).
    ``window``, ``rate`` (requests per second, ``None`` until throttled), ``throttled`` (429
    and 503 seen) and ``peak`` (the largest window) tell how it went.

    >>> lim = Limiter(8)
    >>> start = lim.acquire(); lim.release(start)
    >>> lim.window >= 2 and lim.in_flight == 0
    True
    """

    def __init__(self, max_workers: int = DEFAULT_MAX_WORKERS, *, initial: int = 2,
                 fixed: bool = False) -> None:
        if max_workers < 1:
            raise ValueError("max_workers must be >= 1")
        self.max_workers = int(max_workers)
        self.fixed = fixed
        self.window = float(self.max_workers if fixed else min(initial, self.max_workers))
        self.rate: float | None = None
        self.throttled = 0
        self.peak = self.window
        self.in_flight = 0
        self._cond = threading.Condition()
        self._paused_until = 0.0
        self._next_start = 0.0
        self._min_latency: float | None = None
        self._latency: float | None = None
        self._slow_start = True
        self._last_cut = float("-inf")
        self._last_probe = time.monotonic()
        self._completions: deque[float] = deque(maxlen=8192)
        self._holding = threading.local()

    def held_here(self) -> bool:
        """Whether this thread runs a task in one of this limiter's slots (work it starts is
        part of that task: run inline, not in another slot — no nested deadlock)."""
        return getattr(self._holding, "depth", 0) > 0

    # -- slots ------------------------------------------------------------------------------
    def acquire(self, timeout: float | None = None) -> float:
        """Wait for a slot (the window, the rate, a pause), take it; returns the start time.
        ``TimeoutError`` if none is free within ``timeout`` seconds (a request's deadline)."""
        end = None if timeout is None else time.monotonic() + timeout
        with self._cond:
            while True:
                now = time.monotonic()
                until = None
                if self.in_flight >= max(1, int(self.window)):
                    until = now + 0.5
                elif now < self._paused_until:
                    until = self._paused_until
                elif self.rate is not None and now < self._next_start:
                    until = self._next_start
                if until is not None:
                    if end is not None and now >= end:
                        raise TimeoutError("no free slot before the deadline")
                    self._cond.wait((until if end is None else min(until, end)) - now)
                    continue
                self.in_flight += 1
                if self.rate is not None:
                    self._next_start = max(self._next_start, now) + 1.0 / self.rate
                return now

    def release(self, started: float, ok: bool = True) -> None:
        """Give the slot back; a successful request's latency feeds the rule."""
        with self._cond:
            full = self.in_flight >= int(self.window)
            self.in_flight -= 1
            now = time.monotonic()
            self._completions.append(now)
            if ok and not self.fixed:
                self._observe(now - started, now, full)
            self._cond.notify_all()

    def _observe(self, latency: float, now: float, full: bool) -> None:
        floor = self._min_latency
        floor = latency if floor is None else min(floor * 1.0005, latency)  # drifts up slowly
        self._min_latency = floor
        self._latency = latency if self._latency is None else 0.8 * self._latency + 0.2 * latency
        if self._latency <= 1.5 * floor:
            if full:
                step = 1.0 if self._slow_start else 1.0 / self.window
                self.window = min(float(self.max_workers), self.window + step)
                self.peak = max(self.peak, self.window)
        elif self._latency > 2.5 * floor:
            self._slow_start = False
            self.window = max(1.0, self.window * 0.9)
        if self.rate is not None:
            self.rate *= 1.0 + 0.005 * (now - self._last_probe)
        self._last_probe = now

    def throttle(self, status: int, wait: float) -> None:
        """The server answered 429/503 (asking to wait ``wait`` s): slow down, pause all."""
        with self._cond:
            self.throttled += 1
            if self.fixed:
                return
            now = time.monotonic()
            self._paused_until = max(self._paused_until, now + max(0.0, wait))
            self._next_start = max(self._next_start, self._paused_until)
            if now - self._last_cut >= 2 * (self._min_latency or 0.05):  # once per round trip
                self._last_cut = now
                self._slow_start = False
                self.window = max(1.0, self.window / 2)
                observed = self._observed_rate(now)
                if observed:
                    self.rate = 0.9 * (observed if self.rate is None
                                       else min(self.rate, observed))
            self._cond.notify_all()

    def _observed_rate(self, now: float, span: float = 2.0) -> float | None:
        recent = [t for t in self._completions if t >= now - span]
        if len(recent) < 2:
            return None
        return len(recent) / max(now - recent[0], 1e-3)

    def run(self, fn: Callable[[T], R], item: T) -> R:
        """``fn(item)`` in a slot (inline within a slot already held), throttling answers
        reported to this limiter."""
        if self.held_here():
            return fn(item)
        return _in_slot(self, self.acquire(), lambda: fn(item))

    def __repr__(self) -> str:
        rate = f" rate={self.rate:.0f}/s" if self.rate else ""
        return (f"<Limiter window={self.window:.1f}/{self.max_workers} "
                f"in_flight={self.in_flight}{rate} throttled={self.throttled}>")


def _limiter(workers: int | None, limiter: Limiter | None) -> Limiter:
    if workers is not None:
        if workers < 1:
            raise ValueError("workers must be >= 1")
        return Limiter(workers, fixed=True)
    return limiter if limiter is not None else Limiter()


def parallel_map(
    fn: Callable[[T], R],
    items: Iterable[T],
    *,
    workers: int | None = None,
    limiter: Limiter | None = None,
    progress: bool = True,
    desc: str = "fetching",
) -> list[R]:
    """``[fn(x) for x in items]`` concurrently, in input order: on a fixed pool of ``workers``
    threads, or paced by ``limiter`` (adaptive; a private one if none is given). The first
    error stops what has not started and is raised as is."""
    items = list(items)
    results: list[R] = [None] * len(items)  # type: ignore[list-item]
    queue = deque(enumerate(items))

    def next_task() -> tuple[Hashable, Callable[[], R]] | None:
        if not queue:
            return None
        i, item = queue.popleft()
        return i, (lambda: fn(item))

    def done(key: Hashable, result: R) -> None:
        results[key] = result  # type: ignore[index]

    lim = _limiter(workers, limiter)
    if len(items) == 1:  # no thread for one call
        return [lim.run(fn, items[0])]
    with progress_bar(len(items), desc, progress) as bar:
        _drive(lim, next_task, done, bar)
    return results


def crawl(
    roots: Iterable[Hashable],
    fetch: Callable[[Any], R],
    expand: Callable[[Any, R], Iterable[Hashable]],
    *,
    workers: int | None = None,
    limiter: Limiter | None = None,
    progress: bool = True,
    desc: str = "crawl",
    unit: str = "it",
) -> None:
    """Fetch ``roots`` and everything ``expand(key, result)`` discovers, concurrently, as soon as
    it is discovered (no waiting for a level to finish). ``expand`` runs on the calling thread,
    in completion order, and returns the keys to fetch next (the caller removes those it has
    seen or holds already). The bar's total grows with the frontier: it shows the rate and an
    ETA for what is known so far."""
    frontier: deque[Hashable] = deque(roots)
    lim = _limiter(workers, limiter)

    def next_task() -> tuple[Hashable, Callable[[], R]] | None:
        if not frontier:
            return None
        key = frontier.popleft()
        return key, (lambda: fetch(key))

    with progress_bar(None, desc, progress, unit=unit) as bar:
        known = [len(frontier)]
        bar.total = known[0]

        def done(key: Hashable, result: R) -> None:
            new = list(expand(key, result))
            frontier.extend(new)
            known[0] += len(new)
            bar.total = known[0]

        _drive(lim, next_task, done, bar)


def _drive(lim: Limiter, next_task: Callable[[], tuple[Hashable, Callable[[], Any]] | None],
           done: Callable[[Hashable, Any], None], bar: Any) -> None:
    """Start tasks while there are some and the limiter gives slots; hand results to ``done``
    on this thread as they complete; raise the first error once the running tasks end."""
    if lim.max_workers == 1 or lim.held_here():  # nested in a task: inline, in its slot
        while (task := next_task()) is not None:
            done(task[0], lim.run(lambda t: t(), task[1]))
            bar.update()
        return
    pending: dict[Future[Any], Hashable] = {}
    failure: BaseException | None = None
    with ThreadPoolExecutor(max_workers=lim.max_workers,
                            thread_name_prefix="explorer-worker") as pool:
        while True:
            task = next_task() if failure is None else None
            if task is not None:
                key, thunk = task
                started = lim.acquire()
                future = pool.submit(_in_slot, lim, started, thunk)
                pending[future] = key
            finished = [f for f in pending if f.done()]
            if task is None and not finished:
                if not pending:
                    break
                finished = list(wait(pending, return_when=FIRST_COMPLETED)[0])
            for future in finished:
                key = pending.pop(future)
                error = future.exception()
                if error is not None:
                    failure = failure or error
                    continue
                if failure is None:
                    done(key, future.result())
                    bar.update()
    if failure is not None:
        raise failure


def _in_slot(lim: Limiter, started: float, thunk: Callable[[], R]) -> R:
    """Run ``thunk`` in the slot taken at ``started``. A throttled retry gives the slot back
    and queues for a new one: it starts again only after the pause and within the window the
    throttling shrank (otherwise every worker in flight would retry at once, over the limit)."""
    holding = lim._holding
    holding.depth = getattr(holding, "depth", 0) + 1
    slot: list[float | None] = [started]

    def throttled(status: int, wait: float, remaining: float | None = None) -> bool:
        lim.throttle(status, wait)
        if lim.fixed:
            return False  # a plain pool: the worker backs off on its own
        taken, slot[0] = slot[0], None
        if taken is not None:
            lim.release(taken, ok=False)
        slot[0] = lim.acquire(timeout=remaining)  # TimeoutError: the request's deadline
        return True

    ok = False
    try:
        with throttle_listener(throttled):
            result = thunk()
        ok = True
        return result
    finally:
        holding.depth -= 1
        if slot[0] is not None:
            lim.release(slot[0], ok)
