"""URLs, parsed once with the parser the transport itself uses (urllib3's ``parse_url``).

Every check here reads the URL the way urllib3 will when it connects, so a URL cannot look
like one host to a check and be another host on the wire (``http://a\\@b/`` splits the
standard library's parser from urllib3's: backslashes are refused outright, as is userinfo).

>>> origin("HTTP://LocalHost/a")
('http', 'localhost', 80)
>>> under("http://id.who.int/icd/entity/1", "http://id.who.int")
'/icd/entity/1'
>>> under("http://id.who.int.evil.example/icd", "http://id.who.int") is None
True
"""

from __future__ import annotations

import ipaddress

from urllib3.exceptions import LocationParseError
from urllib3.util import Url, parse_url

from ..errors import ConfigurationError

__all__ = ["check_url", "is_absolute", "is_loopback", "origin", "parse", "under"]

_DEFAULT_PORTS = {"http": 80, "https": 443}


def parse(url: str) -> Url:
    """``url`` parsed by urllib3; ``ValueError`` for what it cannot parse, for a backslash or
    for userinfo (``user@host``), which no explorer URL ever needs.

    >>> parse("https://id.who.int/icd/entity?x=1").host
    'id.who.int'
    """
    if not isinstance(url, str):
        raise ValueError(f"not a URL: {type(url).__name__}")
    if "\\" in url:
        raise ValueError("a backslash in a URL (parsers disagree on where its host ends)")
    try:
        parts = parse_url(url)
    except LocationParseError as exc:
        raise ValueError(f"unparsable URL ({exc})") from None
    if parts.auth is not None:
        raise ValueError("user information (user@host) in a URL")
    return parts


def is_absolute(url: str) -> bool:
    """Whether ``url`` names a scheme (``http://…``); paths and queries do not, whatever their
    query holds (``/x?target=https://y`` is a path).

    >>> is_absolute("/icd/entity?target=https://evil.example"), is_absolute("https://h/x")
    (False, True)
    """
    head = url.split("?", 1)[0].split("#", 1)[0]
    return "://" in head


def origin(url: str) -> tuple[str, str, int]:
    """``(scheme, host, port)`` of an absolute URL, normalised (lower case, default ports).

    >>> origin("https://ID.who.int:443/x") == origin("https://id.who.int")
    True
    """
    parts = parse(url)
    scheme = (parts.scheme or "").lower()
    host = (parts.host or "").lower()
    return scheme, host, parts.port or _DEFAULT_PORTS.get(scheme, 0)


def under(url: str, prefix: str) -> str | None:
    """The rest of ``url`` (path, query) when it lies under ``prefix``: same origin and the
    prefix's path followed by a segment boundary. ``None`` otherwise (or if either does not
    parse).

    >>> under("https://h/itcare/compute?x=1", "https://h/itcare")
    '/compute?x=1'
    >>> under("https://h/itcarex/compute", "https://h/itcare") is None
    True
    """
    try:
        if origin(url) != origin(prefix):
            return None
        parts, base = parse(url), parse(prefix)
    except ValueError:
        return None
    path, root = parts.path or "/", (base.path or "").rstrip("/")
    if root and not (path == root or path.startswith(root + "/")):
        return None
    rest = path[len(root):] or "/"
    return rest + (f"?{parts.query}" if parts.query else "")


def is_loopback(host: str | None) -> bool:
    """Whether ``host`` is this machine (``localhost``, ``127.0.0.0/8``, ``::1``).

    >>> is_loopback("127.0.0.1"), is_loopback("[::1]"), is_loopback("example.com")
    (True, True, False)
    """
    if not host:
        return False
    host = host.lower().rstrip(".")
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_url(url: str, *, provider: str | None, what: str = "base_url") -> str:
    """Return ``url`` without a trailing slash, or raise :class:`ConfigurationError`.

    Only ``https://`` is accepted, except ``http://`` to a loopback host (a local deployment or
    the sandbox); userinfo and backslashes are refused.

    >>> check_url("https://id.who.int/", provider="icd")
    'https://id.who.int'
    """
    try:
        parts = parse(url or "")
    except ValueError as exc:
        raise ConfigurationError(f"{what} is not a usable URL: {exc}", provider=provider,
                                 hint=f"pass {what}='https://host/path'") from None
    if parts.scheme not in ("http", "https") or not parts.host:
        raise ConfigurationError(
            f"{what} {url!r} is not an absolute http(s) URL", provider=provider,
            hint=f"pass {what}='https://host/path'")
    if parts.scheme == "http" and not is_loopback(parts.host):
        raise ConfigurationError(
            f"{what} uses plain http to a non-loopback host; credentials would travel in clear",
            provider=provider, url=url,
            hint=f"use https:// for {parts.host} (http is only accepted for 127.0.0.1 "
                 "and localhost)")
    return url.rstrip("/")
