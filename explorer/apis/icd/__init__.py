"""WHO ICD-11 / ICD-10: profile, session helpers and DataFrames."""

from .profile import PROFILE
from .session import IcdSession

__all__ = ["PROFILE", "IcdSession"]
