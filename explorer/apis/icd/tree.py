"""Breadth-first crawl of an ICD subtree and its conversion to one DataFrame.

:func:`walk` fetches the subtree level by level, each level concurrently
(:func:`explorer.session.parallel.parallel_map`); :func:`tree_frame` turns the payloads into
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

from collections.abc import Callable, Iterable, Mapping
from typing import Any

import pandas as pd

from ...session.parallel import DEFAULT_WORKERS, parallel_map
from .frames import entity_frame, entity_record, payload_object, strings, uri_id

__all__ = ["tree_frame", "walk"]

Payload = Mapping[str, Any]


def walk(
    fetch: Callable[[str], Payload],
    root: Payload,
    *,
    peek: Callable[[str], Payload | None] | None = None,
    peek_many: Callable[[list[str]], list[Payload | None]] | None = None,
    workers: int = DEFAULT_WORKERS,
    progress: bool = True,
    max_depth: int | None = None,
    desc: str = "tree",
) -> list[Payload]:
    """Every payload of the subtree under ``root`` (root first), fetched level by level.

    ``fetch(child_uri)`` returns one entity payload; the children of a level are fetched
    concurrently on ``workers`` threads. ``max_depth`` limits the levels below the root
    (``0`` = the root only). An entity met twice is fetched once. ``peek(uri)`` may return
    a payload already at hand (no I/O), or ``peek_many(uris)`` a list of them (``None`` where
    not at hand): only the others go to the thread pool. Child lists that are not lists of
    URI strings contribute only their strings.
    """
    out: list[Payload] = [payload_object(root)]
    seen = {root.get("@id")}
    level: list[Payload] = [root]
    n = 0
    while level and (max_depth is None or n < max_depth):
        n += 1
        todo = []
        for payload in level:
            for uri in strings(payload_object(payload).get("child")):
                if uri not in seen:
                    seen.add(uri)
                    todo.append(uri)
        if not todo:
            break
        got: list[Payload | None]
        if peek_many is not None:
            got = list(peek_many(todo))
        elif peek is not None:
            got = [peek(u) for u in todo]
        else:
            got = [None] * len(todo)
        missing = [u for u, p in zip(todo, got, strict=True) if p is None]
        if missing:
            fetched = iter(parallel_map(fetch, missing, workers=workers, progress=progress,
                                        desc=f"{desc} level {n} ({len(missing)})"))
            got = [p if p is not None else next(fetched) for p in got]
        level = got  # type: ignore[assignment]
        out.extend(level)
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
    return entity_frame(rows)
