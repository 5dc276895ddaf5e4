"""Offline: WHO's SimpleTabulation file of an ICD-11 MMS release → the ``tree`` DataFrame.

WHO publishes, per release and language,
``https://icdcdn.who.int/static/releasefiles/{release}/SimpleTabulation-ICD-11-MMS-{lang}.zip``
(an XLSX and a tab-separated ``.txt``). :func:`read_tabulation` reads the ``.txt`` or the
``.zip`` holding it, and returns the same columns as ``IcdSession.tree``
(:data:`~explorer.apis.icd.frames.ENTITY_COLUMNS`), in the file's (tree) order.

Columns read (icd-api.md §10): ``Foundation URI, Linearization URI`` (older files:
``Linearization (release) URI``), ``Code, BlockId, Title, ClassKind, DepthInKind, IsResidual,
ChapterNo, BrowserLink, isLeaf, Primary tabulation, Grouping1…Grouping5, Version:<date>``.
Titles carry one ``- `` per level below the chapter; ``BrowserLink`` is a spreadsheet
``=hyperlink("url","label")`` formula. Derived by explorer (not WHO content): ``depth``
(chapter = 1, from the dashes), ``parent_id``/``parent_code`` (from the order and depth) and,
for blocks, ``code_range`` (first–last code below the block). The file has no definitions or
terms: those columns are empty.

>>> df = read_tabulation("SimpleTabulation-ICD-11-MMS-en.zip")    # doctest: +SKIP
>>> df.query("chapter == '01' and is_leaf")[["code", "title"]]     # doctest: +SKIP
"""

from __future__ import annotations

import csv
import io
import os
import re
import zipfile
from pathlib import Path
from typing import Any

import pandas as pd

from .frames import ENTITY_COLUMNS, frame, parse_uri

__all__ = ["read_tabulation"]

_HYPERLINK = re.compile(r'^=\s*hyperlink\(\s*"([^"]*)"', re.IGNORECASE)
_DASHES = re.compile(r"^((?:-\s*)*)")
_GROUPINGS = ["primary_tabulation", "grouping1", "grouping2", "grouping3", "grouping4",
              "grouping5"]


