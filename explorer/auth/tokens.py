"""Access tokens: parsing a token endpoint's answer, and expiry (RFC 6749 §5.1).

Expiry comes from ``expires_in``; if absent, from the JWT ``exp`` claim; if neither, a
conservative default (:data:`DEFAULT_LIFETIME`) — never "forever".

>>> t = parse_token_response({"access_token": "abc.def", "expires_in": 60, "token_type": "bearer"},
...                          now=1000.0)
>>> t.expires_at, t.token_type
(1060.0, 'Bearer')
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import time
from typing import Any

__all__ = ["DEFAULT_LIFETIME", "MAX_LIFETIME", "Token", "jwt_claims", "parse_token_response"]

#: Lifetime assumed when the server says nothing (seconds): short, so a token is renewed soon.
DEFAULT_LIFETIME = 300.0
#: The longest lifetime believed (seconds, a year): ``expires_in`` of ``1e999`` or
#: ``"Infinity"`` is clamped to it, never an overflow.
MAX_LIFETIME = 365 * 86400.0


class Token:
    """An access token and its status. ``repr``/``str`` never show the token values.

    ``access_token`` is the raw value (what ``python -m explorer token`` prints);
    ``expires_at`` is a UNIX time; ``expires_in`` the seconds left now.
    """

    __slots__ = ("_access", "_refresh", "token_type", "scope", "expires_at",
                 "refresh_expires_at", "issued_at", "expiry_source", "lifetime")

    def __init__(
        self,
        access_token: str,
        *,
        token_type: str = "Bearer",
        scope: str | None = None,
        expires_at: float,
        refresh_token: str | None = None,
        refresh_expires_at: float | None = None,
        issued_at: float | None = None,
        expiry_source: str = "expires_in",
    ) -> None:
        self._access = access_token
        self._refresh = refresh_token
        self.token_type = token_type
        self.scope = scope
        self.expires_at = expires_at
        self.refresh_expires_at = refresh_expires_at
        self.issued_at = time.time() if issued_at is None else issued_at
        self.expiry_source = expiry_source
        #: seconds the token was valid for when issued
        self.lifetime = max(0.0, expires_at - self.issued_at)

    @property
    def access_token(self) -> str:
        """The raw token value. Handle with care: never print it in a shared notebook."""
        return self._access

    @property
    def refresh_token(self) -> str | None:
        return self._refresh

    @property
    def expires_in(self) -> float:
        """Seconds until expiry (negative once expired)."""
        return self.expires_at - time.time()

    def is_expired(self, leeway: float = 0.0) -> bool:
        return time.time() >= self.expires_at - leeway

    def can_refresh(self) -> bool:
        if not self._refresh:
            return False
        return self.refresh_expires_at is None or time.time() < self.refresh_expires_at

    def status(self) -> dict[str, Any]:
        """The token's status as a plain dict (no secret in it)."""
        expires = dt.datetime.fromtimestamp(self.expires_at, tz=dt.timezone.utc)
        return {
            "type": self.token_type,
            "scope": self.scope,
            "expires_at": expires.isoformat(timespec="seconds"),
            "expires_in": max(0, round(self.expires_in)),
            "refreshable": self.can_refresh(),
        }

    def __repr__(self) -> str:
        s = self.status()
        return (f"<Token {s['type']} scope={s['scope']!r} expires_at={s['expires_at']} "
                f"expires_in={s['expires_in']}s>")

    __str__ = __repr__

    def _repr_html_(self) -> str:
        from .._html import card

        return card("Token", self.status())


def jwt_claims(token: str) -> dict[str, Any] | None:
    """The claims of a JWT, unverified (the client only reads ``exp``); ``None`` if not a JWT."""
    parts = token.split(".")
    if len(parts) != 3:
        return None
    payload = parts[1] + "=" * (-len(parts[1]) % 4)
    try:
        claims = json.loads(base64.urlsafe_b64decode(payload))
    except (ValueError, UnicodeDecodeError):
        return None
    return claims if isinstance(claims, dict) else None


def _number(value: Any) -> float | None:
    """A finite number, clamped to ±:data:`MAX_LIFETIME`; ``None`` for anything else (NaN,
    booleans, text that is not a number)."""
    if isinstance(value, bool):
        return None
    try:
        number = float(value) if isinstance(value, (int, float, str)) else None
    except (ValueError, OverflowError):
        return None
    if number is None or number != number:  # NaN
        return None
    return max(-MAX_LIFETIME, min(number, MAX_LIFETIME))


def _header_safe(value: str) -> bool:
    """Whether ``value`` can go into an HTTP header (printable Latin-1, no line breaks)."""
    return all(" " <= c <= "~" or "\xa0" <= c <= "\xff" for c in value)


def parse_token_response(
    payload: Any,
    *,
    now: float | None = None,
    default_lifetime: float = DEFAULT_LIFETIME,
    previous_refresh: str | None = None,
) -> Token:
    """Build a :class:`Token` from a token endpoint's JSON; ``ValueError`` (no secret) if unusable.

    A refresh response without a new ``refresh_token`` keeps ``previous_refresh``.
    """
    if not isinstance(payload, dict):
        raise ValueError(f"expected a JSON object, got {type(payload).__name__}")
    access = payload.get("access_token")
    if not isinstance(access, str) or not access.strip():
        keys = ", ".join(sorted(str(k)[:40] for k in payload)[:20]) or "none"
        raise ValueError(f"no access_token in the response (keys: {keys})")
    token_type = payload.get("token_type")
    if not _header_safe(access) or (isinstance(token_type, str)
                                    and not _header_safe(token_type)):
        # nothing of the value is echoed: it may be a secret
        raise ValueError("the access_token or token_type holds characters an HTTP header "
                         "cannot carry (line breaks, control characters or non-Latin-1 "
                         "letters)")
    now = time.time() if now is None else now
    lifetime = _number(payload.get("expires_in"))
    source = "expires_in"
    expires_at = now + lifetime if lifetime is not None and lifetime > 0 else None
    if expires_at is None:
        exp = (jwt_claims(access) or {}).get("exp")
        exp = _number(exp - now) if isinstance(exp, (int, float)) and not isinstance(
            exp, bool) and exp == exp and abs(exp) < 1e300 else None
        if exp is not None:
            expires_at, source = now + exp, "jwt exp"
        else:
            expires_at, source = now + default_lifetime, "default"
    refresh = payload.get("refresh_token")
    refresh = refresh if isinstance(refresh, str) and refresh else previous_refresh
    refresh_in = _number(payload.get("refresh_expires_in"))
    refresh_at = now + refresh_in if refresh_in and refresh_in > 0 else None
    token_type = "Bearer" if not isinstance(token_type, str) or token_type.lower() == "bearer" \
        else token_type
    scope = payload.get("scope")
    return Token(
        access,
        token_type=token_type,
        scope=scope if isinstance(scope, str) else None,
        expires_at=expires_at,
        refresh_token=refresh,
        refresh_expires_at=refresh_at,
        issued_at=now,
        expiry_source=source,
    )
