"""``explorer.connect``: from a provider name and credentials to a ready session.

Everything provider-specific comes from the provider's declaration
(:class:`~explorer.session.provider.Provider`, found in the registry :mod:`explorer.apis`):
its fields and their environment variables, its URLs and environments, its grant, client
authentication and route rules. Credentials come from the arguments, else from environment
variables (``ICD_CLIENT_ID``…), else from a ``.env`` file (``env_file=``, default ``./.env``
when it exists; it never overrides the environment). A missing one is a
:class:`ConfigurationError` naming what to set — connect never falls back to the sandbox on its
own: ``sandbox=True`` (the shared sandbox) or ``sandbox=<a Sandbox>`` asks for it.
"""

from __future__ import annotations

import difflib
import inspect
import os
from collections.abc import Mapping
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from . import apis
from ._secret import Secret
from .auth import (
    GRANTS,
    MAX_TOKEN_BYTES,
    ApiKeyAuth,
    BearerAuth,
    RequestAuth,
    RouteAuth,
    TokenEndpoint,
    TokenFlow,
    client_auth,
    grant,
)
from .errors import ConfigurationError, Redactor
from .session import Provider, Session
from .session.parallel import DEFAULT_MAX_WORKERS
from .transport import Transport, check_url

__all__ = ["connect"]

_UNSET: Any = object()
#: connect()'s own keyword arguments that are not provider fields.
_OWN = ("token_url", "issuer", "scope", "auth_method", "basic_encoding", "auth", "leeway",
        "timeout", "retries", "verify", "headers", "sandbox", "env_file", "deployment",
        "max_wait", "deadline", "max_bytes", "max_workers")


