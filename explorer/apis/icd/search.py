"""Words → codes: ``search`` and ``autocode`` (functions of a :class:`~._context.Context`;
ICD-11 only: WHO's API has them only there).

``search`` returns WHO's ranked matches (:data:`~explorer.apis.icd.frames.SEARCH_COLUMNS`);
an answer WHO flags with ``error: true`` is an :class:`~explorer.errors.ApiError` with WHO's
message. ``autocode`` gives the best code of each diagnostic text, texts fetched concurrently.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import pandas as pd

from ...errors import ApiError, ConfigurationError, NotFound
from ...session import Session
from . import frames as F
from ._context import Context
from .entities import ID, resolve

__all__ = ["autocode", "search"]


def _icd11_only(ctx: Context, what: str) -> None:
    if ctx.revision != 11:
        raise ConfigurationError(f"{what} exists only for ICD-11 in WHO's API",
                                 provider=ctx.provider,
                                 hint="use an ICD-11 session (revision=11)")


def search(ctx: Context, q: str, *, chapters: Iterable[str] | str | None = None,
           subtrees: Iterable[str] | str | None = None, flexible: bool = False,
           medical_coding: bool = True, properties: Iterable[str] | str | None = None,
           foundation: bool = False) -> pd.DataFrame:
    """:meth:`IcdSession.search <explorer.apis.icd.IcdSession.search>`."""
    _icd11_only(ctx, "search")
    if not isinstance(q, str) or not q.strip():
        raise ConfigurationError("empty search text", provider=ctx.provider,
                                 hint="pass words to search, e.g. search('cholera')")
    params: dict[str, Any] = {
        "q": q.strip(),
        "chapterFilter": _join(chapters, ";"),
        "subtreesFilter": _join(_uris(ctx, subtrees), ","),
        "useFlexisearch": _bool(flexible),
        "flatResults": "true",
        "highlightingEnabled": "true",
    }
    if foundation:
        path = Session.path("icd", "entity", "search")
        params["releaseId"] = ctx.release
    else:
        path = Session.path(*ctx.root_segments(ctx.release), "search")
        params["medicalCodingMode"] = _bool(medical_coding)
    if properties:
        params["propertiesToBeSearched"] = _join(properties, ",")
    payload = ctx.get(path, params)
    if payload.get("error"):
        words = F.string(payload.get("errorMessage")) or "no message"
        raise ApiError(f"WHO's search failed: {words}", status=200, body=payload,
                       params=params, provider=ctx.provider, url=ctx.url(path),
                       redact=ctx.redact, hint="simplify the query (WHO's search refused it)")
    out = F.search_frame(payload)
    out.attrs["result_chopped"] = bool(payload.get("resultChopped"))
    out.attrs["words"] = payload.get("words")
    return out


def _uris(ctx: Context, refs: Iterable[str] | str | None) -> list[str] | None:
    if refs is None:
        return None
    if isinstance(refs, str):
        refs = [refs]
    out = []
    for ref in refs:
        if "://" in ref:
            out.append(ref)
        elif ID.fullmatch(ref):
            out.append(f"http://id.who.int/icd/release/11/{ctx.release}/"
                       f"{ctx.linearization}/{ref}")
        else:
            out.append(resolve(ctx, ref)["@id"])
    return out


def autocode(ctx: Context, texts: Iterable[str] | str, *, threshold: float | None = None,
             subtrees: Iterable[str] | str | None = None, workers: int | None = None,
             progress: bool | None = None) -> pd.DataFrame:
    """:meth:`IcdSession.autocode <explorer.apis.icd.IcdSession.autocode>`."""
    _icd11_only(ctx, "autocode")
    items = [texts] if isinstance(texts, str) else list(texts)
    path = Session.path(*ctx.root_segments(ctx.release), "autocode")
    subtree = _join(_uris(ctx, subtrees), ",")

    def one(text_: str) -> dict[str, Any]:
        if not isinstance(text_, str) or not text_.strip():
            return F.autocode_record(text_, None)
        payload = ctx.get(path, {"searchText": text_, "matchThreshold": threshold,
                                   "subtreesFilter": subtree})
        title = None
        uri = F.string(payload.get("linearizationURI"))
        if uri and F.uri_id(uri):
            try:
                title = F.text(ctx.fetch_uri(uri).get("title"), ctx.language)
            except NotFound:
                title = None
        return F.autocode_record(text_, payload, title)

    return F.frame(ctx.pmap(one, items, workers, progress, "autocode"),
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
