"""Provider profiles: the real defaults of each API, from its authentication page.

A profile says where the token endpoint and the API are, how the client authenticates, which
headers every call sends, which environment variables hold the credentials, and which session
class adds the API's helpers.

>>> from explorer.apis import PROFILES
>>> PROFILES["icd"].urls["base_url"]
'https://id.who.int'
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

__all__ = ["Profile"]


@dataclass(frozen=True)
class Profile:
    """Everything :func:`explorer.connect` needs to know about one API."""

    name: str
    title: str
    #: "client_credentials", "password" (JSON body, Jindexe) or "none"
    grant: str
    #: URL names → default URLs; "base_url" is the main API, "token_url" the token endpoint.
    urls: dict[str, str] = field(default_factory=dict)
    #: environment name → URL overrides (GOPACS acceptance / production).
    environments: dict[str, dict[str, str]] = field(default_factory=dict)
    default_environment: str | None = None
    auth_method: str = "client_secret_basic"
    basic_encoding: bool = True
    scope: str | None = None
    headers: dict[str, str] = field(default_factory=dict)
    api_key_header: str | None = None
    #: connect() argument → environment variable.
    env: dict[str, str] = field(default_factory=dict)
    #: arguments that must be set for connect() to succeed.
    required: tuple[str, ...] = ()
    #: payload URI prefixes that stand for this API's base URL (ICD: http://id.who.int).
    canonical_prefixes: tuple[str, ...] = ()
    #: JSON (Jindexe) or form (RFC 6749) token request bodies.
    token_body: str = "form"
    #: the token endpoint needs the API key too (Jindexe's /public/token).
    token_needs_api_key: bool = False
    #: where to get credentials, for error messages.
    signup: str = ""
    session_class: Any = None

    def credential_hint(self, names: tuple[str, ...] | None = None) -> str:
        """'client_id=… / ICD_CLIENT_ID, …' for the named (default: all) credentials."""
        names = names or tuple(k for k in self.env if k not in ("environment", "base_url"))
        parts = [f"{n}=… (or {self.env[n]})" if n in self.env else f"{n}=…" for n in names]
        text = ", ".join(parts)
        return text + (f"; {self.signup}" if self.signup else "")

    def environment_urls(self, environment: str | None) -> dict[str, str]:
        """The URLs of ``environment`` merged over the defaults; ``KeyError`` if unknown."""
        urls = dict(self.urls)
        env = environment or self.default_environment
        if env is not None and self.environments:
            urls.update(self.environments[env])
        return urls
