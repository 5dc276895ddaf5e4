"""The token flow: keeping one valid token per session.

A :class:`TokenFlow` holds the current token. Its rules:

1. fetched lazily on first use, reused until within ``leeway`` seconds of expiry (the leeway
   never exceeds half of the token's lifetime, so short-lived tokens are still reused);
2. at expiry: the refresh token when one was issued and is still valid; the original grant when
   there is none or the server refuses the refresh; a rotated refresh token replaces the old one;
3. :meth:`TokenFlow.renew` after a 401 replaces the token that was refused — once, however many
   threads saw the 401;
4. single flight: a lock with a re-check, so N threads meeting an expired token cause one request.

>>> from explorer.auth import ClientCredentials, TokenEndpoint
>>> flow = TokenFlow(TokenEndpoint("https://kc.example/token", provider="x"), ClientCredentials())
>>> flow.current is None
True
"""

from __future__ import annotations

import logging
import threading

from ..errors import AuthenticationError
from .endpoint import TokenEndpoint
from .grants import Grant
from .tokens import Token

__all__ = ["TokenFlow"]

log = logging.getLogger("explorer.auth")


class TokenFlow:
    """Keeps a valid token for one session (thread-safe, single flight)."""

    def __init__(self, endpoint: TokenEndpoint, grant: Grant, *, leeway: float = 30.0) -> None:
        if leeway < 0:
            raise ValueError("leeway must be >= 0 seconds")
        self.endpoint = endpoint
        self.grant = grant
        self.leeway = float(leeway)
        self._token: Token | None = None
        self._lock = threading.Lock()
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
        with self._lock:
            if self._fresh(self._token):
                return self._token  # type: ignore[return-value]
            self._token = self._obtain(self._token)
            return self._token

    def renew(self, stale: Token | None) -> Token:
        """Replace ``stale`` (a token the API refused); a no-op if another thread already did."""
        with self._lock:
            if self._token is not stale and self._fresh(self._token):
                return self._token  # type: ignore[return-value]
            self._token = self._obtain(self._token)
            return self._token

    def _obtain(self, old: Token | None) -> Token:
        if old is not None and old.can_refresh():
            refresh = old.refresh_token
            assert refresh is not None
            try:
                self.fetches += 1
                return self.endpoint.request(
                    {"grant_type": "refresh_token", "refresh_token": refresh},
                    previous_refresh=refresh)
            except AuthenticationError as exc:
                if exc.status is None:
                    raise  # the server was not reached: a new grant would fail the same way
                log.debug("refresh refused (%s); running the original grant", exc.error)
        self.fetches += 1
        return self.endpoint.request(self.grant.params())

    def __repr__(self) -> str:
        return f"<TokenFlow {self.grant!r} via {self.endpoint!r} token={self._token!r}>"
