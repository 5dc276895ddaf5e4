"""Which release and language the ICD session speaks, checked once, and the list of releases.

:class:`ReleaseMixin` resolves the release on first use (the latest the server lists unless
``release=`` was given), checks the language against the release's ``availableLanguages``
(ICD-10 payloads list none: :data:`ICD10_LANGUAGES`), and turns a 404 on the release root into
the right error: unknown release, or unsupported language (listing the ones it has).

>>> import explorer
>>> icd = explorer.connect("icd", sandbox=True, release="2026-01", cache=False)
>>> icd.release, icd.releases()["release"].tolist()[:2]
('2026-01', ['2026-01', '2025-01'])
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import pandas as pd

from ...errors import ApiError, NotFound
from . import frames as F

__all__ = ["ICD10_LANGUAGES", "ReleaseMixin"]

#: WHO's SupportedClassifications page (icd-api.md §3): the ICD-10 payloads list no languages.
ICD10_LANGUAGES = {"2019": ["en"], "2016": ["en"], "2010": ["en"], "2008": ["en", "fr"]}


class ReleaseMixin:
    """Release and language of :class:`~explorer.apis.icd.IcdSession` (resolved once)."""

    # provided by IcdSession and Session (path, url) and FetchMixin (_get, _pmap)
    provider: str
    language: str
    revision: int
    linearization: str
    redact: Any
    _release: str | None
    _top: dict[str, Any] | None
    _lock: Any

    @property
    def release(self) -> str:
        """The release id in use (``"2026-01"``, ``"2019"`` for ICD-10); resolved on first use.

        >>> import explorer
        >>> icd = explorer.connect("icd", sandbox=True, cache=False, progress=False)
        >>> icd.release
        '2026-01'
        """
        self._ensure()
        assert self._release is not None
        return self._release

    @property
    def _what(self) -> str:
        if self.revision == 10:
            return "ICD-10"
        return "ICD-11 " + ("MMS" if self.linearization == "mms" else self.linearization)

    def _root_segments(self, release: str | None = None) -> tuple[str, ...]:
        if self.revision == 10:
            return ("icd", "release", "10") + ((release,) if release else ())
        if release:
            return ("icd", "release", "11", release, self.linearization)
        return ("icd", "release", "11", self.linearization)

    def _ensure(self) -> dict[str, Any]:
        """Resolve the release and check the language once; returns the release's top level."""
        if self._top is not None:
            return self._top
        with self._lock:
            if self._top is not None:
                return self._top
            if self._release is None:
                versions = self._versions()
                latest = F.string(versions.get("latestRelease")) or next(
                    iter(F.strings(versions.get("release"))), None)
                if not latest:
                    raise ApiError(f"the server lists no {self._what} release",
                                   provider=self.provider, url=self.url(self.path(
                                       *self._root_segments())),
                                   hint="pass release=… explicitly")
                self._release = self._release_of(latest)
            try:
                top = self._get(self.path(*self._root_segments(self._release)), checked=False)
            except NotFound:
                self._diagnose()
                raise
            langs = F.strings(top.get("availableLanguages"))
            if langs and self.language not in langs:
                raise self._language_error(langs)
            self._top = top
            return top

    def _release_of(self, uri: str) -> str:
        lin, release, key = F.parse_uri(uri)
        if self.revision == 10:
            return release or key or uri.rstrip("/").rsplit("/", 1)[-1]
        return release or uri.rstrip("/").rsplit("/", 2)[-2]

    def _versions(self) -> dict[str, Any]:
        """The MultiVersion list of releases (asked in English if the language is refused)."""
        path = self.path(*self._root_segments())
        try:
            return self._get(path, checked=False)
        except NotFound:
            if self.language == "en":
                raise
            return self._get(path, checked=False, language="en")

    def _diagnose(self) -> None:
        """After a 404 on the release root: unknown release, or unsupported language?"""
        versions = self._versions()
        known = [self._release_of(u) for u in F.strings(versions.get("release"))]
        if self._release not in known:
            raise NotFound(f"{self._what} release {self._release!r} does not exist",
                           status=404, provider=self.provider,
                           url=self.url(self.path(*self._root_segments(self._release))),
                           hint=f"use release= one of {', '.join(known)}"
                                " (or omit it for the latest)", redact=self.redact)
        if self.revision == 10:
            langs = ICD10_LANGUAGES.get(self._release or "")
        else:
            top = self._get(self.path(*self._root_segments(self._release)), checked=False,
                            language="en")
            langs = F.strings(top.get("availableLanguages"))
        if langs and self.language not in langs:
            raise self._language_error(langs)

    def _language_error(self, langs: Iterable[str]) -> NotFound:
        langs = sorted(langs)
        return NotFound(
            f"language {self.language!r} is not available in {self._what} release "
            f"{self._release}; it has: {', '.join(langs)}", status=404, provider=self.provider,
            url=self.url(self.path(*self._root_segments(self._release))),
            hint=f"connect with language= one of {', '.join(langs)}", redact=self.redact)

    def releases(self) -> pd.DataFrame:
        """The releases the server lists, newest first.

        Columns: ``release, date, languages, prerelease_languages, latest, title, uri``.

        >>> import explorer
        >>> icd = explorer.connect("icd", sandbox=True, cache=False, progress=False)
        >>> icd.releases()["release"].head(2).tolist()
        ['2026-01', '2025-01']
        """
        versions = self._versions()
        latest = F.string(versions.get("latestRelease"))
        latest = self._release_of(latest) if latest else None
        ids = [self._release_of(u) for u in F.strings(versions.get("release"))]

        def one(release: str) -> dict[str, Any]:
            try:
                top = self._get(self.path(*self._root_segments(release)), checked=False,
                                language="en")
            except NotFound:
                top = {}
            langs = F.strings(top.get("availableLanguages")) or (
                ICD10_LANGUAGES.get(release) if self.revision == 10 else None)
            return {"release": release, "date": F.string(top.get("releaseDate")),
                    "languages": list(langs) if langs else None,
                    "prerelease_languages": F.strings(top.get("prereleaseLanguages")),
                    "latest": release == latest,
                    "title": F.text(top.get("title")) or F.text(versions.get("title")),
                    "uri": F.string(top.get("@id")) or f"http://id.who.int/"
                                                      f"{'/'.join(self._root_segments(release))}"}

        rows = self._pmap(one, ids, None, False, "releases")
        return F.frame(rows, F.RELEASE_COLUMNS)
