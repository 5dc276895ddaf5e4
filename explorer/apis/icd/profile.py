"""WHO ICD API profile (seed "ICD API Authentication"; reference icd-api.md §2–3).

Client credentials with HTTP Basic at WHO's IdentityServer, scope ``icdapi_access``; every call
sends ``Accept: application/json``, ``Accept-Language`` and ``API-Version: v2``. Payload URIs are
``http://id.who.int/...`` and map onto the session's base URL.
"""

from __future__ import annotations

from ..profile import Profile
from .session import IcdSession

PROFILE = Profile(
    name="icd",
    title="WHO ICD API",
    grant="client_credentials",
    urls={
        "base_url": "https://id.who.int",
        "token_url": "https://icdaccessmanagement.who.int/connect/token",
    },
    auth_method="client_secret_basic",
    scope="icdapi_access",
    headers={"Accept": "application/json", "API-Version": "v2"},
    env={"client_id": "ICD_CLIENT_ID", "client_secret": "ICD_CLIENT_SECRET"},
    required=("client_id", "client_secret"),
    canonical_prefixes=("http://id.who.int", "https://id.who.int"),
    signup="register at https://icd.who.int/icdapi and use 'View API access key'",
    session_class=IcdSession,
)