def _norm(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", name.lstrip("\ufeff").lower())


_ALIASES = {
    "foundationuri": "foundation_uri",
    "linearizationuri": "uri",
    "linearizationreleaseuri": "uri",
    "code": "code",
    "blockid": "block_id",
    "title": "title",
    "classkind": "class_kind",
    "depthinkind": "depth_in_kind",
    "isresidual": "is_residual",
    "chapterno": "chapter",
    "browserlink": "browser_url",
    "isleaf": "is_leaf",
    "primarytabulation": "primary_tabulation",
    "grouping1": "grouping1",
    "grouping2": "grouping2",
    "grouping3": "grouping3",
    "grouping4": "grouping4",
    "grouping5": "grouping5",
    "codingnote": "coding_note",
}


def _text(path: str | os.PathLike[str] | io.IOBase) -> str:
    if hasattr(path, "read"):
        data = path.read()  # type: ignore[union-attr]
        return data.decode("utf-8-sig") if isinstance(data, bytes) else data
    p = Path(path)
    if zipfile.is_zipfile(p):
        with zipfile.ZipFile(p) as zf:
            names = [n for n in zf.namelist() if n.lower().endswith((".txt", ".tsv"))]
            if not names:
                raise ValueError(f"{p} holds no .txt tabulation (members: {zf.namelist()}); "
                                 "download the SimpleTabulation zip from WHO's release files")
            names.sort(key=lambda n: ("simpletabulation" not in n.lower(), n))
            return zf.read(names[0]).decode("utf-8-sig")
    if p.suffix.lower() in (".xlsx", ".xls"):
        raise ValueError(f"{p} is a spreadsheet; read_tabulation reads the tab-separated .txt "
                         "(or the .zip WHO ships, which holds both)")
    return p.read_text(encoding="utf-8-sig")


def _bool(value: str) -> bool | None:
    v = value.strip().lower()
    if v in ("true", "1", "yes"):
        return True
    if v in ("false", "0", "no"):
        return False
    return None


def _title(raw: str) -> tuple[str, int]:
    title = raw.strip()
    if len(title) >= 2 and title[0] == title[-1] == '"':
        title = title[1:-1].replace('""', '"')
    m = _DASHES.match(title)
    dashes = m.group(1).count("-") if m else 0
    return title[m.end():].strip() if m else title, dashes


def read_tabulation(path: str | os.PathLike[str] | io.IOBase, *,
                    groupings: bool = False) -> pd.DataFrame:
    """Read a SimpleTabulation ``.txt`` (or the ``.zip`` holding it) into the tree frame.

    ``groupings=True`` adds WHO's ``primary_tabulation`` and ``grouping1``…``grouping5``
    columns at the end. ``df.attrs["version"]`` holds the file's ``Version:`` label.

    >>> import io
    >>> tsv = "Linearization URI\\tCode\\tTitle\\tClassKind\\nhttp://x/mms/257068234\\t1A00\\tCholera\\tcategory"
    >>> read_tabulation(io.StringIO(tsv))[["code", "title", "depth"]].values.tolist()
    [['1A00', 'Cholera', 1]]
    """
    content = _text(path)
    reader = csv.reader(io.StringIO(content), delimiter="\t", quoting=csv.QUOTE_NONE)
    try:
        header = next(reader)
    except StopIteration:
        raise ValueError("empty tabulation file") from None
    cols: dict[str, int] = {}
    version = None
    for i, name in enumerate(header):
        key = _ALIASES.get(_norm(name))
        if key and key not in cols:
            cols[key] = i
        elif name.strip().lower().startswith("version"):
            version = name.split(":", 1)[-1].strip() or None
    missing = [c for c in ("uri", "title", "class_kind") if c not in cols]
    if missing:
        raise ValueError(f"not a SimpleTabulation file: no {', '.join(missing)} column "
                         f"(header: {header[:12]})")

    def get(row: list[str], key: str) -> str:
        i = cols.get(key)
        return row[i].strip() if i is not None and i < len(row) else ""

    rows: list[dict[str, Any]] = []
    stack: list[dict[str, Any]] = []  # the current path from the chapter down
    for raw in reader:
        if not raw or not any(cell.strip() for cell in raw):
            continue
        title, dashes = _title(get(raw, "title"))
        kind = get(raw, "class_kind").lower() or None
        depth = 1 if kind == "chapter" else dashes + 1
        uri = get(raw, "uri") or None
        _, release, key = parse_uri(uri)
        code = get(raw, "code") or None
        chapter = get(raw, "chapter") or None
        if kind == "chapter" and code is None:
            code = chapter
        link = get(raw, "browser_url")
        m = _HYPERLINK.match(link)
        del stack[depth - 1:]
        parent = stack[-1] if stack else None
        row: dict[str, Any] = {
            "id": key, "code": code, "title": title, "class_kind": kind, "depth": depth,
            "parent_id": parent["id"] if parent else None,
            "parent_code": parent["code"] if parent else None,
            "chapter": chapter or (stack[0]["chapter"] if stack else None),
            "block_id": get(raw, "block_id") or None, "code_range": None,
            "is_leaf": _bool(get(raw, "is_leaf")), "is_residual": _bool(get(raw, "is_residual")),
            "coding_note": get(raw, "coding_note") or None,
            "browser_url": m.group(1) if m else (link or None), "uri": uri,
            "foundation_uri": get(raw, "foundation_uri") or None,
            "parent_ids": [parent["id"]] if parent else [],
            "release": release, "linearization": "mms",
        }
        if groupings:
            for g in _GROUPINGS:
                row[g] = get(raw, g) or None
        if row["is_residual"] is None and key:
            row["is_residual"] = key.endswith(("/other", "/unspecified"))
        rows.append(row)
        if code:
            for anc in stack:
                if anc["class_kind"] == "block":
                    anc["_first"] = anc.get("_first") or code
                    anc["_last"] = code
        stack.append(row)
    kids: dict[str, list[str]] = {}
    for row in rows:
        if row["parent_id"]:
            kids.setdefault(row["parent_id"], []).append(row["id"])
        if row.get("_first"):
            first, last = row.pop("_first"), row.pop("_last")
            row["code_range"] = first if first == last else f"{first}-{last}"
    for row in rows:
        row["child_ids"] = kids.get(row["id"], [])
        if row["is_leaf"] is None:
            row["is_leaf"] = not row["child_ids"]
    out = frame(rows, ENTITY_COLUMNS + (_GROUPINGS if groupings else []))
    out.attrs["version"] = version
    return out
