"""The provider contract: everything specific to one API, declared in one object.

A provider module (``explorer/apis/<name>.py``) builds one :class:`Provider`: its URLs and
environments, how it authenticates (grant, client authentication, API key header, route
rules), the fields a credential form asks for (:class:`Field`), its error words and hints
(:class:`ErrorWords`), its collections and paging, and the session class that adds its
helpers. ``connect``, the session, the credential form, the resource view, the command line
and the sandbox read it; none of them names a provider.

>>> p = Provider("demo", "Demo API", urls={"base_url": "https://api.example"},
...              fields=(Field("client_id", env="DEMO_CLIENT_ID", required=True),
...                      Field("client_secret", env="DEMO_CLIENT_SECRET", secret=True,
...                            required=True)))
>>> p.env
{'client_id': 'DEMO_CLIENT_ID', 'client_secret': 'DEMO_CLIENT_SECRET'}
>>> p.required()
['client_id', 'client_secret']
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ..auth.request_auth import Route
from .collections import Collection
from .paging import Paging

__all__ = ["FIELD_KINDS", "ErrorWords", "Field", "Provider"]

#: Where a form shows a field: a credential, a setting, or a URL (under "Advanced").
FIELD_KINDS = ("credential", "setting", "url")


@dataclass(frozen=True)
class Field:
    """One setting a user gives: a ``connect()`` argument, its environment variable, its form
    widget.

    ``secret`` fields are password widgets and never pre-filled; ``required`` is ``True``
    (needed to authenticate) or ``"always"`` (needed even without authentication);
    ``choices`` makes a dropdown; ``kind`` is one of :data:`FIELD_KINDS`; ``main`` shows a URL
    field among the main ones rather than under "Advanced".

    >>> Field("api_key", secret=True).title
    'API key'
    """

    name: str
    label: str = ""
    env: str | None = None
    secret: bool = False
    required: bool | str = False
    kind: str = "credential"
    choices: tuple[str, ...] = ()
    default: str | None = None
    placeholder: str = ""
    help: str = ""
    main: bool = False

    def __post_init__(self) -> None:
        if self.kind not in FIELD_KINDS:
            raise ValueError(f"unknown field kind {self.kind!r}; use one of {FIELD_KINDS}")

    @property
    def title(self) -> str:
        """The label, or the name made readable (``client_id`` → ``Client id``)."""
        if self.label:
            return self.label
        words = self.name.replace("_", " ").split()
        words = [{"api": "API", "url": "URL", "id": "id"}.get(w, w) for w in words]
        text = " ".join(words)
        return text[:1].upper() + text[1:]


_DEFAULT_KEYS = ("errorMessage", "error_description", "errorDesc", "message", "detail",
                 "title", "error")


@dataclass(frozen=True)
class ErrorWords:
    """What a provider's error bodies say, and its hints. The session's one error template
    (:meth:`explorer.session.Session.error_for`) builds every message from them.

    ``keys``: where the human words are (first string found); ``code_key``: the key of an error
    code (shown, and looked up in ``hints``); ``field_key``: the key naming the parameter in
    error;
    ``empty``: said when the body is empty; ``hints``: error code (str) or status (int) → what
    to do; ``path_hints``: ``(status, path fragment, hint)``; ``refused``: error code →
    the credential a 401 refuses; ``refused_paths``: ``(path fragment, credential)`` for 401s.

    >>> ErrorWords(hints={404: "check the id"}).hint(404, None, "/x")
    'check the id'
    """

    keys: tuple[str, ...] = _DEFAULT_KEYS
    code_key: str | None = None
    field_key: str | None = None
    empty: str | None = None
    hints: Mapping[int | str, str] = field(default_factory=dict)
    path_hints: tuple[tuple[int, str, str], ...] = ()
    refused: Mapping[str, str] = field(default_factory=dict)
    refused_paths: tuple[tuple[str, str], ...] = ()

    def hint(self, status: int, code: str | None, path: str) -> str | None:
        """The provider's hint for this error: by code, then by path, then by status."""
        if code is not None and code in self.hints:
            return self.hints[code]
        for want, fragment, text in self.path_hints:
            if want == status and fragment in path:
                return text
        return self.hints.get(status)

    def credential(self, status: int, code: str | None, path: str) -> str | None:
        """The credential a 401 says is wrong (``"api_key"``…), when the provider tells."""
        if status != 401:
            return None
        if code is not None and code in self.refused:
            return self.refused[code]
        for fragment, name in self.refused_paths:
            if fragment in path:
                return name
        return None


