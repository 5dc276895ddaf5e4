"""GOPACS: profile and session (seed "OAuth2 Client credentials for API Clients", apis.md §2).

Client credentials with id and secret in the form body on Keycloak realm ``gopacs``, in the
``acceptance`` or ``production`` environment. Several hosts: ``base_url`` (UFTP participants,
Bearer), ``idcons_url`` (announcements: public, or ``API_KEY`` header under ``/public-api/``),
``reporting_url`` (public reporting, no auth). Credentials are optional at connect: public
endpoints work without them, and calls that need one say which.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from ..session import Session
from .profile import Profile

__all__ = ["PROFILE", "GopacsSession"]


class GopacsSession(Session):
    """A session to the GOPACS APIs.

    >>> gopacs = explorer.connect("gopacs", sandbox=True)  # doctest: +SKIP
    """

    def __init__(self, profile: Profile, *, environment: str | None = None, **kwargs) -> None:
        super().__init__(profile, **kwargs)
        self.environment = environment or profile.default_environment

    def _needs(self, url: str) -> tuple[bool, bool]:
        if url.startswith(self.urls["base_url"] + "/"):
            return True, False
        if url.startswith(self.urls["idcons_url"] + "/") and "/public-api/" in urlsplit(url).path:
            return False, True
        return False, False


def _env(auth: str, api: str, idcons: str) -> dict[str, str]:
    return {
        "token_url": f"https://{auth}/realms/gopacs/protocol/openid-connect/token",
        "base_url": f"https://{api}",
        "idcons_url": f"https://{idcons}",
        "reporting_url": "https://public-reporting.gopacs-services.eu",
    }


PROFILE = Profile(
    name="gopacs",
    title="GOPACS",
    grant="client_credentials",
    environments={
        "acceptance": _env("auth.acc.gopacs-services.eu", "api.acc.gopacs-services.eu",
                           "idcons.acc.gopacs-services.eu"),
        "production": _env("auth.gopacs-services.eu", "api.gopacs-services.eu",
                           "idcons.gopacs-services.eu"),
    },
    default_environment="production",
    auth_method="client_secret_post",
    headers={"Accept": "application/json"},
    api_key_header="API_KEY",
    env={"client_id": "GOPACS_CLIENT_ID", "client_secret": "GOPACS_CLIENT_SECRET",
         "environment": "GOPACS_ENVIRONMENT", "api_key": "GOPACS_API_KEY"},
    required=(),
    signup="create an API client in the GOPACS UI (API Clients > + Add)",
    session_class=GopacsSession,
)
