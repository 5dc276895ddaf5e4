"""Sessions: the provider contract, one authenticated session per API, and DataFrames.

* :mod:`.provider` — :class:`Provider`, :class:`Field`, :class:`ErrorWords`: what a provider
  declares;
* :mod:`.collections` — :class:`Collection`, :class:`Filter`: its collections;
* :mod:`.paging` — paging strategies;
* :mod:`.session` — :class:`Session`: URLs, requests through the auth flow, the error template,
  ``frame()``;
* :mod:`.frames` — JSON → DataFrame (flattening, declared times);
* :mod:`.parallel` — bounded concurrency with progress bars;
* :mod:`.store` — the payload store (SQLite or memory).

>>> from explorer.session import Provider
>>> Provider("demo", "Demo").auth_routes()[0].credentials
('token',)
"""

from .collections import Collection, Filter
from .paging import (
    Cursor,
    Detect,
    NextLink,
    NumberedPages,
    OffsetLimit,
    Page,
    Paging,
    Single,
    SpringPages,
)
from .provider import ErrorWords, Field, Provider
from .session import Session

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
    "Page",
    "Paging",
    "Provider",
    "Session",
    "Single",
    "SpringPages",
]
