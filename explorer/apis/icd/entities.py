"""Entities by what the user names them: ``entity``, ``code``/``codes``, ``chapters``,
``children``, ``ancestors``, ``tree``, ``terms`` and ``releases`` (functions of a
:class:`~._context.Context`; :class:`~explorer.apis.icd.IcdSession` is their public face).

A reference is a code (``"1A00"``, ``"2C25.Z&XK8G"``), an id (``"257068234"``,
``"1646490591/other"``) or a URI; :func:`_resolve` turns it into a payload (codes through
``codeinfo``), and an unknown one into :class:`~explorer.errors.NotFound` naming it and the
release. Rows carry ``depth``, ``chapter`` and ``parent_code``, computed from the ancestors.
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import pandas as pd

from ...errors import ApiError, ConfigurationError, NotFound
from ...session import Session
from . import frames as F
from ._context import ICD10_LANGUAGES, Context
from .tree import CrawlLimit, tree_rows, walk

__all__ = ["ID", "ancestors", "chapters", "children", "code", "codes", "entity", "normalize",
           "release_frame", "releases", "resolve", "terms", "tree"]

#: an MMS id, possibly a residual (``/other``, ``/unspecified``)
ID = re.compile(r"\d{4,}(?:/(?:other|unspecified))?")
_CODEINFO_KEYS = {"@context", "@id", "code", "stemId", "stemCode", "simplifiedCode",
                  "simplifiedStemCode"}


@dataclass(frozen=True)
class _Where:
    depth: int | None
    chapter: str | None
    parent_code: str | None


def _not_found(ctx: Context, exc: NotFound, what: str, hint: str) -> NotFound:
    return NotFound(f"{what} not found in {ctx.what} release {ctx.release_id} "
                    f"(language {ctx.language})", status=404, provider=ctx.provider,
                    url=exc.url, hint=hint, redact=ctx.redact)


def _kind(ctx: Context, ref: str) -> str:
    if not isinstance(ref, str) or not ref.strip():
        raise ConfigurationError(f"expected a code, id or URI, got {ref!r}",
                                 provider=ctx.provider, hint="pass e.g. '1A00'")
    if "://" in ref:
        return "uri"
    if ctx.revision == 11 and ID.fullmatch(ref.strip()):
        return "id"
    return "code"


def normalize(code: str) -> str:
    """A code as WHO writes it: stripped, upper case (``"1a00"`` → ``"1A00"``, also
    postcoordinated clusters). Ids and URIs are never changed (they are not codes)."""
    return code.strip().upper()


def _codeinfo(ctx: Context, code: str) -> dict[str, Any]:
    code = normalize(code)
    ctx.ensure()  # its errors (release, language) are not this code's
    hint = ("check the code; blocks (ranges like 1A00-1A0Z) have no code: use entity(id) "
            "or tree(); search() finds codes from words")
    path = ctx.route(*ctx.root_segments(ctx.release), "codeinfo", code,
                     what=f"code {code!r}")
    try:
        info = ctx.get(path)
    except NotFound as exc:
        raise _not_found(ctx, exc, f"code {code!r}", hint) from None
    if not F.string(info.get("stemId")):
        raise ApiError(f"WHO's codeinfo for {code!r} has no stemId", status=200, body=info,
                       provider=ctx.provider, url=ctx.url(path), redact=ctx.redact,
                       hint="check the base URL points at an ICD API")
    return info


def _resolve(ctx: Context, ref: str, include: str | None = None) -> dict[str, Any]:
    """The entity payload for a code, an id or a URI."""
    kind = _kind(ctx, ref)
    ref = ref.strip()
    ctx.ensure()
    if kind == "uri" and not F.uri_id(ref):
        raise ConfigurationError(f"not an ICD entity URI: {ref!r}", provider=ctx.provider,
                                 hint="pass a code, an id or an entity URI")
    try:
        if kind == "uri":
            return ctx.fetch_uri(ref, include)
        if kind == "id":
            return ctx.fetch_uri(f"http://id.who.int/icd/release/11/{ctx.release}/"
                                 f"{ctx.linearization}/{ref}", include)
        if ctx.revision == 10:
            ref = normalize(ref)
            return ctx.fetch_uri(f"http://id.who.int/icd/release/10/{ctx.release}/{ref}")
    except NotFound as exc:
        raise _not_found(ctx, exc, f"{'code' if ctx.revision == 10 else kind} {ref!r}",
                         "check the code, id or URI") from None
    info = _codeinfo(ctx, ref)
    return ctx.fetch_uri(info["stemId"], include)


def _context(ctx: Context, payload: Mapping[str, Any]) -> _Where:
    """Depth (chapter = 1), chapter code and parent code of an entity."""
    lin = F.parse_uri(payload.get("@id"))[0]
    if lin == "foundation":
        return _Where(None, None, None)
    if payload.get("classKind") == "chapter":
        return _Where(1, F.string(payload.get("code")), None)
    chain = _ancestor_payloads(ctx, payload)
    if not chain:
        return _Where(None, None, None)
    top = chain[0]
    chapter = F.string(top.get("code")) if top.get("classKind") == "chapter" else None
    depth = len(chain) + 1 if top.get("classKind") == "chapter" else None
    return _Where(depth, chapter, F.string(chain[-1].get("code")))


def _ancestor_payloads(ctx: Context, payload: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The ancestors' payloads, chapter first, direct parent last."""
    lin = F.parse_uri(payload.get("@id"))[0]
    parents = F.strings(payload.get("parent"))
    raw = payload.get("ancestor")
    if raw is None and lin not in ("icd10", "foundation") and parents:
        raw = ctx.fetch_uri(payload.get("@id"), include="ancestor").get("ancestor")
    ancestors = F.strings(raw) if raw is not None else None
    if ancestors is not None:
        uris = [a for a in ancestors if F.uri_id(a)]
        got = ctx.pmap(ctx.fetch_uri, uris, None, False, "ancestors")
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
        current = ctx.fetch_uri(up[0])
        chain.append(current)
    return chain[::-1]


