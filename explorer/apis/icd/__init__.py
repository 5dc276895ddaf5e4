"""WHO ICD-11 / ICD-10: profile, session helpers and DataFrames.

``explorer.icd`` is this package. Online: :class:`IcdSession` (from
``explorer.connect("icd", ...)``); offline: :func:`read_tabulation` reads WHO's
SimpleTabulation file into the same shape as ``IcdSession.tree``.

>>> import explorer
>>> df = explorer.icd.read_tabulation("SimpleTabulation-ICD-11-MMS-en.zip")  # doctest: +SKIP
"""

from .frames import (
    AUTOCODE_COLUMNS,
    CODE_COLUMNS,
    ENTITY_COLUMNS,
    RELEASE_COLUMNS,
    SEARCH_COLUMNS,
    TERM_COLUMNS,
)
from .profile import PROFILE
from .session import IcdSession
from .tabulation import read_tabulation
from .tree import tree_frame

__all__ = [
    "AUTOCODE_COLUMNS",
    "CODE_COLUMNS",
    "ENTITY_COLUMNS",
    "PROFILE",
    "RELEASE_COLUMNS",
    "SEARCH_COLUMNS",
    "TERM_COLUMNS",
    "IcdSession",
    "read_tabulation",
    "tree_frame",
]
