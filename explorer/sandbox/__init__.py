"""Local, faithful emulators of the APIs and their token servers, on 127.0.0.1.

Example:
    >>> from explorer import sandbox
    >>> with sandbox.start() as sb:
    ...     creds = sb.credentials("itcare")
    ...     creds["base_url"] == sb.url + "/itcare.cegedim.cloud/itcare"
    True

Every real host is mounted under its own name: ``http://127.0.0.1:PORT/<real host>/<path>``,
so the vendors' curl commands run once ``https://`` becomes ``http://127.0.0.1:PORT/``.

Each API's emulator is a module of this package that defines ``EMULATOR``
(:class:`~explorer.sandbox._emulator.Emulator`): its mount, token servers, credentials, banner
lines and knobs. This module, the server and the token servers are generic: they serve
whatever emulators there are.

Emulator choices:
    * ``shared()`` starts one process-wide sandbox (seed 0) on demand; ``atexit`` stops it.
    * every ``credentials()`` dict carries ``deployment="sandbox"``, the label sessions made
      from it show.
"""

from __future__ import annotations

import atexit
import importlib
import pkgutil
import threading
from typing import Any

from explorer.sandbox._emulator import Emulator, Offline
from explorer.sandbox._faults import Faults
from explorer.sandbox._ratelimit import Buckets
from explorer.sandbox._server import Server
from explorer.sandbox._state import State
from explorer.sandbox.oauth import Auth

__all__ = ["Emulator", "Faults", "Offline", "Sandbox", "emulators", "serve_files", "shared",
           "start"]

_NOT_EMULATORS = ("cli", "oauth")
_emulators: dict[str, Emulator] | None = None
_lock = threading.Lock()


def emulators() -> dict[str, Emulator]:
    """The emulators of this package, by provider name (modules that define ``EMULATOR``)."""
    global _emulators
    with _lock:
        if _emulators is None:
            found: dict[str, Emulator] = {}
            for info in pkgutil.iter_modules(__path__):
                if info.name.startswith("_") or info.name in _NOT_EMULATORS:
                    continue
                mod = importlib.import_module(f"{__name__}.{info.name}")
                emulator = getattr(mod, "EMULATOR", None)
                if isinstance(emulator, Emulator):
                    found[emulator.name] = emulator
            _emulators = dict(sorted(found.items()))
        return _emulators


class Sandbox:
    """A running sandbox. Create with :func:`start`; use as a context manager.

    Each emulator's knobs read and write as attributes (``box.action_seconds = 0.2``).
    """

    def __init__(self, state: State, server: Server) -> None:
        object.__setattr__(self, "_state", state)
        object.__setattr__(self, "_server", server)

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
        self._server.stop()

    def __enter__(self) -> Sandbox:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def __repr__(self) -> str:
        return f"Sandbox(url={self.url!r}, port={self.port})"

    # -- credentials ----------------------------------------------------------------------
    def apis(self) -> list[str]:
        """The providers this sandbox emulates."""
        return list(emulators())

    def credentials(self, api: str, **options: Any) -> dict[str, Any]:
        """``connect()`` keyword arguments for ``api``: credentials, URLs and
        ``deployment="sandbox"`` (options such as GOPACS's ``environment=``, or ``auth=False``
        for a no-auth mount, go to the emulator)."""
        emulator = emulators().get(api)
        if emulator is None:
            raise ValueError(f"unknown api {api!r}; expected one of {', '.join(emulators())}")
        return {**emulator.credentials(self, **options), "deployment": "sandbox"}

    def connect_options(self, api: str) -> dict[str, Any]:
        """Session options ``connect(api, sandbox=…)`` uses unless given (the emulator's)."""
        emulator = emulators().get(api)
        return dict(emulator.options) if emulator is not None else {}

    def add_client(self, api: str, client_id: str, client_secret: str) -> None:
        """Register an extra OAuth client for ``api``."""
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

    def rate_limited(self) -> int:
        """Requests answered 429 by the rate limit (``start(rate_limit=…)``)."""
        return self._state.counters.rate_limited

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

    def limit_rate(self, rate_limit: float | None, burst: float | None = None) -> None:
        """Rate-limit every client on every mount like a gateway: ``burst`` requests at once,
        ``rate_limit`` a second after that; beyond, 429 with ``Retry-After`` (whole seconds).
        ``None`` removes the limit."""
        self._state.buckets = None if rate_limit is None else Buckets(rate_limit, burst)

    @property
    def idle_timeout(self) -> float:
        """Seconds an idle keep-alive connection stays open (default 120)."""
        return self._state.idle_timeout

    @idle_timeout.setter
    def idle_timeout(self, value: float) -> None:
        self._state.idle_timeout = _positive(value, "idle_timeout")

    @property
    def request_timeout(self) -> float:
        """Seconds a request may take to arrive once its first byte has (default 30); a
        slower one is answered 408 and its connection closed."""
        return self._state.request_timeout

    @request_timeout.setter
    def request_timeout(self, value: float) -> None:
        self._state.request_timeout = _positive(value, "request_timeout")

    @property
    def faults(self) -> Faults | None:
        return self._state.faults

    @faults.setter
    def faults(self, value: Faults | None) -> None:
        self._state.faults = value

    def __getattr__(self, name: str) -> Any:
        knobs = self._state.knobs
        if name in knobs:
            return knobs[name]
        raise AttributeError(f"'Sandbox' object has no attribute {name!r}")

    def __setattr__(self, name: str, value: Any) -> None:
        if name in self._state.knobs:
            default = self._state.knobs[name]
            self._state.knobs[name] = type(default)(value) if default is not None \
                and value is not None else value
            return
        object.__setattr__(self, name, value)

    def revoke_refresh_tokens(self) -> None:
        """Every refresh token issued so far becomes invalid (``invalid_grant``)."""
        self._state.auth.revoke_refresh()

    def expire_tokens(self) -> None:
        """Every access token issued so far is now expired."""
        self._state.auth.expire_all()


