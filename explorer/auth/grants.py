"""Authorization grants (RFC 6749 §4), as a registry: what a token request asks for.

A provider names its grant (``"client_credentials"``, ``"password"``); :func:`grant` builds it
from the connect settings, or returns ``None`` when the settings it needs are absent.

>>> ClientCredentials(scope="icdapi_access").params()
SecretForm({'grant_type': '***', 'scope': '***'})
>>> sorted(GRANTS)
['client_credentials', 'password']
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from .._secret import Secret, SecretForm

__all__ = ["GRANTS", "ClientCredentials", "Grant", "Password", "grant", "register_grant"]


class Grant:
    """The parameters of one grant. ``needs`` names the settings it is built from."""

    grant_type: ClassVar[str] = ""
    needs: ClassVar[tuple[str, ...]] = ()

    def params(self) -> SecretForm:
        """The grant's body fields (masked repr)."""
        return SecretForm(grant_type=self.grant_type)

    @classmethod
    def from_settings(cls, settings: Mapping[str, Any], scope: str | None) -> Grant:
        return cls()

    def __repr__(self) -> str:
        return f"<{type(self).__name__}>"


#: grant type → class.
GRANTS: dict[str, type[Grant]] = {}


def register_grant(cls: type[Grant]) -> type[Grant]:
    """Class decorator: make ``cls`` available under ``cls.grant_type``."""
    GRANTS[cls.grant_type] = cls
    return cls


@register_grant
class ClientCredentials(Grant):
    """RFC 6749 §4.4; the client authenticates itself through the endpoint's client auth."""

    grant_type = "client_credentials"
    needs = ("client_id", "client_secret")

    def __init__(self, scope: str | None = None) -> None:
        self.scope = scope

    def params(self) -> SecretForm:
        params = super().params()
        if self.scope:
            params["scope"] = self.scope
        return params

    @classmethod
    def from_settings(cls, settings: Mapping[str, Any], scope: str | None) -> Grant:
        return cls(scope)


@register_grant
class Password(Grant):
    """RFC 6749 §4.3, resource owner password (Jindexe posts it as JSON)."""

    grant_type = "password"
    needs = ("username", "password")

    def __init__(self, username: str, password: str | Secret) -> None:
        self.username = username
        self._password = password if isinstance(password, Secret) else Secret(password)

    def params(self) -> SecretForm:
        params = super().params()
        params.update(username=self.username, password=self._password.reveal())
        return params

    @classmethod
    def from_settings(cls, settings: Mapping[str, Any], scope: str | None) -> Grant:
        return cls(settings["username"], settings["password"])

    def __repr__(self) -> str:
        return f"<Password username={self.username!r} password=***>"


def grant(name: str, settings: Mapping[str, Any], scope: str | None = None) -> Grant | None:
    """The grant ``name`` built from ``settings``, or ``None`` when one it needs is unset.

    ``KeyError`` for a grant type nobody registered.

    >>> grant("password", {"username": "u"}) is None
    True
    """
    cls = GRANTS[name]
    if not all(settings.get(key) for key in cls.needs):
        return None
    return cls.from_settings(settings, scope)
