"""``explorer.connect``: from a provider name and credentials to a ready session.

Credentials come from the arguments, else from environment variables (``ICD_CLIENT_ID``…),
else from a ``.env`` file (``env_file=``, default ``./.env`` when it exists; it never overrides
the environment). A missing one is a :class:`ConfigurationError` naming what to set — connect
never falls back to the sandbox on its own: ``sandbox=True`` asks for it.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

from .apis import PROFILES
from .apis.profile import Profile
from .auth import ClientCredentials, Password, TokenEndpoint, TokenFlow, client_auth
from .errors import ConfigurationError, Redactor
from .session import Session, Transport, check_url

__all__ = ["connect"]

_UNSET: Any = object()
_SECRETS = ("client_secret", "password", "api_key")


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


def _resolve(profile: Profile, given: dict[str, Any], env_file: Any) -> dict[str, Any]:
    """Fill unset arguments from the environment, then from the .env file."""
    values = {k: v for k, v in given.items() if v is not _UNSET}
    missing_env = {k: n for k, n in profile.env.items() if values.get(k) is None}
    if missing_env:
        dotenv = _dotenv(env_file) if any(n not in os.environ for n in missing_env.values()) \
            else {}
        for key, name in missing_env.items():
            value = os.environ.get(name) or dotenv.get(name)
            if value:
                values[key] = value
    for key in list(values):
        if isinstance(values[key], str):
            stripped = values[key].strip()
            if key not in _SECRETS:
                values[key] = stripped
            if not stripped:
                values[key] = None
    return values


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
    sandbox: bool = False,
    env_file: str | os.PathLike[str] | None = None,
    **options: Any,
) -> Session:
    """Open an authenticated session to ``api`` ("icd", "itcare", "gopacs", "jindexe"), or to
    any OAuth2 client-credentials API when ``token_url=`` or ``issuer=`` is given instead.

    Every URL can be overridden (``base_url=``, ``token_url=``, ``idcons_url=``…);
    ``auth=None`` talks to an API without authentication (WHO's local ICD container);
    ``sandbox=True`` uses the embedded sandbox's credentials and URLs. Extra keyword arguments go
    to the API's session (ICD: ``language=``, ``release=``).

    >>> connect("icd", sandbox=True).deployment
    'sandbox'
    >>> other = connect(token_url="https://kc.example/realms/x/protocol/openid-connect/token",
    ...                 client_id="id", client_secret="secret", base_url="https://api.example")
    >>> other.provider
    'oauth2'
    """
    profile = _profile(api, token_url or issuer, auth)
    name = profile.name
    url_options = {k: options.pop(k) for k in list(options) if k.endswith("_url")}
    given = dict(client_id=client_id, client_secret=client_secret, api_key=api_key,
                 username=username, password=password, environment=environment,
                 base_url=base_url)
    if sandbox:
        token_url, auth = _from_sandbox(name, auth, given, url_options, token_url)
    values = _resolve(profile, given, env_file)
    if values.get("api_key") and not _header_safe(values["api_key"]):
        raise ConfigurationError(
            "api_key holds characters an HTTP header cannot carry (line breaks, control "
            "characters or non-Latin-1 letters)", provider=name,
            hint="copy the key again; set " + profile.credential_hint(("api_key",)))
    env_name = _environment(profile, values.get("environment"))
    urls = profile.environment_urls(env_name)
    urls.update({k: v for k, v in url_options.items() if v})
    if values.get("base_url"):
        urls["base_url"] = values["base_url"]
    if token_url:
        urls["token_url"] = token_url

    use_auth = auth is not None and profile.grant != "none"
    have = {**values, "base_url": urls.get("base_url")}
    needed = [k for k in profile.required if use_auth or k == "api_key"]
    missing = [k for k in dict.fromkeys([*needed, "base_url"]) if not have.get(k)]
    if missing:
        raise ConfigurationError(f"missing {', '.join(missing)}", provider=name,
                                 hint="pass or set " + profile.credential_hint(tuple(missing)))
    for key in [k for k in urls if k != "token_url"]:
        urls[key] = check_url(urls[key], provider=name, what=key)

    redact = Redactor()
    redact.add(*(values.get(k) for k in _SECRETS))
    http = Transport(retries=retries, verify=verify, **({"timeout": timeout} if timeout else {}))
    flow = _flow(profile, values, urls, issuer, profile.scope if scope is _UNSET else scope,
                 auth_method, basic_encoding, leeway, redact, verify, timeout, retries) \
        if use_auth else None
    urls.pop("token_url", None)
    extra = dict(options)
    if profile.environments:
        extra["environment"] = env_name
    cls = profile.session_class or Session
    return cls(profile, urls=urls, flow=flow, api_key=values.get("api_key"), headers=headers,
               http=http, redact=redact, deployment=_deployment(profile, env_name, urls, sandbox),
               **extra)


def _profile(api: str | None, token_endpoint: str | None, auth: Any) -> Profile:
    name = (api or "oauth2").lower()
    if name not in PROFILES:
        raise ConfigurationError(f"unknown API {api!r}",
                                 hint=f"use one of {sorted(k for k in PROFILES if k != 'oauth2')}"
                                      ", or pass token_url=/issuer= for another OAuth2 API")
    if name == "oauth2" and not token_endpoint and auth is not None:
        raise ConfigurationError("no API named and no token endpoint given",
                                 hint="pass an API name such as 'icd', or token_url=/issuer=")
    return PROFILES[name]


def _from_sandbox(name: str, auth: Any, given: dict[str, Any], url_options: dict[str, str],
                  token_url: str | None) -> tuple[str | None, Any]:
    """Fill what the caller left unset from the shared sandbox; returns (token_url, auth)."""
    from . import sandbox

    box = sandbox.shared()
    creds = box.credentials(name) if auth is not None else box.credentials(name, auth=False)
    for key, value in creds.items():
        if key == "token_url":
            token_url = token_url or value
        elif key == "auth":
            auth = value
        elif key.endswith("_url") and key != "base_url":
            url_options.setdefault(key, value)
        elif given.get(key, _UNSET) is _UNSET:
            given[key] = value
    return token_url, auth


def _environment(profile: Profile, env_name: str | None) -> str | None:
    if not profile.environments:
        return env_name
    env_name = env_name or profile.default_environment
    if env_name not in profile.environments:
        raise ConfigurationError(
            f"unknown environment {env_name!r}", provider=profile.name,
            hint=f"use environment= one of {sorted(profile.environments)} "
                 f"(or set {profile.env.get('environment', 'it')})")
    return env_name


def _deployment(profile: Profile, env_name: str | None, urls: dict[str, str],
                sandbox: bool) -> str:
    """"sandbox", "real" (the provider's own URLs) or "custom" (a proxy, a local container)."""
    box = sys.modules.get("explorer.sandbox")
    if sandbox or (box is not None and box.is_sandbox_url(urls["base_url"])):
        return "sandbox"
    if urls["base_url"] in profile.environment_urls(env_name).values():
        return "real"
    return "custom"


def _flow(profile: Profile, values: dict[str, Any], urls: dict[str, str], issuer: str | None,
          scope: str | None, auth_method: str | None, basic_encoding: bool | None,
          leeway: float, redact: Redactor, verify: bool | str, timeout: Any,
          retries: int) -> TokenFlow | None:
    """The token flow of the session, or None when the credentials it needs are absent."""
    name = profile.name
    http = Transport(retry_post=True, retries=retries, verify=verify,
                     **({"timeout": timeout} if timeout else {}))
    hint = f"check {profile.credential_hint()}"
    if profile.grant == "password":
        if not (values.get("username") and values.get("password")):
            return None  # key-only routes still work; token routes will say what is missing
        token_headers = {profile.api_key_header: values["api_key"]} \
            if profile.token_needs_api_key and profile.api_key_header else {}
        endpoint = TokenEndpoint(urls.get("token_url") or urls["base_url"] + "/public/token",
                                 provider=name, body_format=profile.token_body,
                                 headers=token_headers, http=http, redact=redact, hint=hint)
        return TokenFlow(endpoint, Password(values["username"], values["password"]),
                         leeway=leeway)
    if not (values.get("client_id") and values.get("client_secret")):
        return None  # GOPACS public endpoints: calls needing a token will name what to set
    method = auth_method or profile.auth_method
    try:
        cauth = client_auth(method, values["client_id"], values["client_secret"],
                            basic_encoding=profile.basic_encoding if basic_encoding is None
                            else basic_encoding)
    except ValueError as exc:
        raise ConfigurationError(str(exc), provider=name) from None
    endpoint = TokenEndpoint(urls.get("token_url"), issuer=issuer if not urls.get("token_url")
                             else None, provider=name, client_auth=cauth,
                             body_format=profile.token_body, http=http, redact=redact, hint=hint)
    return TokenFlow(endpoint, ClientCredentials(scope), leeway=leeway)
