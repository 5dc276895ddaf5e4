"""Any OAuth2 client-credentials API: give a token URL (or an OIDC issuer) and a base URL."""

from __future__ import annotations

from ..session import Session
from .profile import Profile

__all__ = ["PROFILE"]

PROFILE = Profile(
    name="oauth2",
    title="OAuth2 API",
    grant="client_credentials",
    auth_method="client_secret_basic",
    headers={"Accept": "application/json"},
    required=("client_id", "client_secret", "base_url"),
    session_class=Session,
)
