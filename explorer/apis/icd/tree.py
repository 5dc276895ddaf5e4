"""Breadth-first crawl of an ICD subtree and its conversion to one DataFrame.

:func:`walk` fetches a subtree (or a whole release) concurrently, each entity as soon as it is
discovered (:func:`explorer.session.parallel.crawl`); :func:`tree_frame` turns the payloads into
the entity frame (:data:`~explorer.apis.icd.frames.ENTITY_COLUMNS`), in tree order (pre-order,
as in WHO's browser and SimpleTabulation), with ``depth``, ``parent_code`` and ``chapter``
filled from the structure.

>>> pays = [
...   {"@id": "http://id.who.int/icd/release/11/2026-01/mms/1", "code": "01",
...    "classKind": "chapter", "child": ["http://id.who.int/icd/release/11/2026-01/mms/2"],
...    "title": {"@language": "en", "@value": "Chapter"}},
...   {"@id": "http://id.who.int/icd/release/11/2026-01/mms/2", "code": "1A00",
...    "classKind": "category", "parent": ["http://id.who.int/icd/release/11/2026-01/mms/1"],
...    "title": {"@language": "en", "@value": "Leaf"}}]
>>> tree_frame(pays)[["id", "code", "depth", "chapter"]].values.tolist()
[['1', '01', 1, '01'], ['2', '1A00', 2, '01']]
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

import pandas as pd

from ...session.parallel import Limiter, crawl
from .frames import entity_frame, entity_record, payload_object, strings, uri_id

__all__ = ["MAX_ENTITIES", "CrawlLimit", "tree_frame", "tree_rows", "walk"]

#: Entities one crawl may meet at most (a whole release has about 37,000).
MAX_ENTITIES = 200_000

Payload = Mapping[str, Any]


class CrawlLimit(ValueError):
    """A crawl met more entities than allowed, or an entity linked twice (a cycle)."""

    def __init__(self, message: str, hint: str) -> None:
        super().__init__(message)
        self.hint = hint


def walk(
    fetch: Callable[[str], Payload],
    roots: Payload | Sequence[Payload],
    *,
    peek_many: Callable[[list[str]], list[Payload | None]] | None = None,
    workers: int | None = None,
    limiter: Limiter | None = None,
    progress: bool = True,
    max_depth: int | None = None,
    max_entities: int = MAX_ENTITIES,
    strict: bool = True,
    desc: str = "tree",
) -> list[Payload]:
    """Every payload of the subtrees under ``roots`` (roots first), fetched concurrently as
    soon as each is discovered (:func:`explorer.session.parallel.crawl`, paced by ``limiter``,
    or on ``workers`` threads).

    ``fetch(child_uri)`` returns one entity payload; ``peek_many(uris)`` the payloads already
    at hand (memory, the store; ``None`` where not), read for each batch of new children before
    any request: a stored subtree costs no request, an interrupted crawl resumes where it
    stopped. ``max_depth`` limits the levels below the roots (``0`` = the roots only). More
    than ``max_entities`` entities, or (``strict``) an entity linked twice — a cycle, or a
    server inventing links — is a :class:`CrawlLimit`; without ``strict`` (the foundation, a
    graph with several parents per entity) an entity met twice is fetched once.
    """
    roots = [roots] if isinstance(roots, Mapping) else list(roots)
    out: list[Payload] = [payload_object(r) for r in roots]
    seen = {r.get("@id") for r in roots}
    depth: dict[str, int] = {}

    def children(payload: Payload, level: int) -> list[str]:
        if max_depth is not None and level >= max_depth:
            return []
        new = []
        for uri in strings(payload_object(payload).get("child")):
            if uri in seen:
                if strict:
                    raise CrawlLimit(f"the entity {uri} is linked twice (a cycle, or a child "
                                     "listed under two parents)",
                                     "the server's hierarchy is not a tree: check the base URL")
                continue
            seen.add(uri)
            depth[uri] = level + 1
            new.append(uri)
        if len(seen) > max_entities:
            raise CrawlLimit(f"the crawl met more than max_entities={max_entities:,} entities",
                             "a whole release has about 37,000; pass max_entities=… to allow "
                             "more, or crawl a smaller subtree")
        return new

    def stored(uris: list[str]) -> list[str]:
        """Take what is at hand (and, recursively, its children); return what must be fetched."""
        misses: list[str] = []
        while uris:
            got = peek_many(uris) if peek_many is not None else [None] * len(uris)
            below: list[str] = []
            for uri, payload in zip(uris, got, strict=True):
                if payload is None:
                    misses.append(uri)
                else:
                    out.append(payload)
                    below.extend(children(payload, depth[uri]))
            uris = below
        return misses

    first = stored([u for r in roots for u in children(r, 0)])

    def expand(uri: str, payload: Payload) -> list[str]:
        out.append(payload)
        return stored(children(payload, depth[uri]))

    crawl(first, fetch, expand, workers=workers, limiter=limiter, progress=progress,
          desc=desc, unit="entities")
    return out


def tree_frame(
    payloads: Iterable[Payload],
    *,
    language: str | None = None,
    root_depth: int | None = None,
    root_chapter: str | None = None,
    root_parent_code: str | None = None,
) -> pd.DataFrame:
    """The entity frame of a subtree's payloads, in pre-order.

    Roots are the payloads whose parent is not among them; each root gets ``root_depth``
    (default: 1 for a chapter, else unknown), ``root_chapter`` and ``root_parent_code``;
    descendants get theirs from the structure. An item that is not a JSON object raises
    :class:`~explorer.errors.ApiError`; wrongly typed values inside one are ``None``.
    """
    return entity_frame(tree_rows(payloads, language=language, root_depth=root_depth,
                                  root_chapter=root_chapter, root_parent_code=root_parent_code))


def tree_rows(
    payloads: Iterable[Payload],
    *,
    language: str | None = None,
    root_depth: int | None = None,
    root_chapter: str | None = None,
    root_parent_code: str | None = None,
) -> list[dict[str, Any]]:
    """The rows of :func:`tree_frame` (one dict per entity, in pre-order)."""
    by_id: dict[str, Payload] = {}
    order: list[str] = []
    for payload in payloads:
        key = uri_id(payload_object(payload).get("@id"))
        if key is None or key in by_id:
            continue
        by_id[key] = payload
        order.append(key)
    kids: dict[str, list[str]] = {}
    roots: list[str] = []
    for key in order:
        payload = by_id[key]
        parent = next((uri_id(p) for p in strings(payload.get("parent")) if uri_id(p) in by_id),
                      None)
        if parent is None:
            roots.append(key)
    for key in order:
        # children in the order their parent lists them
        for uri in strings(by_id[key].get("child")):
            child = uri_id(uri)
            if child in by_id and child not in roots:
                kids.setdefault(key, []).append(child)
    rows: list[dict[str, Any]] = []
    placed: set[str] = set()
    for root in roots:
        payload = by_id[root]
        depth = root_depth if root_depth is not None else (
            1 if payload.get("classKind") == "chapter" else None)
        stack: list[tuple[str, int | None, str | None, str | None, str | None]] = [
            (root, depth, root_parent_code, root_chapter, None)]
        while stack:
            key, d, pcode, chap, pid = stack.pop()
            if key in placed:
                continue
            placed.add(key)
            row = entity_record(by_id[key], language=language, depth=d, parent_code=pcode,
                                chapter=chap, parent_id=pid)
            rows.append(row)
            child_depth = d + 1 if d is not None else None
            for child in reversed(kids.get(key, ())):
                stack.append((child, child_depth, row["code"], row["chapter"], key))
    return rows
