"""The ICD session: language and release options on top of :class:`explorer.session.Session`."""

from __future__ import annotations

from typing import Any

from ...session import Session

__all__ = ["IcdSession"]


class IcdSession(Session):
    """A session to the WHO ICD API (or WHO's local container, or the sandbox).

    ``language`` goes out as ``Accept-Language`` on every call (default ``"en"``).

    >>> icd = explorer.connect("icd", sandbox=True, language="en")   # doctest: +SKIP
    """

    def __init__(self, profile: Any, *, language: str = "en", release: str | None = None,
                 **kwargs: Any) -> None:
        super().__init__(profile, **kwargs)
        self.language = language
        self.release = release
        self.headers["Accept-Language"] = language
