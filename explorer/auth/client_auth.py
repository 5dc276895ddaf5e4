"""Client authentication at the token endpoint (RFC 6749 §2.3.1), as a registry of methods.

``client_secret_basic``: HTTP Basic with id and secret **form-urlencoded before base64**, as the
RFC asks and as Keycloak and IdentityServer decode them (``encode=False`` sends them raw, for
servers that do not decode). ``client_secret_post``: id and secret in the request body.
Another method is one class registered under its name (:func:`register_client_auth`).

>>> ClientSecretBasic("my id", "a+b").headers()
SecretHeaders({'Authorization': '***'})
>>> dict(ClientSecretPost("id", "secret").body())
{'client_id': 'id', 'client_secret': 'secret'}
>>> sorted(CLIENT_AUTH)
['client_secret_basic', 'client_secret_post']
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from urllib.parse import quote_plus

from .._secret import Secret, SecretForm, SecretHeaders

__all__ = [
    "CLIENT_AUTH",
    "ClientAuth",
    "ClientSecretBasic",
    "ClientSecretPost",
    "client_auth",
    "register_client_auth",
]


class ClientAuth:
    """How a client proves who it is to the token endpoint (base: no proof)."""

    method = "none"

    def __init__(self, client_id: str, client_secret: str | Secret, **options: object) -> None:
        self.client_id = client_id
        self._secret = client_secret if isinstance(client_secret, Secret) \
            else Secret(client_secret)

    def headers(self) -> SecretHeaders:
        """Headers of the token request (masked repr)."""
        return SecretHeaders()

    def body(self) -> SecretForm:
        """Fields added to the token request body (masked repr)."""
        return SecretForm()

    def encodings(self) -> list[str]:
        """Every form in which this method sends the secret (for redaction)."""
        return []

    def __repr__(self) -> str:
        return f"<{type(self).__name__} client_id={self.client_id!r} secret=***>"


#: method name → class (``client_auth(method, …)`` builds one).
CLIENT_AUTH: dict[str, type[ClientAuth]] = {}


def register_client_auth(cls: type[ClientAuth]) -> type[ClientAuth]:
    """Class decorator: make ``cls`` available under ``cls.method``."""
    CLIENT_AUTH[cls.method] = cls
    return cls


@register_client_auth
class ClientSecretBasic(ClientAuth):
    """HTTP Basic (RFC 6749 §2.3.1): each half form-urlencoded, then base64."""

    method = "client_secret_basic"

    def __init__(self, client_id: str, client_secret: str | Secret, *, encode: bool = True,
                 **options: object) -> None:
        super().__init__(client_id, client_secret)
        self.encode = encode

    def _value(self) -> str:
        ident, secret = self.client_id, self._secret.reveal()
        if self.encode:
            ident, secret = quote_plus(ident), quote_plus(secret)
        return "Basic " + base64.b64encode(f"{ident}:{secret}".encode()).decode("ascii")

    def headers(self) -> SecretHeaders:
        return SecretHeaders({"Authorization": self._value()})

    def encodings(self) -> list[str]:
        value = self._value()
        return [value, value.split(" ", 1)[1]]


@register_client_auth
class ClientSecretPost(ClientAuth):
    """Client id and secret as body fields."""

    method = "client_secret_post"

    def body(self) -> SecretForm:
        return SecretForm(client_id=self.client_id, client_secret=self._secret.reveal())


def client_auth(method: str, client_id: str, client_secret: str | Secret, *,
                basic_encoding: bool = True) -> ClientAuth:
    """Build the client authentication named by ``method``; ``ValueError`` for an unknown one.

    >>> client_auth("client_secret_post", "id", "s").method
    'client_secret_post'
    """
    cls: Callable[..., ClientAuth] | None = CLIENT_AUTH.get(method)
    if cls is None:
        raise ValueError(f"unknown auth_method {method!r}; use one of {sorted(CLIENT_AUTH)}")
    return cls(client_id, client_secret, encode=basic_encoding)