def _record(ctx: Context, payload: Mapping[str, Any], where: _Where | None = None,
            **extra: Any) -> dict[str, Any]:
    where = where or _context(ctx, payload)
    return F.entity_record(payload, language=ctx.language, depth=where.depth,
                           chapter=where.chapter, parent_code=where.parent_code,
                           release=ctx.release_id, **extra)


# -- what IcdSession's methods call ---------------------------------------------------------------
def chapters(ctx: Context, *, workers: int | None = None,
             progress: bool | None = None) -> pd.DataFrame:
    """:meth:`IcdSession.chapters <explorer.apis.icd.IcdSession.chapters>`."""
    top = ctx.ensure()
    payloads = ctx.pmap(ctx.fetch_uri, F.strings(top.get("child")), workers, progress,
                        "chapters")
    return F.entity_frame([_record(ctx, p, _Where(1, F.string(p.get("code")), None))
                           for p in payloads])


def entity(ctx: Context, ref: str, *, foundation: bool | None = None) -> pd.Series:
    """:meth:`IcdSession.entity <explorer.apis.icd.IcdSession.entity>`."""
    kind = _kind(ctx, ref)
    ref = ref.strip()
    if ctx.revision == 11 and kind == "id" and foundation is not False:
        key = ref.split("/")[0] if foundation else ref
        fnd_uri = f"http://id.who.int/icd/entity/{key}"
        if foundation:
            payload = _foundation(ctx, fnd_uri, ref)
        else:
            try:
                payload = _resolve(ctx, ref, include="ancestor")
            except NotFound:
                if "/" in ref:
                    raise
                payload = _foundation(ctx, fnd_uri, ref)
    else:
        payload = _resolve(ctx, ref, include="ancestor" if ctx.revision == 11 else None)
    return pd.Series(_record(ctx, payload), index=F.ENTITY_COLUMNS, name=ref)


def _foundation(ctx: Context, uri: str, ref: str) -> dict[str, Any]:
    ctx.ensure()
    try:
        return ctx.fetch_uri(uri)
    except NotFound as exc:
        raise NotFound(f"id {ref!r} not found in ICD-11 MMS nor in the foundation, "
                       f"release {ctx.release_id} (language {ctx.language})", status=404,
                       provider=ctx.provider, url=exc.url,
                       hint="check the id; search() finds entities from words",
                       redact=ctx.redact) from None


