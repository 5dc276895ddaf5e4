"""explorer: authenticated web APIs, explorable in Jupyter.

Layers, each importing only those below it: :mod:`explorer.transport` (HTTP rules, URLs) →
:mod:`explorer.auth` (token flows, request credentials) → :mod:`explorer.session` (the provider
contract, sessions, DataFrames) → :mod:`explorer.apis` (one module per API, and the registry) →
:mod:`explorer.widgets` and :mod:`explorer.cli`; :mod:`explorer.sandbox` beside them emulates
the APIs on 127.0.0.1. Every provider is also an attribute: ``explorer.icd`` is
:mod:`explorer.apis.icd`.

>>> import explorer
>>> icd = explorer.connect("icd", sandbox=True)     # the embedded sandbox, asked for
>>> icd.code("1A00")["title"]
'Cholera'
"""

from __future__ import annotations

import importlib
from typing import Any

from . import apis
from .auth import Token
from .connect import connect
from .errors import ApiError, AuthenticationError, ConfigurationError, ExplorerError, NotFound
from .session import Session

__version__ = "0.1.0"

__all__ = [
    "ApiError",
    "AuthenticationError",
    "ConfigurationError",
    "ExplorerError",
    "NotFound",
    "Session",
    "Token",
    "apis",
    "connect",
    "login",
    "sandbox",
    "widgets",
]

_LAZY = ("sandbox", "widgets")


def __getattr__(name: str) -> Any:
    # The sandbox and the widgets import on first use (and need their extras); providers are
    # attributes too (``explorer.icd``).
    if name in _LAZY:
        return importlib.import_module(f"{__name__}.{name}")
    if name == "login":
        return importlib.import_module(f"{__name__}.widgets").login
    module = apis.module(name) if not name.startswith("_") else None
    if module is not None:
        return module
    raise AttributeError(f"module 'explorer' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__, *apis.names()})