def connect(
    api: str | None = None,
    *,
    client_id: str | None = _UNSET,
    client_secret: str | None = _UNSET,
    api_key: str | None = _UNSET,
    username: str | None = _UNSET,
    password: str | None = _UNSET,
    environment: str | None = _UNSET,
    base_url: str | None = _UNSET,
    token_url: str | None = None,
    issuer: str | None = None,
    scope: str | None = _UNSET,
    auth_method: str | None = None,
    basic_encoding: bool | None = None,
    auth: Any = _UNSET,
    leeway: float = 30.0,
    timeout: float | tuple[float, float] | None = None,
    retries: int = 5,
    verify: bool | str = True,
    headers: dict[str, str] | None = None,
    sandbox: Any = False,
    env_file: str | os.PathLike[str] | None = None,
    deployment: str | None = None,
    max_wait: float = 60.0,
    deadline: float = 120.0,
    max_bytes: int = 200_000_000,
    max_workers: int = DEFAULT_MAX_WORKERS,
    **options: Any,
) -> Session:
    """Open an authenticated session to ``api`` (a registered provider: ``"icd"``,
    ``"itcare"``, ``"gopacs"``, ``"jindexe"``…), or to any OAuth2 client-credentials API when
    ``token_url=`` or ``issuer=`` is given instead.

    Every URL can be overridden (``base_url=``, ``token_url=``, ``idcons_url=``…);
    ``auth=None`` talks to an API without authentication (WHO's local ICD container);
    ``sandbox=True`` uses the shared sandbox's credentials and URLs (``sandbox=box`` a given
    one); a file the provider's emulator can serve offline (ICD:
    ``release_file="SimpleTabulation-ICD-11-MMS-fr.zip"``, a release downloaded from WHO, in
    any language) starts a private sandbox serving it on 127.0.0.1, without authentication,
    in the file's language, stopped when the session closes; ``deployment=`` labels the
    session (default: ``"sandbox"``, ``"offline"`` for a file, ``"real"`` for the provider's
    own URLs, else ``"custom"``). Bounds on every request: ``max_wait`` (seconds a server may
    ask to wait before a retry), ``deadline`` (seconds for one request, retries included),
    ``max_bytes`` (decoded bytes of one answer; token answers: 1 MB); concurrent calls grow to
    at most ``max_workers`` requests in flight per host, adapting to the server
    (:mod:`explorer.session.parallel`). Other keyword arguments go to the API's session (ICD:
    ``language=``, ``release=``…); an unknown one is a :class:`ConfigurationError` naming
    the close match.

    >>> connect("icd", sandbox=True).deployment
    'sandbox'
    >>> other = connect(token_url="https://kc.example/realms/x/protocol/openid-connect/token",
    ...                 client_id="id", client_secret="secret", base_url="https://api.example")
    >>> other.provider
    'oauth2'
    >>> try:
    ...     connect("icd", sandbox=True, languag="en")
    ... except ConfigurationError as exc:
    ...     print(exc.detail, "/", exc.hint[:28])
    unknown option 'languag' / did you mean 'language'? icd
    """
    provider = _provider(api, token_url or issuer, auth)
    given: dict[str, Any] = dict(client_id=client_id, client_secret=client_secret,
                                 api_key=api_key, username=username, password=password,
                                 environment=environment, base_url=base_url)
    url_options = {k: options.pop(k) for k in list(options) if k in provider.url_names()
                   or (k.endswith("_url") and k != "base_url")}
    accepted = _accepted(provider)
    for field in provider.fields:  # fields a provider adds beyond the common ones
        if field.name in options and field.name not in given and field.name not in accepted:
            given[field.name] = options.pop(field.name)
    files = _offline_options(provider, options, accepted)
    session_options = _session_options(provider, options, accepted)
    with ExitStack() as on_error:
        if files:  # a private sandbox serves the user's file: stopped if connect fails
            private, implied = _serve_offline(provider, files, sandbox)
            on_error.callback(private.stop)
            sandbox, auth = private, None
            deployment = deployment or "offline"
            for key, value in implied.items():
                session_options.setdefault(key, value)
        name = provider.name
        if sandbox is not False and sandbox is not None:
            token_url, auth = _from_sandbox(provider, sandbox, auth, given, url_options,
                                            token_url, session_options)
            deployment = deployment or "sandbox"
        values = _resolve(provider, given, env_file)
        if values.get("api_key") and not _header_safe(values["api_key"]):
            raise ConfigurationError(
                "api_key holds characters an HTTP header cannot carry (line breaks, control "
                "characters or non-Latin-1 letters)", provider=name,
                hint="copy the key again; set " + provider.credential_hint(("api_key",)))
        env_name = _environment(provider, values.get("environment"))
        urls = provider.environment_urls(env_name)
        urls.update({k: v for k, v in url_options.items() if v})
        if values.get("base_url"):
            urls["base_url"] = values["base_url"]
        if token_url:
            urls["token_url"] = token_url

        use_auth = auth is not None and provider.grant != "none"
        have = {**values, "base_url": urls.get("base_url")}
        needed = provider.required(authenticated=use_auth)
        missing = [k for k in dict.fromkeys([*needed, "base_url"]) if not have.get(k)]
        if missing:
            raise ConfigurationError(
                f"missing {', '.join(missing)}", provider=name,
                hint="pass or set " + provider.credential_hint(tuple(missing)))
        for key in [k for k in urls if k != "token_url"]:
            urls[key] = check_url(urls[key], provider=name, what=key)

        redact = Redactor()
        redact.add(*(values.get(k) for k in provider.secrets))
        transport = dict(retries=retries, verify=verify, max_wait=max_wait, deadline=deadline,
                         sensitive_headers=tuple(h for h in (provider.api_key_header,) if h),
                         **({"timeout": timeout} if timeout else {}))
        http = Transport(max_bytes=max_bytes, **transport)
        flow = _flow(provider, values, urls, issuer,
                     provider.scope if scope is _UNSET else scope, auth_method, basic_encoding,
                     leeway, redact, transport) if use_auth else None
        urls.pop("token_url", None)
        request_auth = _request_auth(provider, values, urls, flow, redact, use_auth)
        if provider.environments:
            session_options["environment"] = env_name
        cls = provider.session_class or Session
        session = cls(provider, urls=urls, auth=request_auth, flow=flow, headers=headers,
                      http=http, redact=redact,
                      deployment=deployment or _deployment(provider, env_name, urls),
                      max_workers=max_workers, **session_options)
        if files:
            session.close_with(private.stop)  # the session owns its private sandbox now
        on_error.pop_all()
    return session


# -- the steps ---------------------------------------------------------------------------------
def _provider(api: str | None, token_endpoint: str | None, auth: Any) -> Provider:
    if api is None and not token_endpoint and auth is not None:
        raise ConfigurationError("no API named and no token endpoint given",
                                 hint="pass an API name such as 'icd', or token_url=/issuer= "
                                      "for another OAuth2 API")
    return apis.get(api or "oauth2")


def _accepted(provider: Provider) -> set[str]:
    """The options the provider's session class takes (beyond every session's)."""
    cls = provider.session_class or Session
    accepted = {p.name for p in inspect.signature(cls.__init__).parameters.values()
                if p.kind is inspect.Parameter.KEYWORD_ONLY} - set(
        inspect.signature(Session.__init__).parameters)
    accepted.discard("environment")
    return accepted


