"""Jindexe: profile and session (seed "Appeler l'API", apis.md §3).

``X-API-KEY`` on every call; a user token from ``POST /public/token`` with a JSON password
grant, refreshed with the refresh token. Route families: ``/ext/`` (nothing), ``/public/`` (key),
``/user/`` and ``/pro/`` (key and token). No public base URL is known: it must be given.
"""

from __future__ import annotations

from ..session import Session
from .profile import Profile

__all__ = ["PROFILE", "JindexeSession"]


class JindexeSession(Session):
    """A session to the Jindexe API.

    >>> jx = explorer.connect("jindexe", sandbox=True)   # doctest: +SKIP
    """

    def _needs(self, url: str) -> tuple[bool, bool]:
        path = url[len(self.base_url):] if url.startswith(self.base_url) else url
        if path.startswith("/ext/"):
            return False, False
        if path.startswith(("/user/", "/pro/")):
            return True, True
        return False, True


PROFILE = Profile(
    name="jindexe",
    title="Jindexe",
    grant="password",
    urls={},
    headers={"Accept": "application/json"},
    api_key_header="X-API-KEY",
    token_body="json",
    token_needs_api_key=True,
    env={"api_key": "JINDEXE_API_KEY", "username": "JINDEXE_USERNAME",
         "password": "JINDEXE_PASSWORD", "base_url": "JINDEXE_BASE_URL"},
    required=("api_key", "base_url"),
    signup="ask Jindexe for an API key; username and password are your Jindexe account",
    session_class=JindexeSession,
)
