"""Token flows (auth → session → APIs → widgets).

* :mod:`.tokens` — a token, its expiry, parsing a token endpoint's answer;
* :mod:`.client_auth` — ``client_secret_basic`` (RFC 6749 §2.3.1) and ``client_secret_post``;
* :mod:`.endpoint` — the token endpoint (token URL or OIDC discovery), errors in the server's words;
* :mod:`.flows` — grants and the :class:`TokenFlow` that keeps one valid token, thread-safe.
"""

from .client_auth import ClientAuth, ClientSecretBasic, ClientSecretPost, client_auth
from .endpoint import TokenEndpoint
from .flows import ClientCredentials, Grant, Password, TokenFlow
from .tokens import Token, jwt_claims, parse_token_response

__all__ = [
    "ClientAuth",
    "ClientCredentials",
    "ClientSecretBasic",
    "ClientSecretPost",
    "Grant",
    "Password",
    "Token",
    "TokenEndpoint",
    "TokenFlow",
    "client_auth",
    "jwt_claims",
    "parse_token_response",
]