def _session_options(provider: Provider, options: dict[str, Any],
                     accepted: set[str]) -> dict[str, Any]:
    """The session options among ``options`` (settings fields the session takes, read from
    their environment variables when not given); an unknown option is refused by name."""
    for field in provider.fields:
        if field.name in accepted and field.name not in options and field.env \
                and os.environ.get(field.env):
            options[field.name] = os.environ[field.env]
    unknown = [k for k in options if k not in accepted]
    if unknown:
        takes = sorted(accepted | {f.name for f in provider.fields} | set(
            provider.url_names()) | {"base_url"} | set(_offline_names(provider)))
        close = difflib.get_close_matches(unknown[0], [*takes, *_OWN], n=1)
        hint = (f"did you mean {close[0]!r}? " if close else "") + (
            f"{provider.name} takes: {', '.join(takes)} (and connect's own: "
            f"{', '.join(sorted(_OWN))})")
        raise ConfigurationError(f"unknown option {unknown[0]!r}", provider=provider.name,
                                 hint=hint)
    return dict(options)


def _offline_options(provider: Provider, options: dict[str, Any],
                     accepted: set[str]) -> dict[str, Any]:
    """The options among ``options`` that name a user's file for the provider's emulator to
    serve offline (ICD's ``release_file=``), popped. Only looked for when an option is not the
    session's, so connect() imports the sandbox only then."""
    unknown = [k for k in options if k not in accepted]
    offline = _offline_names(provider) if unknown else ()
    return {k: options.pop(k) for k in unknown if k in offline}


def _offline_names(provider: Provider) -> tuple[str, ...]:
    """The provider's offline file options (none without the sandbox extra)."""
    try:
        from .sandbox import emulators
    except ImportError:  # the sandbox extra (Werkzeug) is not installed
        return ()
    emulator = emulators().get(provider.name)
    return tuple(emulator.offline) if emulator is not None else ()


def _serve_offline(provider: Provider, files: dict[str, Any], sandbox: Any) -> tuple[Any, dict]:
    """A private sandbox serving the user's files (no auth, loopback) and the session options
    the files imply; a file that cannot be served is a ConfigurationError naming it."""
    from .sandbox import emulators, serve_files

    options = emulators()[provider.name].offline
    names = ", ".join(f"{k}=" for k in files)
    if sandbox is not False and sandbox is not None:
        raise ConfigurationError(f"{names} and sandbox= both given", provider=provider.name,
                                 hint=f"{names} serves the file through a private sandbox of "
                                      "its own: drop sandbox=")
    try:
        return serve_files(provider.name, **files)
    except ValueError as exc:
        what = "; ".join(options[k].what for k in files)
        raise ConfigurationError(str(exc), provider=provider.name,
                                 hint=f"pass {names} {what}") from None


def _from_sandbox(provider: Provider, sandbox: Any, auth: Any, given: dict[str, Any],
                  url_options: dict[str, str], token_url: str | None,
                  session_options: dict[str, Any]) -> tuple[str | None, Any]:
    """Fill what the caller left unset from a sandbox's credentials; returns (token_url, auth).

    ``sandbox`` is ``True`` (the process-wide sandbox) or a running sandbox.
    """
    if sandbox is True:
        from .sandbox import shared

        sandbox = shared()
    settings = {f.name: given[f.name] for f in provider.fields if f.kind == "setting"
                and given.get(f.name, _UNSET) not in (_UNSET, None)}
    if auth is None:
        settings["auth"] = False
    creds = sandbox.credentials(provider.name, **settings)
    for key, value in creds.items():
        if key == "token_url":
            token_url = token_url or value
        elif key == "auth":
            auth = value if auth is _UNSET else auth
        elif key == "deployment":
            continue
        elif key in given or provider.field(key) is not None:
            if given.get(key, _UNSET) is _UNSET:
                given[key] = value
        elif key.endswith("_url"):
            url_options.setdefault(key, value)
        else:
            session_options.setdefault(key, value)
    for key, value in sandbox.connect_options(provider.name).items():
        session_options.setdefault(key, value)
    return token_url, auth


def _dotenv(env_file: str | os.PathLike[str] | None) -> dict[str, str]:
    path = Path(env_file) if env_file is not None else Path(".env")
    if not path.is_file():
        if env_file is not None:
            raise ConfigurationError(f"env_file {str(path)!r} does not exist",
                                     hint="pass the path of an existing .env file")
        return {}
    from dotenv import dotenv_values

    return {k: v for k, v in dotenv_values(path).items() if v is not None}


def _header_safe(value: str) -> bool:
    """Whether ``value`` can be sent as an HTTP header value (Latin-1, no control characters)."""
    return all(" " <= c <= "~" or "\xa0" <= c <= "\xff" for c in value)