def code(ctx: Context, code: str) -> pd.Series:
    """:meth:`IcdSession.code <explorer.apis.icd.IcdSession.code>`."""
    return pd.Series(_code_row(ctx, code), index=F.CODE_COLUMNS, name=code)


def _code_row(ctx: Context, code: str) -> dict[str, Any]:
    if not isinstance(code, str) or not code.strip():
        raise ConfigurationError(f"expected a code, got {code!r}", provider=ctx.provider,
                                 hint="pass e.g. '1A00'")
    code = code.strip()
    if ctx.revision == 10:
        payload = _resolve(ctx, code)
        row = _record(ctx, payload)
        return {"query": code, **row, "stem_code": row["code"], "postcoordination": {}}
    info = _codeinfo(ctx, code)
    payload = ctx.fetch_uri(info["stemId"], include="ancestor")
    row = _record(ctx, payload)
    axes = {k: (list(v) if isinstance(v, list) else v) for k, v in info.items()
            if k not in _CODEINFO_KEYS}
    stem = F.string(info.get("stemCode")) or row["code"]
    return {"query": code, **row, "code": F.string(info.get("code")) or code,
            "stem_code": stem, "postcoordination": axes}


def codes(ctx: Context, codes: Iterable[str], *, errors: str = "raise",
          workers: int | None = None, progress: bool | None = None) -> pd.DataFrame:
    """:meth:`IcdSession.codes <explorer.apis.icd.IcdSession.codes>`."""
    if isinstance(codes, str):
        codes = [codes]
    if errors not in ("raise", "ignore"):
        raise ValueError("errors must be 'raise' or 'ignore'")
    items = list(codes)

    def one(code: str) -> dict[str, Any]:
        try:
            return _code_row(ctx, code)
        except NotFound:
            if errors == "raise":
                raise
            return {"query": code}

    ctx.ensure()
    return F.frame(ctx.pmap(one, items, workers, progress, "codes"), F.CODE_COLUMNS)


def children(ctx: Context, ref: str, *, workers: int | None = None,
             progress: bool | None = None) -> pd.DataFrame:
    """:meth:`IcdSession.children <explorer.apis.icd.IcdSession.children>`."""
    payload = _resolve(ctx, ref)
    where = _context(ctx, payload)
    kids = ctx.pmap(ctx.fetch_uri, F.strings(payload.get("child")), workers, progress,
                    "children")
    depth = where.depth + 1 if where.depth is not None else None
    below = _Where(depth, where.chapter, F.string(payload.get("code")))
    key = F.uri_id(payload.get("@id"))
    return F.entity_frame([_record(ctx, p, below, parent_id=key) for p in kids])


def ancestors(ctx: Context, ref: str) -> pd.DataFrame:
    """:meth:`IcdSession.ancestors <explorer.apis.icd.IcdSession.ancestors>`."""
    payload = _resolve(ctx, ref, include="ancestor" if ctx.revision == 11 else None)
    chain = _ancestor_payloads(ctx, payload)
    rows = []
    top_is_chapter = bool(chain) and chain[0].get("classKind") == "chapter"
    chapter = F.string(chain[0].get("code")) if top_is_chapter else None
    parent_code = None
    for i, p in enumerate(chain):
        rows.append(_record(ctx, p, _Where(i + 1 if top_is_chapter else None,
                                           chapter, parent_code)))
        parent_code = F.string(p.get("code"))
    return F.entity_frame(rows)


#: The format of a crawl's rows kept in the payload store (a new one ignores the old rows).
TREE_ROWS_FORMAT = f"1-{zlib.crc32(','.join(F.ENTITY_COLUMNS).encode()):08x}"


