"""cegedim.cloud ITCare API: profile and session (seed "Authentication", apis.md §1).

Client credentials with HTTP Basic on Keycloak realm ``cloud``; API under ``/itcare``.
"""

from __future__ import annotations

from ..session import Session
from .profile import Profile

__all__ = ["PROFILE", "ItcareSession"]


class ItcareSession(Session):
    """A session to the ITCare API.

    >>> itcare = explorer.connect("itcare", sandbox=True)    # doctest: +SKIP
    """


PROFILE = Profile(
    name="itcare",
    title="cegedim.cloud ITCare API",
    grant="client_credentials",
    urls={
        "base_url": "https://itcare.cegedim.cloud/itcare",
        "token_url": "https://accounts.cegedim.cloud/auth/realms/cloud/protocol/openid-connect/token",
    },
    auth_method="client_secret_basic",
    headers={"Accept": "application/json"},
    env={"client_id": "ITCARE_CLIENT_ID", "client_secret": "ITCARE_CLIENT_SECRET"},
    required=("client_id", "client_secret"),
    signup="ask cegedim.cloud support for an API account",
    session_class=ItcareSession,
)
