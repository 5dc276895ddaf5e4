"""Offline: WHO's SimpleTabulation file of an ICD-11 MMS release → the ``tree`` DataFrame.

WHO publishes, per release and language,
``https://icdcdn.who.int/static/releasefiles/{release}/SimpleTabulation-ICD-11-MMS-{lang}.zip``
(an XLSX and a tab-separated ``.txt``). :func:`read_tabulation` reads the ``.txt``, the
``.zip`` holding it, or a gzip-compressed ``.txt.gz``, and returns the same columns as
``IcdSession.tree`` (:data:`~explorer.apis.icd.frames.ENTITY_COLUMNS`), in the file's (tree)
order.

The file, as WHO writes it: UTF-8 with a byte-order mark, tab-separated, CRLF line ends, CSV
quoting (``"…"`` with doubled inner quotes), one header line whose last cell is the release
stamp (``Version:2025 Jan 24 - 22:30 UTC``). Columns are read **by name** (any order; unknown
ones are ignored): ``Foundation URI``, ``Linearization URI`` (older files: ``Linearization
(release) URI``), ``Code``, ``BlockId``, ``Title``, ``ClassKind``, ``IsResidual``,
``ChapterNo``, ``BrowserLink``, ``isLeaf``, ``Primary tabulation``, ``Grouping1``…``5`` and,
from 2026-01, ``CodingNote`` (a record ends at CRLF: a bare line feed inside a coding note
stays in the note). Titles carry one ``- `` per level below the chapter; ``BrowserLink`` is a
spreadsheet formula, ``=hyperlink("https://icd.who.int/browse/…","browser")``, of which the
URL is kept.

Derived by explorer (not WHO content): ``depth`` (chapter = 1, from the dashes),
``parent_id``/``parent_code`` (the parent of a row is the nearest row above it one level
higher — WHO's own rule for these files; a parent column, which 2026-01 files add, is not
needed), ``child_ids``, ``chapter`` where a row lacks ``ChapterNo``, ``release`` (from the
stamp: ``2025 Jan 24`` → ``"2025-01"``, unless the URIs carry one) and, for blocks,
``code_range`` (first–last category code below the block, in tabular order, always
``"A-B"``: a block holding one code has ``"DC90-DC90"``). The file has no
definitions or terms: those columns are empty.

``df.attrs``: ``release`` (``"2025-01"``), ``version`` (``"2025 Jan 24 - 22:30 UTC"``),
``stamp`` (the raw header cell), ``source`` (the file name) and ``citation`` (WHO's, to show
beside any ICD-11 content: :data:`~explorer.apis.icd.frames.CITATION`).

>>> df = read_tabulation("SimpleTabulation-ICD-11-MMS-en.txt.gz")   # doctest: +SKIP
>>> df.attrs["release"], len(df)                                     # doctest: +SKIP
('2025-01', 36782)
>>> df.query("chapter == '01' and is_leaf")[["code", "title"]]       # doctest: +SKIP
"""

from __future__ import annotations

import csv
import gc
import gzip
import io
import os
import re
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ._args import checked
from .frames import CITATION, ENTITY_COLUMNS

__all__ = ["decode", "no_gc", "read_tabulation", "read_tsv", "release_of_stamp"]

_GROUPINGS = ["primary_tabulation", "grouping1", "grouping2", "grouping3", "grouping4",
              "grouping5"]