def tree(ctx: Context, ref: str | None = None, *, max_depth: int | None = None,
         workers: int | None = None, progress: bool | None = None) -> pd.DataFrame:
    """:meth:`IcdSession.tree <explorer.apis.icd.IcdSession.tree>`.

    A finished crawl's rows are kept in the payload store beside its answers (and expire with
    them): a rerun in any session with the same store reads one entry instead of rebuilding
    each entity's row. An interrupted crawl keeps only its answers, and resumes from them."""
    if ref is None:
        top = ctx.ensure()
        kept = _kept_tree(ctx, "*", max_depth)
        if kept[1] is not None:
            return kept[1]
        roots = [p for p in ctx.pmap(ctx.fetch_uri, F.strings(top.get("child")), workers,
                                     False, "chapters")]
        where = _Where(None, None, None)
        desc = f"{ctx.what} {ctx.release}"
    else:
        roots = [_resolve(ctx, ref)]
        kept = _kept_tree(ctx, F.string(roots[0].get("@id")) or ref, max_depth)
        if kept[1] is not None:
            return kept[1]
        where = _context(ctx, roots[0])
        desc = f"tree {ref}"
    strict = F.parse_uri(roots[0].get("@id") if roots else None)[0] != "foundation"
    try:
        payloads = walk(ctx.fetch_miss, roots, peek_many=ctx.peek_many,
                        workers=workers or ctx.workers, limiter=ctx.limiter,
                        progress=ctx.progress if progress is None else progress,
                        max_depth=max_depth, max_entities=ctx.max_entities, strict=strict,
                        desc=desc)
    except CrawlLimit as exc:
        raise ApiError(str(exc), provider=ctx.provider, url=ctx.url(Session.path(
            *ctx.root_segments(ctx.release))), redact=ctx.redact, hint=exc.hint) from None
    rows = tree_rows(payloads, language=ctx.language, root_depth=where.depth,
                     root_chapter=where.chapter, root_parent_code=where.parent_code)
    ctx.payloads.keep(kept[0], ctx.language, F.entity_columns(rows))
    return F.entity_frame(rows)


def _kept_tree(ctx: Context, root: str, max_depth: int | None
               ) -> tuple[str, pd.DataFrame | None]:
    """The store name of the crawl of ``root`` in the context's release, and its kept frame
    (``None`` if none is kept, or if it holds more than ``max_entities`` rows)."""
    name = f"tree/{TREE_ROWS_FORMAT}/{ctx.what}/{ctx.release}/{max_depth}/{root}"
    df = F.entity_frame_of_columns(ctx.payloads.derived(name, ctx.language))
    if df is not None and len(df) > ctx.max_entities:
        df = None
    return name, df


def release_frame(ctx: Context, chapters: list[str] | None = None, *,
                  workers: int | None = None, progress: bool | None = None) -> pd.DataFrame:
    """The entity frame of the context's release: every entity (:func:`tree` of the
    release), or the subtrees of ``chapters`` (codes such as ``"01"``), one after the other."""
    if not chapters:
        return tree(ctx, None, workers=workers, progress=progress)
    frames = [tree(ctx, chapter, workers=workers, progress=progress) for chapter in chapters]
    return pd.concat(frames, ignore_index=True)


def terms(ctx: Context, ref: str) -> pd.DataFrame:
    """:meth:`IcdSession.terms <explorer.apis.icd.IcdSession.terms>`."""
    payload = _resolve(ctx, ref)
    return F.frame(F.term_rows(payload, ctx.language), F.TERM_COLUMNS)


def resolve(ctx: Context, ref: str, include: str | None = None) -> dict[str, Any]:
    """The entity payload for a code, an id or a URI (:class:`NotFound` naming it)."""
    return _resolve(ctx, ref, include)


def releases(ctx: Context) -> pd.DataFrame:
    """The releases the server lists, newest first (:data:`F.RELEASE_COLUMNS`)."""
    versions = ctx.versions()
    latest = F.string(versions.get("latestRelease"))
    latest = ctx.release_of(latest) if latest else None
    ids = [ctx.release_of(u) for u in F.strings(versions.get("release"))]

    def one(release: str) -> dict[str, Any]:
        try:
            top = ctx.get(Session.path(*ctx.root_segments(release)), checked=False,
                          language="en")
        except NotFound:
            top = {}
        langs = F.strings(top.get("availableLanguages")) or (
            ICD10_LANGUAGES.get(release) if ctx.revision == 10 else None)
        return {"release": release, "date": F.string(top.get("releaseDate")),
                "languages": list(langs) if langs else None,
                "prerelease_languages": F.strings(top.get("prereleaseLanguages")),
                "latest": release == latest,
                "title": F.text(top.get("title")) or F.text(versions.get("title")),
                "uri": F.string(top.get("@id")) or f"http://id.who.int/"
                                                  f"{'/'.join(ctx.root_segments(release))}"}

    rows = ctx.pmap(one, ids, None, False, "releases")
    return F.frame(rows, F.RELEASE_COLUMNS)
