"""One module per API, and the registry of providers.

Each module of this package that defines ``PROVIDER`` (a
:class:`~explorer.session.provider.Provider`) is a built-in provider; :func:`register` adds
others (a provider of your own, defined anywhere). ``connect``, the credential form, the
resource view, the command line and the sandbox find providers here, by name.

>>> from explorer import apis
>>> apis.names()
['gopacs', 'icd', 'itcare', 'jindexe']
>>> apis.get("icd").title
'WHO ICD API'

The types a provider module declares with are re-exported here: :class:`Provider`,
:class:`Field`, :class:`ErrorWords`, :class:`Route`, :class:`Collection`, :class:`Filter` and
the paging strategies.
"""

from __future__ import annotations

import difflib
import importlib
import pkgutil
import threading
from types import ModuleType

from ..auth.request_auth import Route
from ..errors import ConfigurationError
from ..session.collections import Collection, Filter
from ..session.paging import (
    Cursor,
    Detect,
    NextLink,
    NumberedPages,
    OffsetLimit,
    Single,
    SpringPages,
)
from ..session.provider import ErrorWords, Field, Provider

__all__ = [
    "Collection",
    "Cursor",
    "Detect",
    "ErrorWords",
    "Field",
    "Filter",
    "NextLink",
    "NumberedPages",
    "OffsetLimit",
    "Provider",
    "Route",
    "Single",
    "SpringPages",
    "environment_variables",
    "get",
    "module",
    "names",
    "providers",
    "register",
    "unregister",
]

_registry: dict[str, Provider] = {}
_modules: dict[str, str] = {}
_lock = threading.RLock()
_discovered = False


def _discover() -> None:
    """Import the provider modules of this package once (those that define ``PROVIDER``)."""
    global _discovered
    with _lock:
        if _discovered:
            return
        _discovered = True
        for info in pkgutil.iter_modules(__path__):
            if info.name.startswith("_"):
                continue
            mod = importlib.import_module(f"{__name__}.{info.name}")
            provider = getattr(mod, "PROVIDER", None)
            if isinstance(provider, Provider) and provider.name not in _registry:
                _registry[provider.name] = provider
                _modules[provider.name] = mod.__name__


def register(provider: Provider, *, replace: bool = False) -> Provider:
    """Add ``provider`` to the registry (``replace=True`` to override one of the same name).

    >>> from explorer import apis
    >>> demo = apis.register(apis.Provider("demo-doc", "Demo", urls={"base_url": "https://h"}))
    >>> "demo-doc" in apis.names(); apis.unregister("demo-doc")
    True
    """
    if not isinstance(provider, Provider):
        raise TypeError(f"expected a Provider, got {type(provider).__name__}")
    _discover()
    with _lock:
        if provider.name in _registry and not replace and _registry[provider.name] is not provider:
            raise ValueError(f"a provider named {provider.name!r} is already registered "
                             "(pass replace=True to override it)")
        _registry[provider.name] = provider
    return provider


def unregister(name: str) -> None:
    """Remove the provider ``name`` (no error if absent)."""
    with _lock:
        _registry.pop(name, None)
        _modules.pop(name, None)


def get(name: str) -> Provider:
    """The provider named ``name`` (case-insensitive); :class:`ConfigurationError` naming the
    close match otherwise.

    >>> from explorer import apis
    >>> try:
    ...     apis.get("itcre")
    ... except ConfigurationError as exc:
    ...     print(exc.hint[:40])
    did you mean 'itcare'? Known APIs: gopac
    """
    _discover()
    key = str(name).strip().lower()
    provider = _registry.get(key)
    if provider is None:
        known = names()
        close = difflib.get_close_matches(key, list(_registry), n=1)
        guess = f"did you mean {close[0]!r}? " if close else ""
        raise ConfigurationError(
            f"unknown API {name!r}",
            hint=f"{guess}Known APIs: {', '.join(known)} (or pass token_url=/issuer= for "
                 "another OAuth2 API)")
    return provider


def names(*, listed: bool = True) -> list[str]:
    """Provider names, sorted (``listed=False``: the unlisted generic ones too)."""
    _discover()
    return sorted(n for n, p in _registry.items() if p.listed or not listed)


def providers(*, listed: bool = True) -> list[Provider]:
    """The providers, sorted by name."""
    return [_registry[n] for n in names(listed=listed)]


def module(name: str) -> ModuleType | None:
    """The built-in module that declares provider ``name`` (``None`` for registered ones)."""
    _discover()
    path = _modules.get(name)
    return importlib.import_module(path) if path else None


def environment_variables() -> list[str]:
    """Every environment variable any provider reads (for tests' isolation, docs)."""
    _discover()
    return sorted({var for p in _registry.values() for var in p.env.values()})
