"""Bounds on every request: no wait, no read and no body without a limit.

* ``max_wait`` — the longest single wait a server may ask for (``Retry-After`` on a 429/503,
  in seconds or as an HTTP date); asking for more is an immediate :class:`WaitTooLong`, never
  a sleep;
* ``deadline`` — a wall-clock limit on one request: connecting, sending, the headers, the whole
  body, retries and their waits. A watchdog thread shuts the request's sockets down when it
  passes, so a server that sends one byte every half second cannot hold a call (or the token
  lock) for longer: :class:`DeadlineExceeded`;
* ``max_bytes`` — a cap on the *decoded* size of one answer, read by streaming and stopped at
  the cap (gzip and deflate are decoded here, chunk by chunk, with a bounded output):
  :class:`BodyTooLarge`.

A :class:`Budget` holds the limits of the request in progress on this thread (retries and
redirects happen inside it). Errors carry a message and a hint; the session and the token
endpoint turn them into explorer's typed errors.

>>> Limits().deadline, Limits().max_bytes
(120.0, 200000000)
"""

from __future__ import annotations

import heapq
import itertools
import socket
import threading
import time
import zlib
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import timezone
from email.utils import parsedate_to_datetime
from typing import Any

from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.util.retry import Retry

__all__ = [
    "BodyTooLarge",
    "DeadlineExceeded",
    "LimitExceeded",
    "Limits",
    "BoundedRetry",
    "WaitTooLong",
    "WatchedHTTPPool",
    "WatchedHTTPSPool",
    "budget",
    "current",
    "read_body",
    "retry_after",
    "throttle_listener",
]

CHUNK = 64 * 1024
#: The most one decompression step produces: a 64 KiB chunk of a bomb inflates to 64 MB, which
#: must not exist at once beside the body read so far (peak memory stays near ``max_bytes``).
PIECE = 1024 * 1024


@dataclass(frozen=True)
class Limits:
    """The bounds of every request of a transport (seconds, seconds, bytes)."""

    max_wait: float = 60.0
    deadline: float = 120.0
    max_bytes: int = 200_000_000


class LimitExceeded(Exception):
    """A bound was reached. ``message`` says what happened, ``hint`` what to do."""

    def __init__(self, message: str, hint: str) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint


class WaitTooLong(LimitExceeded):
    """The server asked to wait longer than ``max_wait`` before a retry."""

    def __init__(self, status: int, wait: float, limit: float) -> None:
        self.status, self.wait, self.limit = status, wait, limit
        super().__init__(
            f"HTTP {status}: the server asks to wait {_seconds(wait)} before retrying, more than "
            f"max_wait={limit:g} s", "retry later; or connect(max_wait=…) to allow a longer wait")


class DeadlineExceeded(LimitExceeded):
    """The request (with its retries and waits) ran past its ``deadline``."""

    def __init__(self, limit: float) -> None:
        self.limit = limit
        super().__init__(
            f"no complete answer within deadline={limit:g} s (connecting, the answer and any "
            "retries)", "retry later; or connect(deadline=…) for a longer limit")


