"""The ICD session: WHO ICD-11 (MMS, foundation) and ICD-10 as pandas DataFrames.

Works the same against WHO's API (OAuth2), WHO's local ICD-API container
(``connect("icd", base_url="http://localhost:8382", auth=None)``) and the sandbox.

>>> import explorer
>>> icd = explorer.connect("icd", sandbox=True, language="en")     # doctest: +SKIP
>>> icd.search("cholera").head()                                   # doctest: +SKIP
>>> icd.code("1A00")["title"]                                      # doctest: +SKIP
'Cholera'
>>> icd.tree("01")                                                 # doctest: +SKIP
>>> icd10 = explorer.connect("icd", sandbox=True, revision=10)     # or icd.icd10()
>>> icd10.code("A00")["title"]                                     # doctest: +SKIP
'Cholera'

Choosing ICD-10: pass ``revision=10`` to :func:`explorer.connect` (release defaults to the
latest ICD-10 release, 2019), or call :meth:`IcdSession.icd10` on an ICD-11 session to get an
ICD-10 view sharing its connection, token and cache. ICD-10 has ``releases``, ``chapters``,
``code``/``codes``, ``entity``, ``children``, ``ancestors``, ``tree`` and ``terms``; search and
autocode exist only for ICD-11 (WHO's API offers them only there).
"""

from __future__ import annotations

import copy
import json
import re
import threading
from collections import OrderedDict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import timedelta
from functools import lru_cache
from typing import Any

import pandas as pd
import requests
from requests.structures import CaseInsensitiveDict

from ...errors import ApiError, ConfigurationError, NotFound
from ...session import Session
from ...session.cache import DEFAULT_EXPIRE, cached_transport
from ...session.parallel import DEFAULT_WORKERS, parallel_map
from . import frames as F
from .tree import tree_frame, walk

__all__ = ["IcdSession"]

_ID = re.compile(r"\d{4,}(?:/(?:other|unspecified))?")
_LANGUAGE = re.compile(r"[A-Za-z]{2,3}(?:-[A-Za-z0-9]{2,8})*")
#: WHO's SupportedClassifications page (icd-api.md §3): the ICD-10 payloads list no languages.
ICD10_LANGUAGES = {"2019": ["en"], "2016": ["en"], "2010": ["en"], "2008": ["en", "fr"]}
_CODEINFO_KEYS = {"@context", "@id", "code", "stemId", "stemCode", "simplifiedCode",
                  "simplifiedStemCode"}


class _Memo:
    """A bounded, thread-safe LRU of decoded answers (the session's first cache tier)."""

    def __init__(self, size: int) -> None:
        self.size = max(0, int(size))
        self._data: OrderedDict[tuple, Any] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: tuple) -> Any:
        if not self.size:
            return None
        with self._lock:
            value = self._data.get(key)
            if value is not None:
                self._data.move_to_end(key)
            return value

    def put(self, key: tuple, value: Any) -> None:
        if not self.size or value is None:
            return
        with self._lock:
            self._data[key] = value
            self._data.move_to_end(key)
            while len(self._data) > self.size:
                self._data.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._data.clear()


@dataclass(frozen=True)
class _Context:
    depth: int | None
    chapter: str | None
    parent_code: str | None


