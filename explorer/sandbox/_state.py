"""Shared state handed to every mount: seed, credentials, counters, auth, knobs.

Example:
    >>> from explorer.sandbox._state import State
    >>> st = State(seed=0)
    >>> st.rng("itcare").random() == State(seed=0).rng("itcare").random()
    True

Every mount is constructed as ``Mount(state)`` and may use:
    ``state.seed`` (int), ``state.rng(name) -> random.Random`` (deterministic per seed and
    name), ``state.credentials`` (dict, see :func:`make_credentials`; holds secrets, never
    print it), ``state.sandbox_url`` (``"http://127.0.0.1:PORT"``, set once bound),
    ``state.auth`` (:class:`explorer.sandbox.oauth.Auth`), ``state.counters``,
    ``state.token_lifetime``, ``state.refresh_token_lifetime``, ``state.latency``,
    ``state.faults``, ``state.action_seconds`` (ITCare async action duration),
    ``state.synthetic_icd`` and ``state.icd_release_files`` (read by the ICD mount).

Emulator choices:
    * secrets are random per start (``secrets``/``os.urandom``). Keycloak client secrets
      (ITCare, GOPACS) are 32 alphanumeric chars, the format Keycloak generates (short
      enough that the seed's ``echo -n 'ID:SECRET' | base64`` does not wrap at 76 columns).
      The ICD secret is 44 chars of base64 (may hold ``+`` and ``/``, like WHO's) and
      always also holds ``+``, ``%`` and ``:`` so that clients must form-urlencode it
      before HTTP Basic (RFC 6749 section 2.3.1). GOPACS ``API_KEY`` and the Jindexe
      password are base64 of 33 random bytes; the Jindexe API key is 40 hex chars.
    * client ids and user names are fixed or derived from the seed, readable.
"""

from __future__ import annotations

import base64
import os
import random
import secrets
import string
import threading
import uuid
from collections import Counter
from typing import Any

from explorer.sandbox._faults import Faults


def _secret() -> str:
    return base64.b64encode(os.urandom(33)).decode("ascii")


def _keycloak_secret() -> str:
    # emulator choice: Keycloak generates 32-char alphanumeric client secrets
    alphabet = string.ascii_letters + string.digits
    return "".join(secrets.choice(alphabet) for _ in range(32))


def _icd_secret() -> str:
    chars = list(_secret()[:41])
    for special in "+%:":
        chars.insert(secrets.randbelow(len(chars) + 1), special)
    return "".join(chars)


def make_credentials(seed: int) -> dict[str, dict[str, str]]:
    """Fresh credentials for one sandbox start (ids from the seed, secrets random)."""
    rng = random.Random(f"{seed}:credentials")
    guid = lambda: str(uuid.UUID(int=rng.getrandbits(128), version=4))  # noqa: E731
    return {
        "icd": {"client_id": f"{guid()}_{guid()}", "client_secret": _icd_secret()},
        "itcare": {"client_id": "sandbox-itcare", "client_secret": _keycloak_secret()},
        "gopacs": {
            "client_id": "sandbox-gopacs",
            "client_secret": _keycloak_secret(),
            "api_key": _secret(),
        },
        "jindexe": {
            "api_key": secrets.token_hex(20),
            "username": "utilisateur.demo@example.fr",
            "password": _secret(),
        },
    }


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
        token_lifetime: float | None = None,
        latency: float = 0.0,
        faults: Faults | None = None,
    ) -> None:
        from explorer.sandbox.oauth import Auth

        self.seed = seed
        self.sandbox_url = ""
        self.credentials: dict[str, dict[str, Any]] = make_credentials(seed)
        self.counters = Counters()
        self.token_lifetime = token_lifetime
        self.refresh_token_lifetime: float | None = None
        self.latency = float(latency)
        self.faults = faults
        self.action_seconds = 1.0
        self.synthetic_icd = 0  # read by the ICD mount (size of its synthetic chapter)
        self.icd_release_files: list[str] | None = None  # ICD mount: None = shipped files
        self.auth = Auth(self)

    def rng(self, name: str) -> random.Random:
        """A fresh generator, deterministic for (seed, name)."""
        return random.Random(f"{self.seed}:{name}")

    def __repr__(self) -> str:
        return f"State(seed={self.seed}, url={self.sandbox_url!r})"