_MONTHS = {m: i for i, m in enumerate(
    ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"), 1)}
_STAMP = re.compile(r"(\d{4})\s*[-/ ]\s*([A-Za-z]{3})[a-z]*|(\d{4})-(\d{2})(?!\d)")
_PATH_RELEASE = re.compile(r"(?<!\d)(\d{4}-\d{2})(?!\d)")
#: ``=hyperlink("url","label")``, also still CSV-quoted (``"=hyperlink(""url"",…)"``)
_HYPERLINK = r'^"?=\s*hyperlink\(\s*"{1,2}([^"]*)"'
_RECORD_END = "\x1e"  # stands for CRLF while pandas splits records (a bare LF stays in a cell)


def _norm(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", str(name).lstrip("\ufeff").lower())


_ALIASES = {
    "foundationuri": "foundation_uri",
    "linearizationuri": "uri",
    "linearizationreleaseuri": "uri",
    "code": "code",
    "blockid": "block_id",
    "title": "title",
    "classkind": "class_kind",
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


def release_of_stamp(stamp: str | None) -> str | None:
    """WHO's release id (``YYYY-MM``) from a release stamp of WHO's files, else ``None``.

    >>> release_of_stamp("Version:2025 Jan 24 - 22:30 UTC"), release_of_stamp("2024-Jan-21")
    ('2025-01', '2024-01')
    >>> release_of_stamp("2026-01"), release_of_stamp("no date")
    ('2026-01', None)
    """
    if not stamp:
        return None
    for m in _STAMP.finditer(stamp):
        if m.group(1) and m.group(2).lower()[:3] in _MONTHS:
            return f"{m.group(1)}-{_MONTHS[m.group(2).lower()[:3]]:02d}"
        if m.group(3) and 1 <= int(m.group(4)) <= 12:
            return f"{m.group(3)}-{m.group(4)}"
    return None


def _read_bytes(source: Any) -> tuple[bytes | str, str]:
    """The file's content (bytes, or text for a text stream) and a name for messages."""
    if hasattr(source, "read"):
        data = source.read()
        return data, str(getattr(source, "name", "") or "the stream")
    path = Path(source)
    if path.suffix.lower() in (".xlsx", ".xls"):
        raise ValueError(f"{path.name} is a spreadsheet; read_tabulation reads the "
                         "tab-separated .txt (or the .zip WHO ships, which holds both)")
    return path.read_bytes(), path.name


def _unpack(data: bytes, name: str, want: tuple[str, ...]) -> tuple[bytes, str]:
    """Bytes of a plain file from a zip (the member ``want`` picks) or a gzip stream."""
    if data[:2] == b"\x1f\x8b":
        return gzip.decompress(data), name
    if data[:4] == b"PK\x03\x04":
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            names = [n for n in zf.namelist() if n.lower().endswith((".txt", ".tsv", ".txt.gz"))
                     and "readme" not in n.lower()]
            names.sort(key=lambda n: (not any(w in n.lower() for w in want), n))
            if not names:
                raise ValueError(f"{name} holds no tab-separated .txt (members: "
                                 f"{zf.namelist()[:8]}); download WHO's release file again")
            return _unpack(zf.read(names[0]), f"{name}:{names[0]}", want)
    return data, name


def decode(source: Any, want: tuple[str, ...] = ()) -> tuple[str, str]:
    """The text of a WHO release file (``.txt``, ``.txt.gz``, ``.zip``, stream), BOM removed."""
    data, name = _read_bytes(source)
    if isinstance(data, bytes):
        data, name = _unpack(data, name, want)
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise ValueError(f"{name} is not UTF-8 text ({exc.reason} at byte {exc.start}); "
                             "WHO's files are UTF-8: pass the .txt, .txt.gz or .zip as "
                             "downloaded") from None
    else:
        text = data.lstrip("\ufeff")
    return text, name


def read_tsv(text: str, *, header: bool = True) -> pd.DataFrame:
    """WHO's tab-separated text as strings (``""`` for empty cells), header names as written
    (``header=False``: the header line is row 0, columns are numbered — for headers that
    repeat a name).

    A record ends at CRLF when the file uses CRLF (a bare LF inside a cell is kept), else at
    LF; CSV quoting (``"…"``, doubled inner quotes) is undone. Rows shorter than the header
    (WHO's stamp cell has no data) are padded.
    """
    options: dict[str, Any] = {}
    if "\r\n" in text and _RECORD_END not in text:
        text = text.replace("\r\n", _RECORD_END)
        options["lineterminator"] = _RECORD_END
    try:
        return pd.read_csv(io.StringIO(text), sep="\t", dtype=str, keep_default_na=False,
                           na_filter=False, quoting=csv.QUOTE_MINIMAL, index_col=False,
                           skip_blank_lines=True, engine="c", header=0 if header else None,
                           **options)
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise ValueError(f"not a tab-separated WHO file: {exc}") from None


def _previous_lower(depth: np.ndarray) -> np.ndarray:
    """Row index of the nearest row above each row with a smaller depth (``-1``: none) —
    the parent in a pre-order listing, also across a gap in the depths."""
    n = len(depth)
    pos = np.arange(n)
    out = np.full(n, -1)
    best = np.full(n, -1)
    for k in range(1, int(depth.max(initial=0))):
        best = np.maximum(best, np.maximum.accumulate(np.where(depth == k, pos, -1)))
        sel = depth == k + 1
        out[sel] = best[sel]
    return out


def _subtree_ends(depth: np.ndarray) -> np.ndarray:
    """``ends[i]``: the first row after ``i`` not below it (the subtree is ``i..ends[i]``)."""
    n = len(depth)
    nxt = np.full(n + 1, n)
    out = np.full(n, n)
    pos = np.arange(n + 1)
    extended = np.append(depth, 0)
    for k in range(1, int(depth.max(initial=0)) + 1):
        at_k = np.where(extended == k, pos, n)
        nxt = np.minimum(nxt, np.minimum.accumulate(at_k[::-1])[::-1])
        sel = depth == k
        out[sel] = nxt[1:][sel]
    return out


@contextmanager
def no_gc() -> Iterator[None]:
    """Pause the cyclic garbage collector while building many small acyclic objects (lists
    of ids): its repeated scans of the growing heap would cost more than the building."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


def _bools(values: pd.Series) -> pd.Series:
    low = values.str.strip().str.lower()
    out = pd.Series(None, index=values.index, dtype=object)
    out[low.isin(("true", "1", "yes"))] = True
    out[low.isin(("false", "0", "no"))] = False
    return out


def _none(values: pd.Series) -> list[Any]:
    """A column of strings as a list, empty ones ``None``."""
    return [v if v else None for v in values.tolist()]


@checked
def read_tabulation(path: str | os.PathLike[str] | io.IOBase, *, groupings: bool = False,
                    release: str | None = None) -> pd.DataFrame:
    """Read a SimpleTabulation ``.txt``, ``.txt.gz`` or ``.zip`` into the tree frame.

    ``groupings=True`` adds WHO's ``primary_tabulation`` and ``grouping1``…``grouping5``
    columns at the end. ``release=`` names the release when neither the URIs nor the header
    stamp do (else it is ``None``). See the module docstring for what is read and what is
    derived, and ``df.attrs`` (``release``, ``version``, ``stamp``, ``citation``).

    >>> import io
    >>> tsv = ("Linearization URI\\tCode\\tTitle\\tClassKind\\tVersion:2025 Jan 24 - 22:30 UTC"
    ...        "\\nhttp://x/mms/257068234\\t1A00\\tCholera\\tcategory")
    >>> df = read_tabulation(io.StringIO(tsv))
    >>> df[["code", "title", "depth", "release"]].values.tolist()
    [['1A00', 'Cholera', 1, '2025-01']]
    """
    with no_gc():
        return _read_tabulation(path, groupings=groupings, release=release)


def _read_tabulation(path: Any, *, groupings: bool, release: str | None) -> pd.DataFrame:
    text, name = decode(path, ("simpletabulation",))
    raw = read_tsv(text)
    header = [str(c) for c in raw.columns]
    cols: dict[str, str] = {}
    stamp = None
    for column in header:
        key = _ALIASES.get(_norm(column))
        if key and key not in cols:
            cols[key] = column
        elif _norm(column).startswith("version") and stamp is None:
            stamp = column.strip()
    missing = [c for c in ("uri", "title", "class_kind") if c not in cols]
    if missing:
        raise ValueError(f"not a SimpleTabulation file ({name}): no {', '.join(missing)} "
                         f"column (header: {header[:12]})")
    empty = pd.Series("", index=raw.index, dtype=raw.dtypes.iloc[0])

    def get(key: str) -> pd.Series:
        column = cols.get(key)
        return raw[column].str.strip() if column is not None else empty

    uri = get("uri")
    keep = (uri != "") & (get("class_kind") != "")
    if not keep.all():
        raw = raw[keep.to_numpy()].reset_index(drop=True)
        empty = pd.Series("", index=raw.index, dtype=raw.dtypes.iloc[0])
        uri = get("uri")
    n = len(raw)
    key = uri.str.extract(r"/(?:mms|release/11/[^/]+/[a-z]+)/(.+?)/*$", expand=False)
    key = key.where(key.notna(), uri.str.rsplit("/", n=1).str[-1]).astype(object)
    uri_release = uri.str.extract(r"/release/11/(\d{4}-\d{2})/", expand=False)
    version = stamp.split(":", 1)[-1].strip() if stamp else None
    file_release = (release or release_of_stamp(stamp)
                    or next(iter(_PATH_RELEASE.findall(name)[-1:]), None))
    kind = get("class_kind").str.lower()
    parts = get("title").str.extract(r"^((?:-\s+)*)(.*)$", expand=True)
    title = parts[1].str.strip()
    is_chapter = (kind == "chapter").to_numpy()
    depth = np.where(is_chapter, 1, parts[0].str.count("-").to_numpy(dtype=int) + 1)
    chapter_no = get("chapter")
    code = get("code")
    code = code.where((code != "") | ~is_chapter, chapter_no)
    chapter = chapter_no.where(chapter_no != "", None)
    if chapter.isna().any():
        chapter = chapter.where(chapter.notna(), code.where(is_chapter, None)).ffill()

    parent = _previous_lower(depth)
    has_parent = parent >= 0
    ids = key.to_numpy(dtype=object)
    codes = code.to_numpy(dtype=object)
    parent_id = np.where(has_parent, ids[np.maximum(parent, 0)], None)
    parent_code = np.where(has_parent, codes[np.maximum(parent, 0)], None)
    parent_code = np.where(parent_code == "", None, parent_code)

    # blocks: first and last category code below them, in tabular order
    ends = _subtree_ends(depth)
    coded = ((kind == "category") & (code != "")).to_numpy()
    pos = np.arange(n + 1)
    marks = np.append(np.where(coded, np.arange(n), n), n)
    next_coded = np.minimum.accumulate(marks[::-1])[::-1]  # first coded row at or after i
    prev_coded = np.maximum.accumulate(np.where(np.append(coded, False), pos, -1))
    first = next_coded[np.minimum(np.arange(n) + 1, n)]
    last = prev_coded[np.maximum(ends - 1, 0)]
    is_block = (kind == "block").to_numpy()
    ranged = is_block & (first < ends) & (last > np.arange(n))
    padded = np.append(codes, None)
    code_range = np.full(n, None, dtype=object)
    lo, hi = padded[first[ranged]], padded[last[ranged]]
    code_range[ranged] = lo + "-" + hi  # always a range, as WHO's codeRange is

    children: dict[str, list[str]] = {}
    for child, up in zip(ids[has_parent].tolist(), parent_id[has_parent].tolist(), strict=True):
        children.setdefault(up, []).append(child)
    child_ids = [children.get(i, []) for i in ids.tolist()]
    is_leaf = _bools(get("is_leaf")) if "is_leaf" in cols else pd.Series(None, index=raw.index,
                                                                        dtype=object)
    no_kids = pd.Series([not c for c in child_ids], index=raw.index, dtype=object)
    is_leaf = is_leaf.where(is_leaf.notna(), no_kids)
    is_residual = _bools(get("is_residual")) if "is_residual" in cols else pd.Series(
        None, index=raw.index, dtype=object)
    by_key = key.str.endswith(("/other", "/unspecified")).astype(object)
    is_residual = is_residual.where(is_residual.notna(), by_key)
    link = get("browser_url")
    url = link.str.extract(_HYPERLINK, flags=re.IGNORECASE, expand=False)
    url = url.where(url.notna(), link.where(link.str.startswith("http"), None))
    row_release = uri_release.where(uri_release.notna(), file_release)

    nones = [None] * n
    data: dict[str, Any] = {
        "id": ids, "code": _none(code), "title": _none(title), "class_kind": _none(kind),
        "depth": pd.array(depth, dtype="Int64"), "parent_id": parent_id,
        "parent_code": parent_code, "chapter": chapter.tolist(),
        "block_id": _none(get("block_id")), "code_range": code_range,
        "is_leaf": is_leaf.astype(bool).to_numpy(), "is_residual":
            is_residual.astype(bool).to_numpy(),
        "definition": nones, "long_definition": nones, "fully_specified_name": nones,
        "coding_note": _none(get("coding_note")), "browser_url": url.tolist(),
        "uri": _none(uri), "foundation_uri": _none(get("foundation_uri")),
        "parent_ids": [[p] if p is not None else [] for p in parent_id],
        "child_ids": child_ids,
    }
    for column in ("synonyms", "narrower_terms", "inclusions", "exclusions", "index_terms",
                   "postcoordination_axes"):
        data[column] = [[] for _ in range(n)]
    data["release"] = row_release.tolist()
    data["linearization"] = ["mms"] * n
    columns = list(ENTITY_COLUMNS)
    if groupings:
        for g in _GROUPINGS:
            data[g] = _none(get(g))
        columns += _GROUPINGS
    out = pd.DataFrame(data, columns=columns)
    out.attrs.update({"release": file_release if uri_release.isna().all() else
                      uri_release.dropna().iloc[0], "version": version, "stamp": stamp,
                      "source": name, "citation": CITATION})
    return out
