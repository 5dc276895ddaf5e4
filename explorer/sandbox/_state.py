"""Shared state handed to every mount: seed, credentials, counters, auth, knobs.

Example:
    >>> from explorer.sandbox._state import State
    >>> st = State(seed=0)
    >>> st.rng("itcare").random() == State(seed=0).rng("itcare").random()
    True

Every mount is constructed as ``Mount(state)`` and may use:
    ``state.seed`` (int), ``state.rng(name) -> random.Random`` (deterministic per seed and
    name), ``state.credentials`` (provider name → its credentials, made by each emulator's
    ``make_credentials``; holds secrets, never print it), ``state.sandbox_url``
    (``"http://127.0.0.1:PORT"``, set once bound),
    ``state.auth`` (:class:`explorer.sandbox.oauth.Auth`), ``state.counters``,
    ``state.token_lifetime``, ``state.refresh_token_lifetime``, ``state.latency``,
    ``state.faults``, ``state.idle_timeout``, ``state.request_timeout``, and each emulator's
    knobs (``state.knobs``, also readable as attributes: ``state.action_seconds``).

Emulator choices:
    * secrets are random per start (``secrets``/``os.urandom``), made by each emulator in the
      format its real server uses; client ids and user names are fixed or derived from the
      seed, readable.
"""

from __future__ import annotations

import base64
import os
import random
import secrets
import string
import threading
from collections import Counter
from collections.abc import Iterable
from typing import Any

from explorer.sandbox._faults import Faults

__all__ = ["Counters", "State", "keycloak_secret", "make_credentials", "random_secret"]


def random_secret() -> str:
    """Base64 of 33 random bytes (44 characters, may hold ``+`` and ``/``)."""
    return base64.b64encode(os.urandom(33)).decode("ascii")


def keycloak_secret() -> str:
    """A Keycloak client secret: 32 alphanumeric characters (emulator choice: the format
    Keycloak generates)."""
    alphabet = string.ascii_letters + string.digits
    return "".join(secrets.choice(alphabet) for _ in range(32))


def make_credentials(seed: int, emulators: Iterable[Any]) -> dict[str, dict[str, Any]]:
    """Fresh credentials for one sandbox start: each emulator's (ids from the seed, secrets
    random)."""
    return {em.name: em.make_credentials(random.Random(f"{seed}:credentials:{em.name}"))
            for em in emulators}


class Counters:
    """Thread-safe request counters (paths, token requests, expired-token hits)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        with self._lock:
            self._paths: Counter[str] = Counter()
            self._tokens: Counter[tuple[str, str | None, str | None]] = Counter()
            self._expired = 0
            self._limited = 0

    def hit(self, path: str) -> None:
        with self._lock:
            self._paths[path] += 1

    def count(self, path_prefix: str | None = None) -> int:
        with self._lock:
            if path_prefix is None:
                return sum(self._paths.values())
            return sum(n for p, n in self._paths.items() if p.startswith(path_prefix))

    def token(self, issuer: str, client_id: str | None, grant_type: str | None) -> None:
        with self._lock:
            self._tokens[(issuer, client_id, grant_type)] += 1

    def tokens(
        self,
        client_id: str | None = None,
        grant_type: str | None = None,
        issuer: str | None = None,
    ) -> int:
        with self._lock:
            return sum(
                n
                for (iss, cid, gt), n in self._tokens.items()
                if (client_id is None or cid == client_id)
                and (grant_type is None or gt == grant_type)
                and (issuer is None or iss == issuer)
            )

    def limited(self) -> None:
        with self._lock:
            self._limited += 1

    @property
    def rate_limited(self) -> int:
        """Requests answered 429 by the rate limit."""
        with self._lock:
            return self._limited

    def expired(self) -> None:
        with self._lock:
            self._expired += 1

    @property
    def expired_hits(self) -> int:
        with self._lock:
            return self._expired


class State:
    """Mutable sandbox state shared by the server and every mount."""

    def __init__(
        self,
        seed: int = 0,
        *,
        emulators: Iterable[Any] = (),
        token_lifetime: float | None = None,
        latency: float = 0.0,
        faults: Faults | None = None,
    ) -> None:
        self.seed = seed
        self.sandbox_url = ""
        self.credentials: dict[str, dict[str, Any]] = make_credentials(seed, emulators)
        self.counters = Counters()
        self.token_lifetime = token_lifetime
        self.refresh_token_lifetime: float | None = None
        self.latency = float(latency)
        self.faults = faults
        #: token buckets of ``start(rate_limit=…)`` (None: no rate limit)
        self.buckets: Any = None
        #: seconds an idle keep-alive connection stays open
        self.idle_timeout = 120.0
        #: seconds a request (line, headers, body) may take to arrive once it has begun
        self.request_timeout = 30.0
        #: the emulators' own knobs (name → value), defaults from each emulator's ``knobs``
        self.knobs: dict[str, Any] = {k: v for em in emulators for k, v in em.knobs.items()}
        #: the token servers (:class:`explorer.sandbox.oauth.Auth`), set by ``start()``
        self.auth: Any = None

    def __getattr__(self, name: str) -> Any:
        # an emulator's knob reads as an attribute (``state.action_seconds``)
        knobs = self.__dict__.get("knobs") or {}
        if name in knobs:
            return knobs[name]
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    def rng(self, name: str) -> random.Random:
        """A fresh generator, deterministic for (seed, name)."""
        return random.Random(f"{self.seed}:{name}")

    def __repr__(self) -> str:
        return f"State(seed={self.seed}, url={self.sandbox_url!r})"
