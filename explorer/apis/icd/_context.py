"""What one ICD facade speaks, and how it reads payloads: :class:`Context`.

A context is composed of the deployment's shared :class:`~._source.Payloads` and its own
release value: classification (ICD-11 MMS, another linearization, ICD-10), release (resolved on
first use: the latest the server lists unless one was given), language (checked once against
the release's ``availableLanguages``; ICD-10 payloads list none: :data:`ICD10_LANGUAGES`).
A 404 on the release root becomes the right error: unknown release, or unsupported language
(listing the ones it has). :meth:`Context.with_release` gives another facade's context over the
same payloads.

The helpers of ``entities``, ``search`` and ``tree`` read through it:

* ``get(path, params)`` → a JSON object (memory → store → network; anything else is an
  :class:`~explorer.errors.ApiError`);
* ``peek_many(uris)``: the payloads of entity URIs some tier already holds (no network);
* ``fetch_uri(uri)``: an entity payload from a URI found in an answer, mapped onto this
  deployment;
* ``route(*segments, what=...)``: a path whose segments are all percent-encoded; a segment no
  encoding can keep on the route (``..``) is a :class:`~explorer.errors.NotFound` naming it.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Mapping
from functools import lru_cache
from typing import Any

from ...errors import ApiError, ConfigurationError, NotFound
from ...session import Session
from ...session.parallel import Limiter, parallel_map
from . import frames as F
from ._source import Payloads
from .tree import MAX_ENTITIES

__all__ = ["ICD10_LANGUAGES", "Context"]

#: WHO's SupportedClassifications page (icd-api.md §3): the ICD-10 payloads list no languages.
ICD10_LANGUAGES = {"2019": ["en"], "2016": ["en"], "2010": ["en"], "2008": ["en", "fr"]}


@lru_cache(maxsize=1 << 16)
def _path(*segments: str) -> str:
    return Session.path(*segments)


def release_arg(release: Any, provider: str) -> str | None:
    """``release=`` as given (``None``: the latest); one that no URL can hold is refused."""
    if not release:
        return None
    text = str(release).strip()
    if text in ("", ".", "..") or "/" in text:
        raise ConfigurationError(f"invalid release {release!r}", provider=provider,
                                 hint="pass a release id such as release='2025-01', or "
                                      "omit it for the latest")
    return text


class Context:
    """Release, language and payload access of one ICD facade (see the module docstring)."""

    def __init__(self, payloads: Payloads, *, language: str, revision: int,
                 linearization: str, release: str | None, workers: int | None,
                 progress: bool, max_entities: int = MAX_ENTITIES) -> None:
        self.payloads = payloads
        session = payloads.session
        self.provider = session.provider
        self.redact = session.redact
        self.url: Callable[..., str] = session.url
        self.language = language
        self.revision = revision
        self.linearization = linearization
        self.workers = workers
        self.progress = progress
        self.max_entities = max_entities
        #: the adaptive limiter of the deployment's host (shared with every call to it)
        self.limiter: Limiter = session.limiter()
        self._release = release
        self._top: dict[str, Any] | None = None
        self._lock = threading.RLock()

    def with_release(self, *, revision: int, release: str | None) -> Context:
        """The context of another facade (revision, release) over the same payloads."""
        same = revision == self.revision and not release
        ctx = Context(self.payloads, language=self.language, revision=revision,
                      linearization=self.linearization,
                      release=release or (self._release if same else None),
                      workers=self.workers, progress=self.progress,
                      max_entities=self.max_entities)
        ctx._top = self._top if same else None
        return ctx

    # -- release and language ------------------------------------------------------------------
    @property
    def release(self) -> str:
        """The release id in use (resolved on first use)."""
        self.ensure()
        assert self._release is not None
        return self._release

    @property
    def release_id(self) -> str | None:
        """The release id if known yet (no request)."""
        return self._release

    @property
    def what(self) -> str:
        if self.revision == 10:
            return "ICD-10"
        return "ICD-11 " + ("MMS" if self.linearization == "mms" else self.linearization)

    def root_segments(self, release: str | None = None) -> tuple[str, ...]:
        if self.revision == 10:
            return ("icd", "release", "10") + ((release,) if release else ())
        if release:
            return ("icd", "release", "11", release, self.linearization)
        return ("icd", "release", "11", self.linearization)

    def ensure(self) -> dict[str, Any]:
        """Resolve the release and check the language once; returns the release's top level."""
        if self._top is not None:
            return self._top
        with self._lock:
            if self._top is not None:
                return self._top
            if self._release is None:
                versions = self.versions()
                latest = F.string(versions.get("latestRelease")) or next(
                    iter(F.strings(versions.get("release"))), None)
                if not latest:
                    raise ApiError(f"the server lists no {self.what} release",
                                   provider=self.provider,
                                   url=self.url(_path(*self.root_segments())),
                                   hint="pass release=… explicitly")
                self._release = self.release_of(latest)
            try:
                top = self.get(_path(*self.root_segments(self._release)), checked=False)
            except NotFound:
                self._diagnose()
                raise
            langs = F.strings(top.get("availableLanguages"))
            if langs and self.language not in langs:
                raise self._language_error(langs)
            self._top = top
            return top

    def release_of(self, uri: str) -> str:
        lin, release, key = F.parse_uri(uri)
        if self.revision == 10:
            return release or key or uri.rstrip("/").rsplit("/", 1)[-1]
        return release or uri.rstrip("/").rsplit("/", 2)[-2]

    def versions(self) -> dict[str, Any]:
        """The MultiVersion list of releases (asked in English if the language is refused)."""
        path = _path(*self.root_segments())
        try:
            return self.get(path, checked=False)
        except NotFound:
            if self.language == "en":
                raise
            return self.get(path, checked=False, language="en")

    def _diagnose(self) -> None:
        """After a 404 on the release root: unknown release, or unsupported language?"""
        versions = self.versions()
        known = [self.release_of(u) for u in F.strings(versions.get("release"))]
        if self._release not in known:
            raise NotFound(f"{self.what} release {self._release!r} does not exist",
                           status=404, provider=self.provider,
                           url=self.url(_path(*self.root_segments(self._release))),
                           hint=f"use release= one of {', '.join(known)}"
                                " (or omit it for the latest)", redact=self.redact)
        if self.revision == 10:
            langs = ICD10_LANGUAGES.get(self._release or "")
        else:
            top = self.get(_path(*self.root_segments(self._release)), checked=False,
                           language="en")
            langs = F.strings(top.get("availableLanguages"))
        if langs and self.language not in langs:
            raise self._language_error(langs)

    def _language_error(self, langs: Iterable[str]) -> NotFound:
        langs = sorted(langs)
        return NotFound(
            f"language {self.language!r} is not available in {self.what} release "
            f"{self._release}; it has: {', '.join(langs)}", status=404, provider=self.provider,
            url=self.url(_path(*self.root_segments(self._release))),
            hint=f"connect with language= one of {', '.join(langs)}", redact=self.redact)

    # -- paths ---------------------------------------------------------------------------------
    def route(self, *segments: str, what: str) -> str:
        """:meth:`Session.path` of ``segments``; ``.``/``..``/empty segments (which no encoding
        can keep on the route) are :class:`NotFound` naming ``what`` and the release."""
        try:
            return _path(*segments)
        except ValueError:
            raise NotFound(f"{what} not found in {self.what} release {self._release} "
                           f"(language {self.language}): it is not a valid code or id",
                           status=None, provider=self.provider, redact=self.redact,
                           hint="check the code, id or URI (path segments like '..' are "
                                "never sent)") from None

    def entity_path(self, lin: str | None, release: str | None,
                    key: str) -> tuple[str, dict[str, Any]]:
        what = f"id {key!r}"
        if lin == "foundation":
            return self.route("icd", "entity", *key.split("/"), what=what), {
                "releaseId": self.release if self.revision == 11 else None}
        if lin == "icd10" or self.revision == 10:
            return self.route("icd", "release", "10", release or self.release, key,
                              what=f"code {key!r}"), {}
        return self.route("icd", "release", "11", release or self.release,
                          lin or self.linearization, *key.split("/"), what=what), {}

    # -- answers -------------------------------------------------------------------------------
    def get(self, path: str, params: Mapping[str, Any] | None = None, *, checked: bool = True,
            language: str | None = None, cached: bool = True) -> dict[str, Any]:
        """GET → JSON object (memory → store → network); anything else is an ApiError.
        ``cached=False``: the caller has just asked memory and the store (:meth:`peek_many`)."""
        if checked:
            self.ensure()
        params = {k: v for k, v in (params or {}).items() if v is not None} or None
        body = self.payloads.fetch(path, params, language or self.language, cached=cached)
        if not isinstance(body, Mapping):
            error = self._not_an_object(body, path, params)
            del body  # the answer may quote the bearer: keep it out of the raising frame
            raise error
        return body  # type: ignore[return-value]

    def _not_an_object(self, body: Any, path: str, params: Mapping[str, Any] | None
                       ) -> ApiError:
        """The error for an answer that is not a JSON object (its text redacted)."""
        return ApiError(f"expected a JSON object, got {F.kind_of(body)}", status=200,
                        body=body if isinstance(body, (str, int, float)) else None,
                        params=params, provider=self.provider,
                        url=self.url(path), redact=self.redact,
                        hint="check the base URL points at an ICD API")

    def peek_many(self, uris: list[str]) -> list[Any]:
        """The payloads of entity URIs that memory or the store hold (``None`` elsewhere)."""
        requests_: list[tuple[str, dict | None]] = []
        index: list[int] = []
        for i, uri in enumerate(uris):
            lin, release, key = F.parse_uri(uri)
            if not key:
                continue
            path, params = self.entity_path(lin, release, key)
            requests_.append((path, {k: v for k, v in params.items() if v is not None}
                              or None))
            index.append(i)
        out: list[Any] = [None] * len(uris)
        for i, body in zip(index, self.payloads.cached(requests_, self.language), strict=True):
            out[i] = body
        return out

    def fetch_uri(self, uri: str, include: str | None = None, *,
                  cached: bool = True) -> dict[str, Any]:
        """The payload of an entity URI found in a payload (canonical or not)."""
        lin, release, key = F.parse_uri(uri)
        if not key:
            raise ApiError(f"the answer links to {uri!r}, which is not an ICD entity URI",
                           provider=self.provider, redact=self.redact,
                           hint="check the base URL points at an ICD API")
        path, params = self.entity_path(lin, release, key)
        if include:
            params = {**params, "include": include}
        return self.get(path, params, cached=cached)

    def fetch_miss(self, uri: str) -> dict[str, Any]:
        """:meth:`fetch_uri` of a URI that :meth:`peek_many` just found in no tier."""
        return self.fetch_uri(uri, cached=False)

    def pmap(self, fn: Callable[[Any], Any], items: list[Any], workers: int | None,
             progress: bool | None, desc: str) -> list[Any]:
        """``fn`` over ``items`` concurrently: on ``workers`` threads if pinned (here or at
        connect), else paced by the host's adaptive limiter."""
        return parallel_map(fn, items, workers=workers or self.workers, limiter=self.limiter,
                            progress=self.progress if progress is None else progress,
                            desc=desc)
