"""Authentication: token flows and the credentials each request carries.

* :mod:`.tokens` — a token, its expiry, parsing a token endpoint's answer;
* :mod:`.client_auth` — client authentication methods, a registry (``client_secret_basic``,
  ``client_secret_post``);
* :mod:`.grants` — grants, a registry (``client_credentials``, ``password``);
* :mod:`.endpoint` — the token endpoint (token URL or OIDC discovery), errors in the server's words;
* :mod:`.flows` — the :class:`TokenFlow` that keeps one valid token, thread-safe;
* :mod:`.request_auth` — what each request carries: a bearer, an API key, route rules.

>>> from explorer.auth import GRANTS, CLIENT_AUTH
>>> sorted(GRANTS), sorted(CLIENT_AUTH)
(['client_credentials', 'password'], ['client_secret_basic', 'client_secret_post'])
"""

from .client_auth import (
    CLIENT_AUTH,
    ClientAuth,
    ClientSecretBasic,
    ClientSecretPost,
    client_auth,
    register_client_auth,
)
from .endpoint import MAX_TOKEN_BYTES, TokenEndpoint
from .flows import TokenFlow
from .grants import GRANTS, ClientCredentials, Grant, Password, grant, register_grant
from .request_auth import ApiKeyAuth, BearerAuth, RequestAuth, Route, RouteAuth
from .tokens import Token, jwt_claims, parse_token_response

__all__ = [
    "CLIENT_AUTH",
    "GRANTS",
    "MAX_TOKEN_BYTES",
    "ApiKeyAuth",
    "BearerAuth",
    "ClientAuth",
    "ClientCredentials",
    "ClientSecretBasic",
    "ClientSecretPost",
    "Grant",
    "Password",
    "RequestAuth",
    "Route",
    "RouteAuth",
    "Token",
    "TokenEndpoint",
    "TokenFlow",
    "client_auth",
    "grant",
    "jwt_claims",
    "parse_token_response",
    "register_client_auth",
    "register_grant",
]
