"""Entities by what the user names them: ``entity``, ``code``/``codes``, ``chapters``,
``children``, ``ancestors``, ``tree`` and ``terms`` of :class:`~explorer.apis.icd.IcdSession`.

A reference is a code (``"1A00"``, ``"2C25.Z&XK8G"``), an id (``"257068234"``,
``"1646490591/other"``) or a URI; :meth:`EntitiesMixin._resolve` turns it into a payload (codes
through ``codeinfo``), and an unknown one into :class:`~explorer.errors.NotFound` naming it and
the release. Rows carry ``depth``, ``chapter`` and ``parent_code``, computed from the ancestors.

>>> import explorer
>>> icd = explorer.connect("icd", sandbox=True, cache=False, progress=False)
>>> icd.code("1A00")["title"], len(icd.tree("01"))
('Cholera', 137)
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import pandas as pd

from ...errors import ApiError, ConfigurationError, NotFound
from ...session.parallel import parallel_map
from . import frames as F
from .tree import tree_frame, walk

__all__ = ["EntitiesMixin"]

#: an MMS id, possibly a residual (``/other``, ``/unspecified``)
ID = re.compile(r"\d{4,}(?:/(?:other|unspecified))?")
_CODEINFO_KEYS = {"@context", "@id", "code", "stemId", "stemCode", "simplifiedCode",
                  "simplifiedStemCode"}


@dataclass(frozen=True)
class _Context:
    depth: int | None
    chapter: str | None
    parent_code: str | None


class EntitiesMixin:
    """Codes, ids, URIs → entity rows and frames (part of :class:`~explorer.apis.icd.IcdSession`).
    """

    # provided by IcdSession, Session, ReleaseMixin and FetchMixin
    provider: str
    language: str
    revision: int
    linearization: str
    workers: int
    progress: bool
    redact: Any
    _release: str | None

    # -- resolving what the user names ----------------------------------------------------------
    def _not_found(self, exc: NotFound, what: str, hint: str) -> NotFound:
        return NotFound(f"{what} not found in {self._what} release {self._release} "
                        f"(language {self.language})", status=404, provider=self.provider,
                        url=exc.url, hint=hint, redact=self.redact)

    def _kind(self, ref: str) -> str:
        if not isinstance(ref, str) or not ref.strip():
            raise ConfigurationError(f"expected a code, id or URI, got {ref!r}",
                                     provider=self.provider, hint="pass e.g. '1A00'")
        if "://" in ref:
            return "uri"
        if self.revision == 11 and ID.fullmatch(ref.strip()):
            return "id"
        return "code"

    def _codeinfo(self, code: str) -> dict[str, Any]:
        code = code.strip()
        self._ensure()  # its errors (release, language) are not this code's
        hint = ("check the code; blocks (ranges like 1A00-1A0Z) have no code: use entity(id) "
                "or tree(); search() finds codes from words")
        path = self._route(*self._root_segments(self.release), "codeinfo", code,
                           what=f"code {code!r}")
        try:
            info = self._get(path)
        except NotFound as exc:
            raise self._not_found(exc, f"code {code!r}", hint) from None
        if not F.string(info.get("stemId")):
            raise ApiError(f"WHO's codeinfo for {code!r} has no stemId", status=200, body=info,
                           provider=self.provider, url=self.url(path), redact=self.redact,
                           hint="check the base URL points at an ICD API")
        return info

    def _resolve(self, ref: str, include: str | None = None) -> dict[str, Any]:
        """The entity payload for a code, an id or a URI."""
        kind = self._kind(ref)
        ref = ref.strip()
        self._ensure()
        if kind == "uri" and not F.uri_id(ref):
            raise ConfigurationError(f"not an ICD entity URI: {ref!r}", provider=self.provider,
                                     hint="pass a code, an id or an entity URI")
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
            return _Context(1, F.string(payload.get("code")), None)
        chain = self._ancestor_payloads(payload)
        if not chain:
            return _Context(None, None, None)
        top = chain[0]
        chapter = F.string(top.get("code")) if top.get("classKind") == "chapter" else None
        depth = len(chain) + 1 if top.get("classKind") == "chapter" else None
        return _Context(depth, chapter, F.string(chain[-1].get("code")))

    def _ancestor_payloads(self, payload: Mapping[str, Any]) -> list[dict[str, Any]]:
        """The ancestors' payloads, chapter first, direct parent last."""
        lin = F.parse_uri(payload.get("@id"))[0]
        parents = F.strings(payload.get("parent"))
        raw = payload.get("ancestor")
        if raw is None and lin not in ("icd10", "foundation") and parents:
            raw = self._fetch_uri(payload.get("@id"), include="ancestor").get("ancestor")
        ancestors = F.strings(raw) if raw is not None else None
        if ancestors is not None:
            uris = [a for a in ancestors if F.uri_id(a)]
            got = parallel_map(self._fetch_uri, uris, workers=self.workers, progress=False)
            by_id = {F.uri_id(p.get("@id")): p for p in got}
            chain, seen = [], set()
            nxt = F.uri_id(next(iter(parents), None))
            while nxt in by_id and nxt not in seen:
                seen.add(nxt)
                chain.append(by_id[nxt])
                nxt = F.uri_id(next(iter(F.strings(by_id[nxt].get("parent"))), None))
            if len(chain) == len(by_id):
                return chain[::-1]
        # no (usable) ancestor list: walk up the parents
        chain, seen = [], set()
        current: Mapping[str, Any] = payload
        while True:
            up = [p for p in F.strings(current.get("parent")) if F.uri_id(p)]
            if not up or up[0] in seen or len(chain) > 50:
                break
            seen.add(up[0])
            current = self._fetch_uri(up[0])
            chain.append(current)
        return chain[::-1]

    def _record(self, payload: Mapping[str, Any], ctx: _Context | None = None,
                **extra: Any) -> dict[str, Any]:
        ctx = ctx or self._context(payload)
        return F.entity_record(payload, language=self.language, depth=ctx.depth,
                               chapter=ctx.chapter, parent_code=ctx.parent_code,
                               release=self._release, **extra)

    # -- public API -------------------------------------------------------------------------------
    def chapters(self, *, workers: int | None = None,
                 progress: bool | None = None) -> pd.DataFrame:
        """The chapters of the release (entity columns, ``depth`` 1).

        >>> import explorer
        >>> icd = explorer.connect("icd", sandbox=True, cache=False, progress=False)
        >>> icd.chapters()["code"].head(3).tolist()
        ['01', '02', '03']
        """
        top = self._ensure()
        payloads = self._pmap(self._fetch_uri, F.strings(top.get("child")), workers, progress,
                              "chapters")
        return F.entity_frame([self._record(p, _Context(1, F.string(p.get("code")), None))
                               for p in payloads])

    def entity(self, ref: str, *, foundation: bool | None = None) -> pd.Series:
        """One entity by id (``"257068234"``, ``"1646490591/other"``), URI or code.

        A bare id is looked up in the linearization (MMS) first and in the foundation when the
        MMS does not have it; ``foundation=True`` asks the foundation directly. Foundation
        entities keep every parent (``parent_ids``).

        >>> import explorer
        >>> icd = explorer.connect("icd", sandbox=True, cache=False, progress=False)
        >>> icd.entity("257068234")["code"]
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

        >>> import explorer
        >>> icd = explorer.connect("icd", sandbox=True, cache=False, progress=False)
        >>> icd.code("1A00")["title"]
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
        stem = F.string(info.get("stemCode")) or row["code"]
        return {"query": code, **row, "code": F.string(info.get("code")) or code,
                "stem_code": stem, "postcoordination": axes}

    def codes(self, codes: Iterable[str], *, errors: str = "raise", workers: int | None = None,
              progress: bool | None = None) -> pd.DataFrame:
        """Many codes, fetched concurrently; one row per code, in the order given.

        ``errors="ignore"`` gives an unknown code a row with only ``query`` filled instead of
        raising :class:`~explorer.errors.NotFound`.

        >>> import explorer
        >>> icd = explorer.connect("icd", sandbox=True, cache=False, progress=False)
        >>> icd.codes(["1A00", "8B20"])["title"].tolist()
        ['Cholera', 'Stroke not known if ischaemic or haemorrhagic']
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

        >>> import explorer
        >>> icd = explorer.connect("icd", sandbox=True, cache=False, progress=False)
        >>> icd.children("01")["title"].head(1).tolist()
        ['Gastroenteritis or colitis of infectious origin']
        """
        payload = self._resolve(ref)
        ctx = self._context(payload)
        kids = self._pmap(self._fetch_uri, F.strings(payload.get("child")), workers, progress,
                          "children")
        depth = ctx.depth + 1 if ctx.depth is not None else None
        child_ctx = _Context(depth, ctx.chapter, F.string(payload.get("code")))
        key = F.uri_id(payload.get("@id"))
        return F.entity_frame([self._record(p, child_ctx, parent_id=key) for p in kids])

    def ancestors(self, ref: str) -> pd.DataFrame:
        """The ancestors of a code, id or URI: chapter first, direct parent last.

        >>> import explorer
        >>> icd = explorer.connect("icd", sandbox=True, cache=False, progress=False)
        >>> icd.ancestors("1A00")["class_kind"].tolist()
        ['chapter', 'block', 'block']
        """
        payload = self._resolve(ref, include="ancestor" if self.revision == 11 else None)
        chain = self._ancestor_payloads(payload)
        rows = []
        top_is_chapter = bool(chain) and chain[0].get("classKind") == "chapter"
        chapter = F.string(chain[0].get("code")) if top_is_chapter else None
        parent_code = None
        for i, p in enumerate(chain):
            rows.append(self._record(p, _Context(i + 1 if top_is_chapter else None,
                                                 chapter, parent_code)))
            parent_code = F.string(p.get("code"))
        return F.entity_frame(rows)

    def tree(self, ref: str, *, max_depth: int | None = None, workers: int | None = None,
             progress: bool | None = None) -> pd.DataFrame:
        """The whole subtree of a chapter, block or category (root included), in tree order.

        Fetched breadth-first, each level concurrently on ``workers`` threads; every answer is
        cached, so a repeated call makes no request and an interrupted one resumes (a level
        already on disk is read in one query). ``max_depth`` limits the levels below the root.

        >>> import explorer
        >>> icd = explorer.connect("icd", sandbox=True, cache=False, progress=False)
        >>> icd.tree("01", max_depth=1).shape
        (9, 29)
        """
        root = self._resolve(ref)
        ctx = self._context(root)
        payloads = walk(self._fetch_miss, root, peek_many=self._peek_many,
                        workers=workers or self.workers,
                        progress=self.progress if progress is None else progress,
                        max_depth=max_depth, desc=f"tree {ref}")
        return tree_frame(payloads, language=self.language, root_depth=ctx.depth,
                          root_chapter=ctx.chapter, root_parent_code=ctx.parent_code)

    def terms(self, ref: str) -> pd.DataFrame:
        """Every term of an entity as long rows: ``kind`` (``synonym``, ``narrower_term``,
        ``inclusion``, ``exclusion``, ``index_term``, ``child_elsewhere``,
        ``fully_specified_name``), ``label``, ``reference``…

        >>> import explorer
        >>> icd = explorer.connect("icd", sandbox=True, cache=False, progress=False)
        >>> icd.terms("1A00").query("kind == 'inclusion'")["label"].tolist()
        ['cholera syndrome']
        """
        payload = self._resolve(ref)
        return F.frame(F.term_rows(payload, self.language), F.TERM_COLUMNS)