class BodyTooLarge(LimitExceeded):
    """The decoded answer grew past ``max_bytes``; reading stopped there."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        super().__init__(
            f"the answer is larger than max_bytes={limit:,} bytes once decoded; reading "
            "stopped there", "ask for less (limit=…, page_size=…), or connect(max_bytes=…)")


def _seconds(wait: float) -> str:
    return f"{wait:,.0f} s" if wait < 86_400 else f"{wait / 86_400:,.1f} days"


# -- the budget of the request in progress --------------------------------------------------------
class Budget:
    """The limits and the clock of one request (thread-local while it runs)."""

    def __init__(self, limits: Limits) -> None:
        self.limits = limits
        self.ends = time.monotonic() + limits.deadline
        self.expired = False
        self.done = False
        self._sockets: list[socket.socket] = []
        self._lock = threading.Lock()

    def remaining(self) -> float:
        return self.ends - time.monotonic()

    def watch(self, sock: socket.socket | None) -> None:
        """A socket this request uses: shut down if the deadline passes (the response keeps
        reading from it even after its connection object let it go)."""
        if sock is None:
            return
        with self._lock:
            known = any(s is sock for s in self._sockets)
            if not known:
                self._sockets.append(sock)
            late = self.expired
        if late:
            _shutdown(sock)

    def expire(self) -> None:
        """The deadline passed: mark it, and shut every socket of the request down (a blocked
        read returns at once)."""
        with self._lock:
            if self.done:
                return
            self.expired = True
            sockets = list(self._sockets)
        for sock in sockets:
            _shutdown(sock)


def _shutdown(sock: socket.socket) -> None:
    with suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)


class _Watchdog:
    """One daemon thread that expires budgets at their deadline."""

    def __init__(self) -> None:
        self._heap: list[tuple[float, int, Budget]] = []
        self._cond = threading.Condition()
        self._count = itertools.count()
        self._thread: threading.Thread | None = None

    def arm(self, item: Budget) -> None:
        with self._cond:
            heapq.heappush(self._heap, (item.ends, next(self._count), item))
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="explorer-deadlines",
                                                daemon=True)
                self._thread.start()
            elif self._heap[0][2] is item:
                self._cond.notify()

    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._heap:
                    self._cond.wait()
                ends, _, item = self._heap[0]
                delay = ends - time.monotonic()
                if delay > 0:
                    self._cond.wait(delay)
                    continue
                heapq.heappop(self._heap)
            if not item.done:
                item.expire()


_WATCHDOG = _Watchdog()
_local = threading.local()


def current() -> Budget | None:
    """The budget of the request in progress on this thread, if any."""
    return getattr(_local, "budget", None)


@contextmanager
def budget(limits: Limits) -> Iterator[Budget]:
    """The budget of a request: a new one, or the one already running on this thread (a
    redirect or a retry belongs to the request that caused it)."""
    outer = current()
    if outer is not None:
        yield outer
        return
    item = Budget(limits)
    _local.budget = item
    _WATCHDOG.arm(item)
    try:
        yield item
    finally:
        with item._lock:
            item.done = True
        _local.budget = None


# -- connections that the watchdog can cut ------------------------------------------------------
class _Watched:
    """Registers the connection's socket with the request's budget before sending (a reused
    connection) and once connected (a new one)."""

    sock: socket.socket | None

    def request(self, *args: Any, **kwargs: Any) -> Any:
        item = current()
        if item is not None:
            item.watch(self.sock)
        try:
            return super().request(*args, **kwargs)  # type: ignore[misc]
        finally:
            if item is not None:
                item.watch(self.sock)


class WatchedHTTPConnection(_Watched, HTTPConnection):
    """An HTTP connection registered with the request's budget while it is used."""


class WatchedHTTPSConnection(_Watched, HTTPSConnection):
    """An HTTPS connection registered with the request's budget while it is used."""


class WatchedHTTPPool(HTTPConnectionPool):
    ConnectionCls = WatchedHTTPConnection


class WatchedHTTPSPool(HTTPSConnectionPool):
    ConnectionCls = WatchedHTTPSConnection


# -- retries whose waits are bounded ----------------------------------------------------------
#: A callable ``(status, wait, deadline_remaining)`` told, on this thread, of each throttling
#: answer (429/503) a retry is about to wait for: how a pool of workers learns that the server
#: asks it to slow down (see :func:`explorer.session.parallel.Limiter`).
_listener = threading.local()


@contextmanager
def throttle_listener(listener: Any) -> Iterator[None]:
    """Tell ``listener(status, wait_seconds, deadline_remaining)`` of every throttled retry on
    this thread; a listener that returns true has waited itself (the retry then goes at once),
    one that raises ``TimeoutError`` ran out of the request's deadline."""
    previous = getattr(_listener, "fn", None)
    _listener.fn = listener
    try:
        yield
    finally:
        _listener.fn = previous


def retry_after(value: str | None) -> float | None:
    """The seconds a ``Retry-After`` value asks for (delay seconds or an HTTP date), as the
    server wrote it (no cap applied); ``None`` when absent or unreadable.

    >>> retry_after("120"), retry_after("Wed, 21 Oct 2015 07:28:00 GMT"), retry_after("soon")
    (120.0, 0.0, None)
    >>> retry_after("\xb2"), retry_after("Mon, 01 Jan 99999999999999999999 00:00:00 GMT")
    (None, None)
    """
    if value is None:
        return None
    text = value.strip()
    if text.isascii() and text.isdigit():  # "²" is a digit to str.isdigit(), not to float()
        return float(text)
    try:
        when = parsedate_to_datetime(text)
        if when.tzinfo is None:
            when = when.replace(tzinfo=timezone.utc)
        return max(0.0, when.timestamp() - time.time())
    except (TypeError, ValueError, IndexError, ArithmeticError):  # a year past a C long…
        return None


