"""explorer: authenticated web APIs, explorable in Jupyter.

Layers: :mod:`explorer.auth` (token flows) → :mod:`explorer.session` (transport) →
:mod:`explorer.apis` (one module per API) → :mod:`explorer.widgets`; :mod:`explorer.sandbox`
beside them emulates the four APIs on 127.0.0.1.

>>> import explorer
>>> icd = explorer.connect("icd", sandbox=True)     # the embedded sandbox, asked for
>>> icd.code("1A00")["title"]
'Cholera'
"""

from __future__ import annotations

import sys

from . import apis
from .apis import gopacs, icd, itcare, jindexe
from .auth import Token
from .connect import connect
from .errors import ApiError, AuthenticationError, ConfigurationError, ExplorerError, NotFound
from .session import Session

# `import explorer.icd` works like `explorer.icd` (the modules live in explorer/apis/).
for _name, _module in (("icd", icd), ("itcare", itcare), ("gopacs", gopacs),
                       ("jindexe", jindexe)):
    sys.modules.setdefault(f"{__name__}.{_name}", _module)

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
    "gopacs",
    "icd",
    "itcare",
    "jindexe",
    "sandbox",
]


def __getattr__(name: str):
    # The sandbox and the widgets import on first use: `import explorer` stays light.
    if name in ("sandbox", "widgets"):
        import importlib

        return importlib.import_module(f"{__name__}.{name}")
    if name == "login":
        from .widgets import login

        return login
    raise AttributeError(f"module 'explorer' has no attribute {name!r}")
