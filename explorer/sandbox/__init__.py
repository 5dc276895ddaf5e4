"""Local, faithful emulators of the WHO ICD, ITCare, GOPACS and Jindexe APIs and token servers.

Example:
    >>> from explorer import sandbox
    >>> with sandbox.start() as sb:
    ...     creds = sb.credentials("itcare")
    ...     creds["base_url"] == sb.url + "/itcare.cegedim.cloud/itcare"
    True

Every real host is mounted under its own name: ``http://127.0.0.1:PORT/<real host>/<path>``,
so the vendors' curl commands run once ``https://`` becomes ``http://127.0.0.1:PORT/``.

Emulator choices:
    * Jindexe has no known public host; the sandbox uses ``api.jindexe.net``.
    * ``credentials("gopacs", environment=...)``: the same client id/secret is valid in
      both environments, but a token is only accepted by the API of its own environment.
    * ``shared()`` starts one process-wide sandbox (seed 0) on demand; ``atexit`` stops it.
"""

from __future__ import annotations

import atexit
import threading
from typing import Any

from explorer.sandbox._faults import Faults
from explorer.sandbox._server import Server
from explorer.sandbox._state import State

__all__ = ["Faults", "Sandbox", "shared", "start"]


class Sandbox:
    """A running sandbox. Create with :func:`start`; use as a context manager."""

    def __init__(self, state: State, server: Server) -> None:
        self._state = state
        self._server = server

    # -- lifecycle ------------------------------------------------------------------------
    @property
    def url(self) -> str:
        """``"http://127.0.0.1:PORT"``."""
        return self._server.url

    @property
    def port(self) -> int:
        return self._server.port

    @property
    def state(self) -> State:
        """The shared state (holds secrets: do not print it)."""
        return self._state

    def stop(self) -> None:
        """Stop serving, close every connection and the socket, join the threads."""
        _running.discard(self.url)
        self._server.stop()

    def __enter__(self) -> Sandbox:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def __repr__(self) -> str:
        return f"Sandbox(url={self.url!r}, port={self.port})"

    # -- credentials ----------------------------------------------------------------------
    def credentials(
        self, api: str, *, environment: str = "acceptance", auth: bool = True
    ) -> dict[str, Any]:
        """Credentials and URLs of ``api`` in ``("icd", "itcare", "gopacs", "jindexe")``."""
        url, cred, auth_ = self.url, self._state.credentials, self._state.auth
        if api == "icd":
            if not auth:
                return {"base_url": f"{url}/icd-container", "auth": None}
            return {**cred["icd"], "token_url": auth_.token_url("icd"),
                    "base_url": f"{url}/id.who.int"}
        if api == "itcare":
            return {**cred["itcare"], "token_url": auth_.token_url("itcare"),
                    "base_url": f"{url}/itcare.cegedim.cloud/itcare"}
        if api == "gopacs":
            if environment not in ("acceptance", "production"):
                raise ValueError("environment must be 'acceptance' or 'production'")
            acc = ".acc" if environment == "acceptance" else ""
            g = cred["gopacs"]
            return {
                "client_id": g["client_id"],
                "client_secret": g["client_secret"],
                "environment": environment,
                "token_url": auth_.token_url(f"gopacs-{environment}"),
                "base_url": f"{url}/api{acc}.gopacs-services.eu",
                "idcons_url": f"{url}/idcons{acc}.gopacs-services.eu",
                "reporting_url": f"{url}/public-reporting.gopacs-services.eu",
                "api_key": g["api_key"],
            }
        if api == "jindexe":
            return {**cred["jindexe"], "base_url": f"{url}/api.jindexe.net"}
        raise ValueError(f"unknown api {api!r}; expected icd, itcare, gopacs or jindexe")

    def add_client(self, api: str, client_id: str, client_secret: str) -> None:
        """Register an extra OAuth client for ``api`` (``icd``, ``itcare``, ``gopacs``)."""
        self._state.auth.add_client(api, client_id, client_secret)

    # -- counters -------------------------------------------------------------------------
    def count(self, path_prefix: str | None = None) -> int:
        """Requests received whose sandbox path starts with ``path_prefix`` (None = all)."""
        return self._state.counters.count(path_prefix)

    def token_requests(
        self, client_id: str | None = None, grant_type: str | None = None,
        issuer: str | None = None,
    ) -> int:
        """POSTs received by token endpoints (all token servers), filterable."""
        return self._state.counters.tokens(client_id, grant_type, issuer)

    def expired_token_hits(self) -> int:
        """API requests answered 401 because the bearer token had expired."""
        return self._state.counters.expired_hits

    def reset_counters(self) -> None:
        self._state.counters.reset()

    # -- knobs ----------------------------------------------------------------------------
    @property
    def latency(self) -> float:
        """Seconds added to every request."""
        return self._state.latency

    @latency.setter
    def latency(self, value: float) -> None:
        self._state.latency = float(value)

    @property
    def token_lifetime(self) -> float | None:
        """Access-token lifetime override in seconds (None = the real lifetimes)."""
        return self._state.token_lifetime

    @token_lifetime.setter
    def token_lifetime(self, value: float | None) -> None:
        self._state.token_lifetime = value

    @property
    def refresh_token_lifetime(self) -> float | None:
        """Refresh-token lifetime override in seconds (None = the real lifetimes)."""
        return self._state.refresh_token_lifetime

    @refresh_token_lifetime.setter
    def refresh_token_lifetime(self, value: float | None) -> None:
        self._state.refresh_token_lifetime = value

    @property
    def faults(self) -> Faults | None:
        return self._state.faults

    @faults.setter
    def faults(self, value: Faults | None) -> None:
        self._state.faults = value

    @property
    def synthetic_icd(self) -> int:
        """Size of the synthetic ICD chapter served beside the real content (0 = none)."""
        return self._state.synthetic_icd

    @synthetic_icd.setter
    def synthetic_icd(self, value: int) -> None:
        self._state.synthetic_icd = int(value)

    @property
    def action_seconds(self) -> float:
        """Duration of ITCare async actions (IN_PROGRESS -> SUCCESS/ERROR), default 1 s."""
        return self._state.action_seconds

    @action_seconds.setter
    def action_seconds(self, value: float) -> None:
        self._state.action_seconds = float(value)

    def revoke_refresh_tokens(self) -> None:
        """Every refresh token issued so far becomes invalid (``invalid_grant``)."""
        self._state.auth.revoke_refresh()

    def expire_tokens(self) -> None:
        """Every access token issued so far is now expired."""
        self._state.auth.expire_all()


