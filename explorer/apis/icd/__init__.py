"""WHO ICD-11 / ICD-10: provider, session helpers and DataFrames (seed "ICD API
Authentication"; reference icd-api.md §2–3).

Client credentials with HTTP Basic at WHO's IdentityServer, scope ``icdapi_access``; every call
sends ``Accept: application/json``, ``Accept-Language`` and ``API-Version: v2``. Payload URIs are
``http://id.who.int/...`` and map onto the session's base URL.

Online: :class:`IcdSession` (from ``explorer.connect("icd", ...)``); offline, on WHO's files:

* :func:`read_tabulation` reads WHO's SimpleTabulation file of a release (``.zip``, ``.txt``,
  ``.txt.gz``) into the same shape as ``IcdSession.tree``;
* :func:`compare` tells what changed between two releases (files or frames;
  ``IcdSession.compare`` does it over the API), one row per changed entity;
* :func:`read_mapping` reads WHO's ICD-10 ↔ ICD-11 mapping tables (which you download: they
  are not covered by the ICD-11 licence, explorer ships none) and :func:`map_codes` maps a
  column of codes through them.

Show :data:`CITATION` wherever ICD-11 content is shown (WHO's terms of use, §1.3).

>>> import explorer
>>> df = explorer.icd.read_tabulation("SimpleTabulation-ICD-11-MMS-en.zip")  # doctest: +SKIP
>>> changes = explorer.icd.compare("2024-01.zip", "2025-01.txt.gz")         # doctest: +SKIP
"""

from ...session import ErrorWords, Field, Provider
from .diff import CHANGE_KINDS, COMPARE_COLUMNS, compare
from .frames import (
    AUTOCODE_COLUMNS,
    CITATION,
    CODE_COLUMNS,
    ENTITY_COLUMNS,
    RELEASE_COLUMNS,
    SEARCH_COLUMNS,
    TERM_COLUMNS,
)
from .mapping import MAPPED_COLUMNS, MAPPING_COLUMNS, map_codes, read_mapping
from .session import IcdSession
from .tabulation import read_tabulation
from .tree import tree_frame

__all__ = [
    "AUTOCODE_COLUMNS",
    "CHANGE_KINDS",
    "CITATION",
    "CODE_COLUMNS",
    "COMPARE_COLUMNS",
    "ENTITY_COLUMNS",
    "MAPPED_COLUMNS",
    "MAPPING_COLUMNS",
    "PROVIDER",
    "RELEASE_COLUMNS",
    "SEARCH_COLUMNS",
    "TERM_COLUMNS",
    "IcdSession",
    "compare",
    "map_codes",
    "read_mapping",
    "read_tabulation",
    "tree_frame",
]

#: Languages of ICD-11 MMS releases (the server says which a release has).
LANGUAGES = ("en", "ar", "cs", "es", "fr", "pt", "ru", "tr", "uz", "zh")

PROVIDER = Provider(
    name="icd",
    title="WHO ICD API",
    grant="client_credentials",
    urls={
        "base_url": "https://id.who.int",
        "token_url": "https://icdaccessmanagement.who.int/connect/token",
    },
    auth_method="client_secret_basic",
    scope="icdapi_access",
    headers={"Accept": "application/json", "API-Version": "v2"},
    fields=(
        Field("client_id", env="ICD_CLIENT_ID", required=True),
        Field("client_secret", env="ICD_CLIENT_SECRET", secret=True, required=True),
        Field("release", kind="setting", placeholder="latest"),
        Field("language", kind="setting", choices=LANGUAGES, default="en"),
    ),
    errors=ErrorWords(hints={404: "check the path, code or id"}),
    canonical_prefixes=("http://id.who.int", "https://id.who.int"),
    signup="register at https://icd.who.int/icdapi and use 'View API access key'",
    session_class=IcdSession,
)
