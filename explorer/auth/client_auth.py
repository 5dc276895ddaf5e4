"""Client authentication at the token endpoint (RFC 6749 §2.3.1).

``client_secret_basic``: HTTP Basic with id and secret **form-urlencoded before base64**, as the
RFC asks and as Keycloak and IdentityServer decode them (``encode=False`` sends them raw, for
servers that do not decode). ``client_secret_post``: id and secret in the request body.

>>> ClientSecretBasic("my id", "a+b").headers()
{'Authorization': 'Basic bXkraWQ6YSUyQmI='}
>>> ClientSecretPost("id", "secret").body()
{'client_id': 'id', 'client_secret': 'secret'}
"""

from __future__ import annotations

import base64
from urllib.parse import quote_plus

__all__ = ["METHODS", "ClientAuth", "ClientSecretBasic", "ClientSecretPost", "client_auth"]


class ClientAuth:
    """How a client proves who it is to the token endpoint."""

    method = "none"

    def __init__(self, client_id: str, client_secret: str) -> None:
        self.client_id = client_id
        self._secret = client_secret

    def headers(self) -> dict[str, str]:
        return {}

    def body(self) -> dict[str, str]:
        return {}

    def __repr__(self) -> str:
        return f"<{type(self).__name__} client_id={self.client_id!r} secret=***>"


class ClientSecretBasic(ClientAuth):
    method = "client_secret_basic"

    def __init__(self, client_id: str, client_secret: str, *, encode: bool = True) -> None:
        super().__init__(client_id, client_secret)
        self.encode = encode

    def headers(self) -> dict[str, str]:
        ident, secret = self.client_id, self._secret
        if self.encode:
            ident, secret = quote_plus(ident), quote_plus(secret)
        raw = f"{ident}:{secret}".encode()
        return {"Authorization": "Basic " + base64.b64encode(raw).decode("ascii")}


class ClientSecretPost(ClientAuth):
    method = "client_secret_post"

    def body(self) -> dict[str, str]:
        return {"client_id": self.client_id, "client_secret": self._secret}


METHODS = {"client_secret_basic": ClientSecretBasic, "client_secret_post": ClientSecretPost}


def client_auth(method: str, client_id: str, client_secret: str, *,
                basic_encoding: bool = True) -> ClientAuth:
    """Build the client authentication named by ``method``; ``ValueError`` for an unknown one."""
    if method == "client_secret_basic":
        return ClientSecretBasic(client_id, client_secret, encode=basic_encoding)
    if method == "client_secret_post":
        return ClientSecretPost(client_id, client_secret)
    raise ValueError(f"unknown auth_method {method!r}; use one of {sorted(METHODS)}")