@dataclass(frozen=True)
class Provider:
    """Everything explorer needs to know about one API (see the module docstring).

    Authentication: ``grant`` names a registered grant (``"client_credentials"``,
    ``"password"``) or ``"none"``; ``auth_method`` a registered client authentication;
    ``token_body`` is ``"form"`` (RFC 6749) or ``"json"``; ``token_path`` places the token
    endpoint under ``base_url`` when there is no ``token_url``; ``token_credentials`` are the
    credentials the token endpoint itself needs (``("api_key",)``); ``api_key_header`` is where
    an API key goes; ``routes`` choose each request's credentials (default: a bearer on every
    ``base_url`` route). URLs: ``urls`` (``base_url`` the main API, ``token_url`` the token
    endpoint, others by name), ``environments`` overriding them, ``canonical_prefixes`` that
    payload links use for ``base_url``.
    """

    name: str
    title: str
    grant: str = "client_credentials"
    auth_method: str = "client_secret_basic"
    basic_encoding: bool = True
    scope: str | None = None
    token_body: str = "form"
    token_path: str | None = None
    token_credentials: tuple[str, ...] = ()
    api_key_header: str | None = None
    routes: tuple[Route, ...] | None = None
    urls: Mapping[str, str] = field(default_factory=dict)
    environments: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    default_environment: str | None = None
    headers: Mapping[str, str] = field(default_factory=lambda: {"Accept": "application/json"})
    canonical_prefixes: tuple[str, ...] = ()
    fields: tuple[Field, ...] = ()
    errors: ErrorWords = field(default_factory=ErrorWords)
    collections: tuple[Collection, ...] = ()
    paging: Paging | None = None
    session_class: Any = None
    signup: str = ""
    #: listed among the APIs a user picks by name (the generic OAuth2 provider is not)
    listed: bool = True

    # -- derived --------------------------------------------------------------------------------
    @property
    def env(self) -> dict[str, str]:
        """``connect()`` argument → environment variable."""
        return {f.name: f.env for f in self.fields if f.env}

    def field(self, name: str) -> Field | None:
        """The field named ``name`` (or ``None``)."""
        return next((f for f in self.fields if f.name == name), None)

    def required(self, *, authenticated: bool = True) -> list[str]:
        """The settings ``connect()`` needs (with or without authentication)."""
        return [f.name for f in self.fields
                if f.required == "always" or (f.required is True and authenticated)]

    @property
    def secrets(self) -> tuple[str, ...]:
        """Names of the secret fields."""
        return tuple(f.name for f in self.fields if f.secret)

    def auth_routes(self) -> tuple[Route, ...]:
        """The route rules (declared, or a bearer on every ``base_url`` route)."""
        if self.routes is not None:
            return self.routes
        return (Route("/", credentials=("token",)),) if self.grant != "none" else ()

    def credential_hint(self, names: tuple[str, ...] | None = None) -> str:
        """``'client_id=… (or ICD_CLIENT_ID), …'`` for the named (default: credential) fields,
        then where to get them."""
        if names is None:
            names = tuple(f.name for f in self.fields if f.kind == "credential")
        parts = [f"{n}=… (or {self.env[n]})" if n in self.env else f"{n}=…" for n in names]
        text = ", ".join(parts)
        return text + (f"; {self.signup}" if self.signup else "")

    def missing_hints(self) -> dict[str, str]:
        """What to set when a request needs a credential that is not configured: the
        field's own ``help``, else the fields to set and where to get them."""
        token = tuple(n for n in ("client_id", "client_secret", "username", "password")
                      if self.field(n))
        out = {"token": "set " + self.credential_hint(token or None)}
        key = self.field("api_key")
        if key is not None:
            out["api_key"] = key.help or "set " + self.credential_hint(("api_key",))
        return out

    def credential_labels(self) -> dict[str, str]:
        """Credential names as people say them (``{"api_key": "API key", "token": "token"}``)."""
        return {"token": "token", **{f.name: f.title for f in self.fields if f.secret}}

    def environment_urls(self, environment: str | None) -> dict[str, str]:
        """The URLs of ``environment`` merged over the defaults; ``KeyError`` if unknown."""
        urls = dict(self.urls)
        env = environment or self.default_environment
        if env is not None and self.environments:
            urls.update(self.environments[env])
        return urls

    def url_names(self) -> list[str]:
        """Every URL name this provider knows (``base_url``, ``token_url`` when it uses a
        token, then ``idcons_url``… as declared)."""
        names = dict.fromkeys(["base_url"] + (["token_url"] if self.grant != "none" else []))
        names.update(dict.fromkeys(self.urls))
        for env in self.environments.values():
            names.update(dict.fromkeys(env))
        return list(names)
