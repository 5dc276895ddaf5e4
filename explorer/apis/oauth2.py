"""Any OAuth2 client-credentials API: give a token URL (or an OIDC issuer) and a base URL.

>>> from explorer.apis.oauth2 import PROVIDER
>>> PROVIDER.required()
['client_id', 'client_secret', 'base_url']
"""

from __future__ import annotations

from ..session import Field, Provider, Session

__all__ = ["PROVIDER"]

PROVIDER = Provider(
    name="oauth2",
    title="OAuth2 API",
    grant="client_credentials",
    auth_method="client_secret_basic",
    fields=(
        Field("client_id", required=True),
        Field("client_secret", secret=True, required=True),
        Field("base_url", label="Base URL", kind="url", required=True, main=True),
    ),
    session_class=Session,
    listed=False,
)
