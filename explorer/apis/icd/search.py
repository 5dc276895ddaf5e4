"""Words → codes: ``search`` and ``autocode`` of :class:`~explorer.apis.icd.IcdSession`
(ICD-11 only: WHO's API has them only there).

``search`` returns WHO's ranked matches (:data:`~explorer.apis.icd.frames.SEARCH_COLUMNS`);
an answer WHO flags with ``error: true`` is an :class:`~explorer.errors.ApiError` with WHO's
message. ``autocode`` gives the best code of each diagnostic text, texts fetched concurrently.

>>> import explorer
>>> icd = explorer.connect("icd", sandbox=True, cache=False, progress=False)
>>> icd.search("cholera")[["code", "title"]].iloc[0].tolist()
['1A00', 'Cholera']
>>> icd.autocode(["cholera"])["code"].tolist()
['1A00']
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import pandas as pd

from ...errors import ApiError, ConfigurationError, NotFound
from . import frames as F
from .entities import ID

__all__ = ["SearchMixin"]


class SearchMixin:
    """Search and autocode (part of :class:`~explorer.apis.icd.IcdSession`)."""

    # provided by IcdSession, Session, ReleaseMixin, FetchMixin and EntitiesMixin
    provider: str
    language: str
    revision: int
    linearization: str
    redact: Any

    def _icd11_only(self, what: str) -> None:
        if self.revision != 11:
            raise ConfigurationError(f"{what} exists only for ICD-11 in WHO's API",
                                     provider=self.provider,
                                     hint="use an ICD-11 session (revision=11)")

    def search(self, q: str, *, chapters: Iterable[str] | str | None = None,
               subtrees: Iterable[str] | str | None = None, flexible: bool = False,
               medical_coding: bool = True, properties: Iterable[str] | str | None = None,
               foundation: bool = False) -> pd.DataFrame:
        """Search the release (or the foundation), best first (:data:`SEARCH_COLUMNS`).

        ``chapters`` filters by chapter codes (``["01", "21"]``), ``subtrees`` by entity ids or
        URIs; ``flexible`` turns on WHO's flexisearch; ``properties`` (with
        ``medical_coding=False``) picks what is searched (``Title``, ``Definition``…).
        ``q`` may end a word with ``%`` (wildcard). ``df.attrs["result_chopped"]`` tells when WHO
        cut the list.

        >>> import explorer
        >>> icd = explorer.connect("icd", sandbox=True, cache=False, progress=False)
        >>> icd.search("cholera")[["code", "title", "score"]].values.tolist()
        [['1A00', 'Cholera', 1.0]]
        """
        self._icd11_only("search")
        if not isinstance(q, str) or not q.strip():
            raise ConfigurationError("empty search text", provider=self.provider,
                                     hint="pass words to search, e.g. search('cholera')")
        params: dict[str, Any] = {
            "q": q.strip(),
            "chapterFilter": _join(chapters, ";"),
            "subtreesFilter": _join(self._uris(subtrees), ","),
            "useFlexisearch": _bool(flexible),
            "flatResults": "true",
            "highlightingEnabled": "true",
        }
        if foundation:
            path = self.path("icd", "entity", "search")
            params["releaseId"] = self.release
        else:
            path = self.path(*self._root_segments(self.release), "search")
            params["medicalCodingMode"] = _bool(medical_coding)
        if properties:
            params["propertiesToBeSearched"] = _join(properties, ",")
        payload = self._get(path, params)
        if payload.get("error"):
            words = F.string(payload.get("errorMessage")) or "no message"
            raise ApiError(f"WHO's search failed: {words}", status=200, body=payload,
                           params=params, provider=self.provider, url=self.url(path),
                           redact=self.redact, hint="simplify the query (WHO's search refused it)")
        out = F.search_frame(payload)
        out.attrs["result_chopped"] = bool(payload.get("resultChopped"))
        out.attrs["words"] = payload.get("words")
        return out

    def _uris(self, refs: Iterable[str] | str | None) -> list[str] | None:
        if refs is None:
            return None
        if isinstance(refs, str):
            refs = [refs]
        out = []
        for ref in refs:
            if "://" in ref:
                out.append(ref)
            elif ID.fullmatch(ref):
                out.append(f"http://id.who.int/icd/release/11/{self.release}/"
                           f"{self.linearization}/{ref}")
            else:
                out.append(self._resolve(ref)["@id"])
        return out

    def autocode(self, texts: Iterable[str] | str, *, threshold: float | None = None,
                 subtrees: Iterable[str] | str | None = None, workers: int | None = None,
                 progress: bool | None = None) -> pd.DataFrame:
        """The best code for each diagnostic text, one row per text (:data:`AUTOCODE_COLUMNS`).

        A text without a match (below WHO's threshold, or ``threshold=``) has no ``code``.

        >>> import explorer
        >>> icd = explorer.connect("icd", sandbox=True, cache=False, progress=False)
        >>> icd.autocode(["cerebrovascular accident", "cholera"])["code"].tolist()
        ['8B20', '1A00']
        """
        self._icd11_only("autocode")
        items = [texts] if isinstance(texts, str) else list(texts)
        path = self.path(*self._root_segments(self.release), "autocode")
        subtree = _join(self._uris(subtrees), ",")

        def one(text_: str) -> dict[str, Any]:
            if not isinstance(text_, str) or not text_.strip():
                return F.autocode_record(text_, None)
            payload = self._get(path, {"searchText": text_, "matchThreshold": threshold,
                                       "subtreesFilter": subtree})
            title = None
            uri = F.string(payload.get("linearizationURI"))
            if uri and F.uri_id(uri):
                try:
                    title = F.text(self._fetch_uri(uri).get("title"), self.language)
                except NotFound:
                    title = None
            return F.autocode_record(text_, payload, title)

        return F.frame(self._pmap(one, items, workers, progress, "autocode"),
                       F.AUTOCODE_COLUMNS)


def _bool(value: bool) -> str:
    return "true" if value else "false"


def _join(values: Iterable[str] | str | None, sep: str) -> str | None:
    if values is None:
        return None
    if isinstance(values, str):
        return values
    values = [str(v) for v in values]
    return sep.join(values) if values else None