def _resolve(provider: Provider, given: Mapping[str, Any], env_file: Any) -> dict[str, Any]:
    """Fill unset arguments from the environment, then from the .env file."""
    values = {k: v for k, v in given.items() if v is not _UNSET}
    missing_env = {k: n for k, n in provider.env.items() if values.get(k) is None}
    if missing_env:
        dotenv = _dotenv(env_file) if any(n not in os.environ for n in missing_env.values()) \
            else {}
        for key, name in missing_env.items():
            value = os.environ.get(name) or dotenv.get(name)
            if value:
                values[key] = value
    secrets = set(provider.secrets)
    for key in list(values):
        if isinstance(values[key], str):
            stripped = values[key].strip()
            if key not in secrets:
                values[key] = stripped
            if not stripped:
                values[key] = None
    return values


def _environment(provider: Provider, env_name: str | None) -> str | None:
    if not provider.environments:
        return env_name
    env_name = env_name or provider.default_environment
    if env_name not in provider.environments:
        raise ConfigurationError(
            f"unknown environment {env_name!r}", provider=provider.name,
            hint=f"use environment= one of {sorted(provider.environments)} "
                 f"(or set {provider.env.get('environment', 'it')})")
    return env_name


def _deployment(provider: Provider, env_name: str | None, urls: Mapping[str, str]) -> str:
    """"real" (the provider's own URLs) or "custom" (a proxy, a local container…)."""
    if urls["base_url"] in provider.environment_urls(env_name).values():
        return "real"
    return "custom"


def _flow(provider: Provider, values: dict[str, Any], urls: dict[str, str], issuer: str | None,
          scope: str | None, auth_method: str | None, basic_encoding: bool | None,
          leeway: float, redact: Redactor, transport: dict[str, Any]) -> TokenFlow | None:
    """The token flow of the session, or ``None`` when the settings its grant needs are unset
    (routes that need a token then say what to set)."""
    name = provider.name
    if provider.grant not in GRANTS:
        raise ConfigurationError(f"unknown grant {provider.grant!r}", provider=name,
                                 hint=f"use one of {sorted(GRANTS)}")
    the_grant = grant(provider.grant, values, scope)
    if the_grant is None:
        return None
    http = Transport(retry_post=True, max_bytes=MAX_TOKEN_BYTES, **transport)
    hint = f"check {provider.credential_hint()}"
    cauth = None
    if values.get("client_id") and values.get("client_secret"):
        try:
            cauth = client_auth(auth_method or provider.auth_method, values["client_id"],
                                Secret(values["client_secret"]),
                                basic_encoding=provider.basic_encoding if basic_encoding is None
                                else basic_encoding)
        except ValueError as exc:
            raise ConfigurationError(str(exc), provider=name) from None
        redact.add(*cauth.encodings())
    token_url = urls.get("token_url") or (urls["base_url"] + provider.token_path
                                          if provider.token_path else None)
    token_headers = {}
    if "api_key" in provider.token_credentials and provider.api_key_header \
            and values.get("api_key"):
        token_headers[provider.api_key_header] = values["api_key"]
    endpoint = TokenEndpoint(token_url, issuer=issuer if not token_url else None,
                             provider=name, client_auth=cauth, body_format=provider.token_body,
                             headers=token_headers, http=http, redact=redact, hint=hint)
    return TokenFlow(endpoint, the_grant, leeway=leeway)


def _request_auth(provider: Provider, values: Mapping[str, Any], urls: Mapping[str, str],
                  flow: TokenFlow | None, redact: Redactor,
                  use_auth: bool) -> RequestAuth | None:
    """The route rules of the provider over its credentials (``None``: no authentication)."""
    routes = provider.auth_routes()
    if not routes or (not use_auth and not values.get("api_key")):
        return None
    auths: dict[str, RequestAuth | None] = {"token": None, "api_key": None}
    if flow is not None:
        auths["token"] = BearerAuth(flow, provider=provider.name, redact=redact,
                                    hint=provider.credential_hint(),
                                    blames=_blames(provider))
    if values.get("api_key") and provider.api_key_header:
        auths["api_key"] = ApiKeyAuth(provider.api_key_header, Secret(values["api_key"]))
    if not use_auth:  # auth=None: only what is configured, never a "missing token" error
        routes = tuple(r.__class__(r.prefix, r.base, tuple(c for c in r.credentials
                                                           if auths.get(c)), r.why)
                       for r in routes)
    return RouteAuth(routes, urls=urls, auths=auths, provider=provider.name, redact=redact,
                     labels=provider.credential_labels(), missing=provider.missing_hints())


def _blames(provider: Provider) -> Any:
    """What a 401 body says is refused, in the provider's words (a key, not the token)."""
    import requests

    words = provider.errors

    def blames(response: requests.Response) -> str | None:
        try:
            body = response.json()
        except (ValueError, RecursionError):
            body = None
        code = body.get(words.code_key) if isinstance(body, dict) and words.code_key else None
        name = words.credential(401, code if isinstance(code, str) else None,
                                response.url or "")
        return name if name not in (None, "token") else None

    return blames
