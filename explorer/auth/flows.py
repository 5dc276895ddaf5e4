"""The token flow: keeping one valid token per session.

A :class:`TokenFlow` holds the current token. Its rules:

1. fetched lazily on first use, reused until within ``leeway`` seconds of expiry (the leeway
   never exceeds half of the token's lifetime, so short-lived tokens are still reused);
2. at expiry: the refresh token when one was issued and is still valid; the original grant when
   there is none or the server refuses the refresh; a rotated refresh token replaces the old one;
3. :meth:`TokenFlow.renew` after a 401 replaces the token that was refused — once, however many
   threads saw the 401;
4. single flight: N threads meeting an expired token cause one request, and share its outcome
   — the token, or its error (a failing endpoint is asked once, not once per thread).

>>> from explorer.auth import ClientCredentials, TokenEndpoint
>>> flow = TokenFlow(TokenEndpoint("https://kc.example/token", provider="x"), ClientCredentials())
>>> flow.current is None
True
"""

from __future__ import annotations

import copy
import logging
import threading

from .._secret import Secret, SecretForm
from ..errors import AuthenticationError
from .endpoint import TokenEndpoint
from .grants import Grant
from .tokens import Token

__all__ = ["TokenFlow"]

log = logging.getLogger("explorer.auth")


class _Fetch:
    """One token request in flight: the threads that need its answer wait on it."""

    def __init__(self) -> None:
        self.done = threading.Event()
        self.token: Token | None = None
        self.error: BaseException | None = None


class TokenFlow:
    """Keeps a valid token for one session (thread-safe, single flight, failures shared).

    The request itself runs outside the lock: the first thread that needs a token starts the
    fetch, the others wait for *its* outcome — the same token, or the same error (a server that
    fails after 1 s costs 16 waiting threads 1 s, not 16). Nobody sleeps on others' behalf while
    holding the lock; a waiter waits at most the endpoint's deadline.
    """

    def __init__(self, endpoint: TokenEndpoint, grant: Grant, *, leeway: float = 30.0) -> None:
        if leeway < 0:
            raise ValueError("leeway must be >= 0 seconds")
        self.endpoint = endpoint
        self.grant = grant
        self.leeway = float(leeway)
        self._token: Token | None = None
        self._lock = threading.Lock()
        self._fetch: _Fetch | None = None
        self.fetches = 0  # token requests made (grants and refreshes)

    @property
    def current(self) -> Token | None:
        """The token held now, valid or not, without any request."""
        return self._token

    def _fresh(self, token: Token | None) -> bool:
        if token is None:
            return False
        return not token.is_expired(min(self.leeway, token.lifetime / 2))

    def token(self) -> Token:
        """A valid token: the current one, or a new one (one request for all threads)."""
        token = self._token
        if self._fresh(token):
            return token  # type: ignore[return-value]
        return self._single_flight(None)

    def renew(self, stale: Token | None) -> Token:
        """Replace ``stale`` (a token the API refused); a no-op if another thread already did."""
        return self._single_flight(stale, renewing=True)

    def _single_flight(self, stale: Token | None, *, renewing: bool = False) -> Token:
        with self._lock:
            current = self._token
            if self._fresh(current) and not (renewing and current is stale):
                return current  # type: ignore[return-value]
            fetch = self._fetch
            leader = fetch is None
            if leader:
                fetch = self._fetch = _Fetch()
        assert fetch is not None
        if leader:
            try:
                with self.endpoint.bounded():  # the whole fetch is one request's deadline
                    fetch.token = self._obtain(current)
            except BaseException as exc:  # noqa: BLE001 - shared with the waiters, raised below
                fetch.error = exc.with_traceback(None)  # its frames' locals stay behind
            with self._lock:
                if fetch.token is not None:
                    self._token = fetch.token
                self._fetch = None
            fetch.done.set()
        elif not fetch.done.wait(self.endpoint.wait_limit()):
            raise AuthenticationError(
                "the token request of another thread did not finish in time",
                provider=self.endpoint.provider, url=self.endpoint.where,
                hint="retry later; the token endpoint is slow or not answering")
        if fetch.error is not None:
            raise _copy(fetch.error)
        assert fetch.token is not None
        return fetch.token

    def _obtain(self, old: Token | None) -> Token:
        if old is not None and old.can_refresh():
            refresh = Secret(old.refresh_token or "")  # masked in any traceback's locals
            try:
                self.fetches += 1
                return self.endpoint.request(
                    SecretForm(grant_type="refresh_token", refresh_token=refresh.reveal()),
                    previous_refresh=refresh)
            except AuthenticationError as exc:
                if exc.status is None:
                    raise  # the server was not reached: a new grant would fail the same way
                log.debug("refresh refused (%s); running the original grant", exc.error)
        self.fetches += 1
        return self.endpoint.request(self.grant.params())

    def __repr__(self) -> str:
        return f"<TokenFlow {self.grant!r} via {self.endpoint!r} token={self._token!r}>"


def _copy(exc: BaseException) -> BaseException:
    """A copy of ``exc`` to raise in another thread (no shared traceback, no context)."""
    clone = copy.copy(exc)
    clone.__traceback__ = None
    clone.__context__ = clone.__cause__ = None
    return clone