def start(
    port: int = 0,
    *,
    token_lifetime: float | None = None,
    latency: float = 0.0,
    faults: Faults | None = None,
    seed: int = 0,
    synthetic_icd: int = 0,
    icd_release_files: list[str] | None = None,
) -> Sandbox:
    """Start a sandbox on 127.0.0.1 (``port=0``: a free port) and return it.

    ``synthetic_icd=N`` adds a synthetic ICD chapter of N entities (for crawls and benchmarks).
    ``icd_release_files``: WHO SimpleTabulation files (``.zip``/``.txt``) the ICD API serves
    instead of the shipped ones.
    """
    state = State(seed, token_lifetime=token_lifetime, latency=latency, faults=faults)
    state.synthetic_icd = int(synthetic_icd)
    state.icd_release_files = list(icd_release_files) if icd_release_files else None
    server = Server(state, port).start()
    box = Sandbox(state, server)
    _running.add(box.url)
    return box


#: URLs of the sandboxes running in this process (sessions on them say "sandbox").
_running: set[str] = set()


def is_sandbox_url(url: str) -> bool:
    """Whether ``url`` points into a sandbox running in this process."""
    return any(url == base or url.startswith(base + "/") for base in list(_running))


_shared: Sandbox | None = None
_shared_lock = threading.Lock()


def shared() -> Sandbox:
    """The process-wide sandbox, started on first use and stopped at exit."""
    global _shared
    with _shared_lock:
        if _shared is None:
            _shared = start()
            atexit.register(_shared.stop)
        return _shared