class IcdSession(Session):
    """A session to the WHO ICD API (or WHO's local container, or the sandbox).

    Options (keyword arguments of :func:`explorer.connect`):

    * ``language`` (default ``"en"``) goes out as ``Accept-Language``; a language the release
      does not have raises :class:`~explorer.errors.NotFound` listing the ones it has;
    * ``release`` (default: the latest the server lists, resolved on first use);
    * ``revision`` 11 (default) or 10; ``linearization`` (default ``"mms"``);
    * ``cache``: True (SQLite file under the user cache directory; in memory for the sandbox),
      a file path, ``"memory"``, or False; ``cache_expire`` (default 30 days);
    * ``memory_cache``: how many decoded answers stay in memory besides the disk cache
      (default 10,000; 0 = none; off when ``cache=False``);
    * ``workers`` (default 8) and ``progress`` (default True) for concurrent calls.

    >>> icd = explorer.connect("icd", sandbox=True, language="en")   # doctest: +SKIP
    >>> icd.release                                                   # doctest: +SKIP
    '2026-01'
    """

    def __init__(
        self,
        profile: Any,
        *,
        language: str = "en",
        release: str | None = None,
        revision: int | str = 11,
        linearization: str = "mms",
        cache: Any = True,
        cache_expire: timedelta | int | None = DEFAULT_EXPIRE,
        workers: int = DEFAULT_WORKERS,
        progress: bool = True,
        memory_cache: int = 10_000,
        **kwargs: Any,
    ) -> None:
        super().__init__(profile, **kwargs)
        if not isinstance(language, str) or not _LANGUAGE.fullmatch(language.strip()):
            raise ConfigurationError(f"invalid language {language!r}", provider=self.provider,
                                     hint="pass a language code such as language='en'")
        if str(revision) not in ("10", "11"):
            raise ConfigurationError(f"unknown ICD revision {revision!r}",
                                     provider=self.provider, hint="pass revision=11 or 10")
        if workers < 1:
            raise ConfigurationError("workers must be >= 1", provider=self.provider,
                                     hint="pass workers=8 (the default) or another count")
        self.language = language.strip()
        self.revision = int(revision)
        self.linearization = linearization
        self.workers = workers
        self.progress = progress
        self.headers["Accept-Language"] = self.language
        self._release = str(release).strip() if release else None
        self._top: dict[str, Any] | None = None
        self._lock = threading.RLock()
        if cache is True and self.deployment == "sandbox":
            cache = "memory"  # sandbox data never lands in the user's cache
        self.cache = cache
        self.http = cached_transport(self.http, cache, namespace=f"{self.deployment}|"
                                     f"{self.base_url}", expire_after=cache_expire)
        on = cache is not False and cache is not None
        self._memo = _Memo(memory_cache if on else 0)

    # -- release, language ------------------------------------------------------------------
    @property
    def release(self) -> str:
        """The release id in use (``"2026-01"``, ``"2019"`` for ICD-10); resolved on first use."""
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
                latest = versions.get("latestRelease") or (versions.get("release") or [None])[0]
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
            langs = top.get("availableLanguages")
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
        known = [self._release_of(u) for u in versions.get("release") or ()]
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
            langs = top.get("availableLanguages")
        if langs and self.language not in langs:
            raise self._language_error(langs)

    def _language_error(self, langs: Iterable[str]) -> NotFound:
        langs = sorted(langs)
        return NotFound(
            f"language {self.language!r} is not available in {self._what} release "
            f"{self._release}; it has: {', '.join(langs)}", status=404, provider=self.provider,
            url=self.url(self.path(*self._root_segments(self._release))),
            hint=f"connect with language= one of {', '.join(langs)}", redact=self.redact)

    # -- HTTP ---------------------------------------------------------------------------------
    def _get(self, path: str, params: Mapping[str, Any] | None = None, *, checked: bool = True,
             language: str | None = None) -> Any:
        """GET → JSON: from memory, else the disk cache (no token needed), else the network."""
        if checked:
            self._ensure()
        params = {k: v for k, v in (params or {}).items() if v is not None} or None
        key = self._memo_key(path, params, language)
        body = self._memo.get(key)
        if body is not None:
            return body
        body = self._from_disk(path, params, language)
        if body is None:
            extra = {"Accept-Language": language} if language else {}
            resp = self.request("GET", path, params=params, headers=extra)
            body = self.decode(resp, params=params)
        self._memo.put(key, body)
        return body

    def _from_disk(self, path: str, params: Mapping[str, Any] | None,
                   language: str | None) -> Any:
        """A fresh 200 answer from the on-disk cache, read directly (no token, no request
        machinery: the same key requests-cache computes), or None."""
        cache = getattr(self.http, "cache", None)
        if cache is None:
            return None
        prepared = requests.PreparedRequest()
        prepared.prepare_method("GET")
        prepared.prepare_url(self.url(path), params)
        headers = CaseInsensitiveDict(self.http.headers)
        headers.update(self.headers)
        if language:
            headers["Accept-Language"] = language
        prepared.headers = headers
        try:
            cached = cache.get_response(cache.create_key(prepared, verify=self.http.verify))
        except Exception:  # a damaged entry is a miss; the network answer will replace it
            return None
        if cached is None or cached.is_expired or cached.status_code != 200:
            return None
        try:
            return json.loads(cached.content)
        except ValueError:
            return None

    def _memo_key(self, path: str, params: Mapping[str, Any] | None,
                  language: str | None) -> tuple:
        return (path, tuple(sorted(params.items())) if params else (),
                language or self.language)

    def _peek(self, uri: str) -> Any:
        """The payload of an entity URI if a cache tier has it (memory, disk), else None."""
        lin, release, key = F.parse_uri(uri)
        if not key:
            return None
        path, params = self._entity_path(lin, release, key)
        params = {k: v for k, v in params.items() if v is not None} or None
        memo_key = self._memo_key(path, params, None)
        body = self._memo.get(memo_key)
        if body is None:
            body = self._from_disk(path, params, None)
            if body is not None:
                self._memo.put(memo_key, body)
        return body

    def _entity_path(self, lin: str | None, release: str | None, key: str) -> tuple[str, dict]:
        if lin == "foundation":
            return _path("icd", "entity", *key.split("/")), {"releaseId": self.release
                                                              if self.revision == 11 else None}
        if lin == "icd10" or self.revision == 10:
            return _path("icd", "release", "10", release or self.release, key), {}
        lin = lin or self.linearization
        return _path("icd", "release", "11", release or self.release, lin, *key.split("/")), {}

    def _fetch_uri(self, uri: str, include: str | None = None) -> dict[str, Any]:
        """The payload of an entity URI found in a payload (canonical or not)."""
        lin, release, key = F.parse_uri(uri)
        if not key:
            raise ConfigurationError(f"not an ICD entity URI: {uri!r}", provider=self.provider,
                                     hint="pass a code, an id or an entity URI")
        path, params = self._entity_path(lin, release, key)
        if include:
            params = {**params, "include": include}
        return self._get(path, params)

    def _not_found(self, exc: NotFound, what: str, hint: str) -> NotFound:
        return NotFound(f"{what} not found in {self._what} release {self._release} "
                        f"(language {self.language})", status=404, provider=self.provider,
                        url=exc.url, hint=hint, redact=self.redact)

    # -- resolving what the user names ----------------------------------------------------------
    def _kind(self, ref: str) -> str:
        if not isinstance(ref, str) or not ref.strip():
            raise ConfigurationError(f"expected a code, id or URI, got {ref!r}",
                                     provider=self.provider, hint="pass e.g. '1A00'")
        if "://" in ref:
            return "uri"
        if self.revision == 11 and _ID.fullmatch(ref.strip()):
            return "id"
        return "code"

    def _codeinfo(self, code: str) -> dict[str, Any]:
        code = code.strip()
        self._ensure()  # its errors (release, language) are not this code's
        try:
            return self._get(self.path(*self._root_segments(self.release), "codeinfo", code))
        except NotFound as exc:
            raise self._not_found(
                exc, f"code {code!r}",
                "check the code; blocks (ranges like 1A00-1A0Z) have no code: use "
                "entity(id) or tree(); search() finds codes from words") from None

    def _resolve(self, ref: str, include: str | None = None) -> dict[str, Any]:
        """The entity payload for a code, an id or a URI."""
        kind = self._kind(ref)
        ref = ref.strip()
        self._ensure()
        try:
            if kind == "uri":
                return self._fetch_uri(ref, include)
            if kind == "id":
                return self._fetch_uri(f"http://id.who.int/icd/release/11/{self.release}/"
                                       f"{self.linearization}/{ref}", include)
            if self.revision == 10:
                return self._fetch_uri(f"http://id.who.int/icd/release/10/{self.release}/{ref}")
        except NotFound as exc:
            raise self._not_found(exc, f"{'code' if self.revision == 10 else kind} {ref!r}",
                                  "check the code, id or URI") from None
        info = self._codeinfo(ref)
        return self._fetch_uri(info["stemId"], include)

    def _context(self, payload: Mapping[str, Any]) -> _Context:
        """Depth (chapter = 1), chapter code and parent code of an entity."""
        lin = F.parse_uri(payload.get("@id"))[0]
        if lin == "foundation":
            return _Context(None, None, None)
        if payload.get("classKind") == "chapter":
            return _Context(1, payload.get("code") or None, None)
        chain = self._ancestor_payloads(payload)
        if not chain:
            return _Context(None, None, None)
        top = chain[0]
        chapter = top.get("code") if top.get("classKind") == "chapter" else None
        depth = len(chain) + 1 if top.get("classKind") == "chapter" else None
        return _Context(depth, chapter or None, chain[-1].get("code") or None)

    def _ancestor_payloads(self, payload: Mapping[str, Any]) -> list[dict[str, Any]]:
        """The ancestors' payloads, chapter first, direct parent last."""
        lin = F.parse_uri(payload.get("@id"))[0]
        ancestors = payload.get("ancestor")
        if ancestors is None and lin not in ("icd10", "foundation") and payload.get("parent"):
            ancestors = self._fetch_uri(payload["@id"], include="ancestor").get("ancestor")
        if ancestors is not None:
            uris = [a for a in ancestors if F.uri_id(a)]
            got = parallel_map(self._fetch_uri, uris, workers=self.workers, progress=False)
            by_id = {F.uri_id(p.get("@id")): p for p in got}
            chain, seen = [], set()
            nxt = F.uri_id((payload.get("parent") or [None])[0])
            while nxt in by_id and nxt not in seen:
                seen.add(nxt)
                chain.append(by_id[nxt])
                nxt = F.uri_id((by_id[nxt].get("parent") or [None])[0])
            if len(chain) == len(by_id):
                return chain[::-1]
        # no (usable) ancestor list: walk up the parents
        chain, seen = [], set()
        current: Mapping[str, Any] = payload
        while True:
            parents = [p for p in current.get("parent") or () if F.uri_id(p)]
            if not parents or parents[0] in seen or len(chain) > 50:
                break
            seen.add(parents[0])
            current = self._fetch_uri(parents[0])
            chain.append(current)
        return chain[::-1]

    def _record(self, payload: Mapping[str, Any], ctx: _Context | None = None,
                **extra: Any) -> dict[str, Any]:
        ctx = ctx or self._context(payload)
        return F.entity_record(payload, language=self.language, depth=ctx.depth,
                               chapter=ctx.chapter, parent_code=ctx.parent_code,
                               release=self._release, **extra)

    def _pmap(self, fn: Any, items: list[Any], workers: int | None, progress: bool | None,
              desc: str) -> list[Any]:
        return parallel_map(fn, items, workers=workers or self.workers,
                            progress=self.progress if progress is None else progress, desc=desc)

    def _icd11_only(self, what: str) -> None:
        if self.revision != 11:
            raise ConfigurationError(f"{what} exists only for ICD-11 in WHO's API",
                                     provider=self.provider,
                                     hint="use an ICD-11 session (revision=11)")

    # -- public API -------------------------------------------------------------------------------
    def releases(self) -> pd.DataFrame:
        """The releases the server lists, newest first.

        Columns: ``release, date, languages, prerelease_languages, latest, title, uri``.

        >>> icd.releases()                            # doctest: +SKIP
        """
        versions = self._versions()
        latest = self._release_of(versions["latestRelease"]) \
            if versions.get("latestRelease") else None
        ids = [self._release_of(u) for u in versions.get("release") or ()]

        def one(release: str) -> dict[str, Any]:
            try:
                top = self._get(self.path(*self._root_segments(release)), checked=False,
                                language="en")
            except NotFound:
                top = {}
            langs = top.get("availableLanguages") or (
                ICD10_LANGUAGES.get(release) if self.revision == 10 else None)
            return {"release": release, "date": top.get("releaseDate"),
                    "languages": list(langs) if langs else None,
                    "prerelease_languages": list(top.get("prereleaseLanguages") or []),
                    "latest": release == latest,
                    "title": F.text(top.get("title")) or F.text(versions.get("title")),
                    "uri": top.get("@id") or f"http://id.who.int/"
                                             f"{'/'.join(self._root_segments(release))}"}

        rows = self._pmap(one, ids, None, False, "releases")
        return F.frame(rows, F.RELEASE_COLUMNS)

    def chapters(self, *, workers: int | None = None,
                 progress: bool | None = None) -> pd.DataFrame:
        """The chapters of the release (entity columns, ``depth`` 1).

        >>> icd.chapters()[["code", "title"]]         # doctest: +SKIP
        """
        top = self._ensure()
        payloads = self._pmap(self._fetch_uri, list(top.get("child") or ()), workers, progress,
                              "chapters")
        return F.entity_frame([self._record(p, _Context(1, p.get("code") or None, None))
                               for p in payloads])

    def entity(self, ref: str, *, foundation: bool | None = None) -> pd.Series:
        """One entity by id (``"257068234"``, ``"1646490591/other"``), URI or code.

        A bare id is looked up in the linearization (MMS) first and in the foundation when the
        MMS does not have it; ``foundation=True`` asks the foundation directly. Foundation
        entities keep every parent (``parent_ids``).

        >>> icd.entity("257068234")["code"]          # doctest: +SKIP
        '1A00'
        """
        kind = self._kind(ref)
        ref = ref.strip()
        if self.revision == 11 and kind == "id" and foundation is not False:
            key = ref.split("/")[0] if foundation else ref
            fnd_uri = f"http://id.who.int/icd/entity/{key}"
            if foundation:
                payload = self._foundation(fnd_uri, ref)
            else:
                try:
                    payload = self._resolve(ref, include="ancestor")
                except NotFound:
                    if "/" in ref:
                        raise
                    payload = self._foundation(fnd_uri, ref)
        else:
            payload = self._resolve(ref, include="ancestor" if self.revision == 11 else None)
        return pd.Series(self._record(payload), index=F.ENTITY_COLUMNS, name=ref)

    def _foundation(self, uri: str, ref: str) -> dict[str, Any]:
        self._ensure()
        try:
            return self._fetch_uri(uri)
        except NotFound as exc:
            raise NotFound(f"id {ref!r} not found in ICD-11 MMS nor in the foundation, "
                           f"release {self._release} (language {self.language})", status=404,
                           provider=self.provider, url=exc.url,
                           hint="check the id; search() finds entities from words",
                           redact=self.redact) from None

    def code(self, code: str) -> pd.Series:
        """One code as a Series (:data:`~explorer.apis.icd.frames.CODE_COLUMNS`).

        Residual codes (``1F0Y``) and postcoordinated clusters (``2C25.Z&XK8G``) work; for a
        cluster the row describes the stem entity, ``code`` is the whole cluster, ``stem_code``
        the stem and ``postcoordination`` maps each axis to its codes.

        >>> icd.code("1A00")["title"]                  # doctest: +SKIP
        'Cholera'
        """
        return pd.Series(self._code_row(code), index=F.CODE_COLUMNS, name=code)

    def _code_row(self, code: str) -> dict[str, Any]:
        if not isinstance(code, str) or not code.strip():
            raise ConfigurationError(f"expected a code, got {code!r}", provider=self.provider,
                                     hint="pass e.g. '1A00'")
        code = code.strip()
        if self.revision == 10:
            payload = self._resolve(code)
            row = self._record(payload)
            return {"query": code, **row, "stem_code": row["code"], "postcoordination": {}}
        info = self._codeinfo(code)
        payload = self._fetch_uri(info["stemId"], include="ancestor")
        row = self._record(payload)
        axes = {k: (list(v) if isinstance(v, list) else v) for k, v in info.items()
                if k not in _CODEINFO_KEYS}
        stem = info.get("stemCode") or row["code"]
        return {"query": code, **row, "code": info.get("code") or code, "stem_code": stem,
                "postcoordination": axes}

    def codes(self, codes: Iterable[str], *, errors: str = "raise", workers: int | None = None,
              progress: bool | None = None) -> pd.DataFrame:
        """Many codes, fetched concurrently; one row per code, in the order given.

        ``errors="ignore"`` gives an unknown code a row with only ``query`` filled instead of
        raising :class:`~explorer.errors.NotFound`.

        >>> icd.codes(["1A00", "8B20"])[["code", "title"]]    # doctest: +SKIP
        """
        if isinstance(codes, str):
            codes = [codes]
        if errors not in ("raise", "ignore"):
            raise ValueError("errors must be 'raise' or 'ignore'")
        items = list(codes)

        def one(code: str) -> dict[str, Any]:
            try:
                return self._code_row(code)
            except NotFound:
                if errors == "raise":
                    raise
                return {"query": code}

        self._ensure()
        return F.frame(self._pmap(one, items, workers, progress, "codes"), F.CODE_COLUMNS)

    def children(self, ref: str, *, workers: int | None = None,
                 progress: bool | None = None) -> pd.DataFrame:
        """The direct children of a code, id or URI (entity columns), in WHO's order.

        >>> icd.children("1A0")                      # doctest: +SKIP
        """
        payload = self._resolve(ref)
        ctx = self._context(payload)
        kids = self._pmap(self._fetch_uri, list(payload.get("child") or ()), workers, progress,
                          "children")
        depth = ctx.depth + 1 if ctx.depth is not None else None
        child_ctx = _Context(depth, ctx.chapter, payload.get("code") or None)
        key = F.uri_id(payload.get("@id"))
        return F.entity_frame([self._record(p, child_ctx, parent_id=key) for p in kids])

    def ancestors(self, ref: str) -> pd.DataFrame:
        """The ancestors of a code, id or URI: chapter first, direct parent last.

        >>> icd.ancestors("1A00")["code"].tolist()    # doctest: +SKIP
        ['01', None, None]
        """
        payload = self._resolve(ref, include="ancestor" if self.revision == 11 else None)
        chain = self._ancestor_payloads(payload)
        rows = []
        top_is_chapter = bool(chain) and chain[0].get("classKind") == "chapter"
        chapter = chain[0].get("code") if top_is_chapter else None
        parent_code = None
        for i, p in enumerate(chain):
            rows.append(self._record(p, _Context(i + 1 if top_is_chapter else None,
                                                 chapter or None, parent_code)))
            parent_code = p.get("code") or None
        return F.entity_frame(rows)

    def tree(self, ref: str, *, max_depth: int | None = None, workers: int | None = None,
             progress: bool | None = None) -> pd.DataFrame:
        """The whole subtree of a chapter, block or category (root included), in tree order.

        Fetched breadth-first, each level concurrently on ``workers`` threads; every answer is
        cached, so a repeated call makes no request and an interrupted one resumes.
        ``max_depth`` limits the levels below the root.

        >>> icd.tree("01")                            # doctest: +SKIP
        """
        root = self._resolve(ref)
        ctx = self._context(root)
        payloads = walk(self._fetch_uri, root, peek=self._peek, workers=workers or self.workers,
                        progress=self.progress if progress is None else progress,
                        max_depth=max_depth, desc=f"tree {ref}")
        return tree_frame(payloads, language=self.language, root_depth=ctx.depth,
                          root_chapter=ctx.chapter, root_parent_code=ctx.parent_code)

    def terms(self, ref: str) -> pd.DataFrame:
        """Every term of an entity as long rows: ``kind`` (``synonym``, ``narrower_term``,
        ``inclusion``, ``exclusion``, ``index_term``, ``child_elsewhere``,
        ``fully_specified_name``), ``label``, ``reference``…

        >>> icd.terms("1A00").query("kind == 'inclusion'")   # doctest: +SKIP
        """
        payload = self._resolve(ref)
        return F.frame(F.term_rows(payload, self.language), F.TERM_COLUMNS)

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

        >>> icd.search("cholera")[["code", "title", "score"]]    # doctest: +SKIP
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
        if not isinstance(payload, Mapping):
            raise ApiError("unexpected search answer", provider=self.provider,
                           url=self.url(path), body=payload, params=params, redact=self.redact)
        if payload.get("error"):
            raise ApiError(f"WHO's search failed: {payload.get('errorMessage') or 'no message'}",
                           status=200, body=payload, params=params, provider=self.provider,
                           url=self.url(path), redact=self.redact,
                           hint="simplify the query (WHO's search refused it)")
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
            elif _ID.fullmatch(ref):
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

        >>> icd.autocode(["cerebrovascular accident", "cholera"])   # doctest: +SKIP
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
            uri = (payload or {}).get("linearizationURI")
            if uri:
                try:
                    title = F.text(self._fetch_uri(uri).get("title"), self.language)
                except NotFound:
                    title = None
            return F.autocode_record(text_, payload, title)

        return F.frame(self._pmap(one, items, workers, progress, "autocode"),
                       F.AUTOCODE_COLUMNS)

    def icd10(self, release: str | None = None) -> IcdSession:
        """An ICD-10 view of this session (same connection, token and cache).

        >>> icd.icd10().code("A00")["title"]           # doctest: +SKIP
        'Cholera'
        """
        return self._view(revision=10, release=release)

    def icd11(self, release: str | None = None) -> IcdSession:
        """An ICD-11 MMS view of this session (same connection, token and cache)."""
        return self._view(revision=11, release=release)

    def _view(self, *, revision: int, release: str | None) -> IcdSession:
        view = copy.copy(self)
        view.headers = dict(self.headers)
        view.revision = revision
        view._release = release if release else (
            self._release if revision == self.revision else None)
        view._top = None if (revision != self.revision or release) else self._top
        view._lock = threading.RLock()
        return view

    # -- display ------------------------------------------------------------------------------
    def status(self) -> dict[str, Any]:
        out = super().status()
        out["classification"] = self._what
        out["release"] = self._release or "latest (resolved on first use)"
        out["language"] = self.language
        cache = self.cache
        out["cache"] = "off" if cache is False or cache is None else (
            "on disk" if cache is True else str(cache))
        return out


@lru_cache(maxsize=1 << 16)
def _path(*segments: str) -> str:
    return Session.path(*segments)


def _bool(value: bool) -> str:
    return "true" if value else "false"


def _join(values: Iterable[str] | str | None, sep: str) -> str | None:
    if values is None:
        return None
    if isinstance(values, str):
        return values
    values = [str(v) for v in values]
    return sep.join(values) if values else None
