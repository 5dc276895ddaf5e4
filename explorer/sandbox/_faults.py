"""Fault injection for the sandbox: random (seeded) or scripted failures.

Example:
    >>> from explorer.sandbox import Faults
    >>> f = Faults(script=["503", None, "drop"], match="/id.who.int/")
    >>> [f.pick("/id.who.int/icd/entity", is_token=False) for _ in range(4)]
    [503, None, 'drop', None]
    >>> f.pick("/itcare.cegedim.cloud/itcare/health", is_token=False) is None
    True

Fault kinds:
    an int status (500, 502, 503, 504, 429, ...): empty body; 429 and 503 carry
    ``Retry-After: <retry_after>``. ``"drop"``: headers and part of the body, then the
    connection is closed. ``"slow"``: sleep ``slow_seconds`` then answer normally.
    ``"html"``: 200 ``text/html`` error page. ``"badjson"``: 200 ``application/json`` that
    does not parse. ``"no_access_token"`` / ``"no_expires_in"``: the normal response with
    that key removed (meant for token endpoints; other JSON answers are left unchanged).

Emulator choices:
    * ``match=None`` applies to every request EXCEPT the token servers (token endpoints,
      discovery documents, JWKS, Jindexe ``/public/token``). A string ``match`` is a plain
      prefix of the sandbox path (``/<real host>/<real path>``) and applies to whatever it
      matches, token endpoints included (``match="/icdaccessmanagement.who.int/"``).
    * Script entries are consumed first, one per matching request, in order; after the
      script is exhausted the ``rate`` table (if any) applies.
    * ``rate`` draws one uniform number per matching request from ``Random(seed)`` under a
      lock; kinds are checked in the order of ``sorted(map(str, kinds))``, so a given seed
      yields the same sequence of decisions.
    * Every injected status has an empty body (``Content-Length: 0``), like a gateway.
"""

from __future__ import annotations

import random
import threading
from collections import Counter, deque
from collections.abc import Iterable, Mapping

__all__ = ["KINDS", "FaultKind", "Faults"]

FaultKind = int | str
KINDS = frozenset({"drop", "slow", "html", "badjson", "no_access_token", "no_expires_in"})


def _normalize(kind: FaultKind | None) -> FaultKind | None:
    if kind is None:
        return None
    if isinstance(kind, bool):
        raise ValueError(f"invalid fault kind: {kind!r}")
    if isinstance(kind, int):
        if not 400 <= kind <= 599:
            raise ValueError(f"fault status must be 4xx/5xx, got {kind}")
        return kind
    if isinstance(kind, str):
        if kind.isdigit():
            return _normalize(int(kind))
        if kind in KINDS:
            return kind
    raise ValueError(f"invalid fault kind: {kind!r} (int status or one of {sorted(KINDS)})")


class Faults:
    """Thread-safe, deterministic fault plan (see module docstring).

    Args:
        rate: ``{kind: probability}``; probabilities must sum to at most 1.
        script: kinds applied to the next matching requests in order (``None`` = normal).
        retry_after: value of the ``Retry-After`` header of injected 429/503 answers.
        match: sandbox path prefix, or ``None`` for every non-token request.
        seed: seed of the random generator used by ``rate``.
        slow_seconds: delay of the ``"slow"`` kind.
    """

    def __init__(
        self,
        rate: Mapping[FaultKind, float] | None = None,
        *,
        script: Iterable[FaultKind | None] | None = None,
        retry_after: int = 1,
        match: str | None = None,
        seed: int = 0,
        slow_seconds: float = 5.0,
    ) -> None:
        table = [(_normalize(k), float(p)) for k, p in (rate or {}).items()]
        if any(p < 0 for _, p in table) or sum(p for _, p in table) > 1.0 + 1e-9:
            raise ValueError("fault rates must be >= 0 and sum to at most 1")
        self.rate: list[tuple[FaultKind, float]] = sorted(table, key=lambda kp: str(kp[0]))
        self.script: deque[FaultKind | None] = deque(_normalize(k) for k in (script or ()))
        self.retry_after = int(retry_after)
        self.match = match
        self.seed = seed
        self.slow_seconds = float(slow_seconds)
        self.injected: Counter[FaultKind] = Counter()
        self._rng = random.Random(seed)
        self._lock = threading.Lock()

    def applies(self, path: str, is_token: bool) -> bool:
        """Whether the sandbox path ``path`` is subject to this plan."""
        if self.match is None:
            return not is_token
        return path.startswith(self.match)

    def pick(self, path: str, is_token: bool) -> FaultKind | None:
        """The fault for this request (``None`` = answer normally); consumes the plan."""
        if not self.applies(path, is_token):
            return None
        with self._lock:
            if self.script:
                kind = self.script.popleft()
            elif self.rate:
                draw = self._rng.random()
                kind = None
                acc = 0.0
                for k, p in self.rate:
                    acc += p
                    if draw < acc:
                        kind = k
                        break
            else:
                kind = None
            if kind is not None:
                self.injected[kind] += 1
            return kind

    def __repr__(self) -> str:
        return (
            f"Faults(rate={dict(self.rate)!r}, script={list(self.script)!r}, "
            f"retry_after={self.retry_after}, match={self.match!r}, seed={self.seed})"
        )
