"""One module per API: profile (real defaults), session helpers and DataFrames."""

from __future__ import annotations

from . import gopacs, icd, itcare, jindexe, oauth2
from .profile import Profile

PROFILES: dict[str, Profile] = {
    "icd": icd.PROFILE,
    "itcare": itcare.PROFILE,
    "gopacs": gopacs.PROFILE,
    "jindexe": jindexe.PROFILE,
    "oauth2": oauth2.PROFILE,
}

__all__ = ["PROFILES", "Profile", "gopacs", "icd", "itcare", "jindexe", "oauth2"]