class BoundedRetry(Retry):
    """urllib3's ``Retry`` whose every wait is bounded: a ``Retry-After`` above ``max_wait``
    raises :class:`WaitTooLong` at once (urllib3 2.0 has no cap at all, later 2.x cap a wait at
    six hours), and no wait may run past the request's deadline."""

    def __init__(self, *args: Any, max_wait: float = 60.0, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.max_wait = max_wait

    def new(self, **kwargs: Any) -> BoundedRetry:
        new = super().new(**kwargs)
        new.max_wait = self.max_wait
        return new

    def sleep(self, response: Any = None) -> None:
        """Wait before the next try: the server's ``Retry-After`` or the backoff, whichever is
        longer (a ``Retry-After: 0`` does not turn the backoff off — as in urllib3), bounded by
        ``max_wait`` and the deadline. A throttle listener (:func:`throttle_listener`) is told
        first and may do the waiting itself (a pool queues the retry for a slot)."""
        asked = None
        if response is not None and self.respect_retry_after_header:
            asked = retry_after(response.headers.get("Retry-After"))
            if asked is not None and asked > self.max_wait:
                raise WaitTooLong(response.status, asked, self.max_wait)
        wait = max(asked or 0.0, self.get_backoff_time())
        item = current()
        if item is not None and wait >= item.remaining():
            raise DeadlineExceeded(item.limits.deadline)
        listener = getattr(_listener, "fn", None)
        throttled = response is not None and response.status in (429, 503)
        if listener is not None and throttled:
            try:
                if listener(response.status, wait,
                            None if item is None else item.remaining()):
                    return
            except TimeoutError:
                raise DeadlineExceeded(item.limits.deadline) from None
        if wait > 0:
            time.sleep(wait)


# -- bounded, streamed body reading -------------------------------------------------------------
class UnsupportedEncoding(ValueError):
    """An answer encoded in a way that was not asked for (``br``, ``zstd``…)."""


class _Decoder:
    """gzip / deflate decoded with a bounded output per call (``max_length``)."""

    def __init__(self, encoding: str) -> None:
        self.encoding = encoding
        if encoding in ("gzip", "x-gzip"):
            self.wbits = 16 + zlib.MAX_WBITS
        elif encoding == "deflate":
            self.wbits = zlib.MAX_WBITS  # zlib format; raw deflate tried if that fails
        else:
            raise UnsupportedEncoding(encoding)
        self.obj = zlib.decompressobj(self.wbits)
        self.started = False

    def feed(self, data: bytes, room: int) -> list[bytes]:
        """Decoded pieces of ``data``, at most ``room`` bytes (a full ``room`` means more)."""
        out: list[bytes] = []
        while data and room > 0:
            try:
                piece = self.obj.decompress(data, min(room, PIECE))
            except zlib.error:
                if self.encoding == "deflate" and not self.started:
                    self.wbits, self.started = -zlib.MAX_WBITS, True
                    self.obj = zlib.decompressobj(self.wbits)
                    continue
                raise
            self.started = True
            out.append(piece)
            room -= len(piece)
            data = self.obj.unconsumed_tail
            if self.obj.eof:
                rest = self.obj.unused_data
                if not rest or self.wbits < 0:
                    break
                self.obj = zlib.decompressobj(self.wbits)  # a gzip stream of several members
                data = rest
        return out

    def flush(self) -> bytes:
        return self.obj.flush()


def read_body(raw: Any, item: Budget, encoding: str) -> bytes:
    """The whole decoded body of urllib3 response ``raw``, read in chunks under ``item``'s
    limits: :class:`BodyTooLarge` at ``max_bytes`` decoded bytes, :class:`DeadlineExceeded`
    once the deadline has passed."""
    cap = item.limits.max_bytes
    decoder = _Decoder(encoding) if encoding not in ("", "identity") else None
    parts: list[bytes] = []
    size = 0
    while True:
        chunk = raw.read(CHUNK, decode_content=False)
        if item.expired:
            raise DeadlineExceeded(item.limits.deadline)
        if not chunk:
            break
        pieces = decoder.feed(chunk, cap - size + 1) if decoder is not None else [chunk]
        for piece in pieces:
            size += len(piece)
            parts.append(piece)
        if size > cap:
            raise BodyTooLarge(cap)
    if decoder is not None:
        tail = decoder.flush()
        size += len(tail)
        parts.append(tail)
        if size > cap:
            raise BodyTooLarge(cap)
    return b"".join(parts)
