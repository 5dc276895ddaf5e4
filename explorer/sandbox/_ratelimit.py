"""Rate limiting like an API gateway: a token bucket per client and per mount.

``sandbox.start(rate_limit=R, burst=B)``: each client (its bearer token's client, else its API
key, else its address) gets ``B`` requests at once and ``R`` a second after that, on each
mounted API host (token servers are not limited); a request beyond gets ``429 Too Many
Requests`` with ``Retry-After`` in whole seconds (rounded up), as gateways answer. The
sandbox's counters tell how many it sent (``box.rate_limited()``).

>>> bucket, key = Buckets(rate=2, burst=1), ("host", "client")
>>> bucket.take(key, now=0.0), bucket.take(key, now=0.0), bucket.take(key, now=0.6)
(None, 1, None)
"""

from __future__ import annotations

import math
import threading
import time
from typing import Any

__all__ = ["Buckets", "client_of"]


class Buckets:
    """Token buckets by key: ``take(key)`` is ``None`` (go) or the seconds to wait (rounded up)."""

    def __init__(self, rate: float, burst: float | None = None) -> None:
        if rate <= 0:
            raise ValueError("rate_limit must be > 0 requests per second")
        self.rate = float(rate)
        self.burst = float(burst if burst is not None else rate)
        if self.burst < 1:
            raise ValueError("burst must be >= 1 request")
        self._buckets: dict[Any, tuple[float, float]] = {}
        self._lock = threading.Lock()

    def take(self, key: Any, now: float | None = None) -> int | None:
        now = time.monotonic() if now is None else now
        with self._lock:
            tokens, last = self._buckets.get(key, (self.burst, now))
            tokens = min(self.burst, tokens + (now - last) * self.rate)
            if tokens >= 1.0:
                self._buckets[key] = (tokens - 1.0, now)
                return None
            self._buckets[key] = (tokens, now)
            return max(1, math.ceil((1.0 - tokens) / self.rate))


def client_of(request: Any, auth: Any) -> str:
    """Who is asking: the client of a bearer token, else an API key, else the address."""
    scheme, _, value = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() == "bearer" and auth is not None:
        record = auth.token_record(value.strip())
        if record is not None:
            return f"client:{record.client_id}"
    key = request.headers.get("X-API-KEY") or request.headers.get("API_KEY")
    if key:
        return f"key:{hash(key)}"
    return f"addr:{request.remote_addr}"