def _positive(value: float, name: str) -> float:
    number = float(value)
    if not number > 0:
        raise ValueError(f"{name} must be a positive number of seconds, not {value!r}")
    return number


def start(
    port: int = 0,
    *,
    token_lifetime: float | None = None,
    latency: float = 0.0,
    faults: Faults | None = None,
    seed: int = 0,
    rate_limit: float | None = None,
    burst: float | None = None,
    **knobs: Any,
) -> Sandbox:
    """Start a sandbox on 127.0.0.1 (``port=0``: a free port) and return it.

    ``rate_limit=R, burst=B`` limit each client on each mount like an API gateway (B requests
    at once, R a second after that; beyond, 429 with ``Retry-After``; see
    :meth:`Sandbox.limit_rate`).

    Other keyword arguments set the emulators' knobs (``synthetic_icd=N`` adds a synthetic ICD
    chapter of N entities; ``action_seconds=`` the duration of ITCare actions…).
    """
    found = emulators()
    state = State(seed, emulators=found.values(), token_lifetime=token_lifetime,
                  latency=latency, faults=faults)
    unknown = sorted(set(knobs) - set(state.knobs))
    if unknown:
        raise TypeError(f"start() got unknown knobs {unknown}; the emulators' knobs are "
                        f"{sorted(state.knobs)}")
    state.knobs.update(knobs)
    state.auth = Auth(state, [i for em in found.values() for i in em.issuers])
    server = Server(state, port, found.values()).start()
    box = Sandbox(state, server)
    box.limit_rate(rate_limit, burst)
    return box


def serve_files(api: str, **files: Any) -> tuple[Sandbox, dict[str, Any]]:
    """A private sandbox serving a user's own files for ``api`` (the emulator's
    :class:`Offline` options, e.g. ICD's ``release_file=``), and the session options the
    files imply (ICD: the file's language). What ``connect(api, release_file=…)`` uses; the
    caller stops the sandbox.

    Raises :class:`ValueError` naming the file and what is wrong with it, before starting.

    >>> from explorer.sandbox._icd_release import DATA_DIR
    >>> box, options = serve_files("icd", release_file=DATA_DIR / "2024-01"
    ...                            / "SimpleTabulation-ICD-11-MMS-en.zip")
    >>> options, box.icd_release_files[0].release_id
    ({'language': 'en'}, '2024-01')
    >>> box.stop()
    """
    emulator = emulators().get(api)
    offline = emulator.offline if emulator is not None else {}
    knobs: dict[str, Any] = {}
    options: dict[str, Any] = {}
    for name, value in files.items():
        if name not in offline:
            raise ValueError(f"{api!r} serves no file option {name!r} (it has: "
                             f"{', '.join(offline) or 'none'})")
        knob, implied = offline[name].read(value)
        knobs[offline[name].knob] = knob
        options.update(implied)
    return start(**knobs), options


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
