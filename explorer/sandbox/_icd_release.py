"""One ICD-11 MMS release read from WHO's SimpleTabulation file(s), as compact arrays.

WHO publishes, per release and language, a "SimpleTabulation" spreadsheet of the MMS
linearization (a ``.zip`` holding a tab-separated ``.txt``, or the ``.txt`` itself; ``.gz``
compression is accepted too). This module parses such files ONCE into a :class:`Release`:
row ``i`` (tabular = depth-first order) has ``keys[i]`` (``"257068234"`` or
``"344162786/other"``), ``codes[i]``, ``kinds[i]``, ``parents[i]`` (row index, ``-1`` for
chapters), ``ends[i]`` (the subtree of ``i`` is ``range(i, ends[i])``), titles per language, ...
Payloads are built from these arrays on demand by :mod:`explorer.sandbox.icd_payloads`.

Example:
    >>> from explorer.sandbox._icd_release import shipped_files, load_release
    >>> rel = load_release([f for f in shipped_files() if f.release_id == "2025-01"])
    >>> i = rel.by_code["1A00"]
    >>> rel.keys[i], rel.title(i), rel.kind_name(i), rel.keys[rel.parents[i]]
    ('257068234', 'Cholera', 'category', '135352227')

What is read from the file (WHO's truth) and what is derived here:

* read: foundation URI, linearization URI, code, BlockId, title, ClassKind, IsResidual,
  ChapterNo, the URL inside ``BrowserLink``'s ``=hyperlink(...)`` formula, the release stamp
  of the header (``Version:2025 Jan 24 - 22:30 UTC``) and, when a file has one, its parent
  column;
* derived (emulator, not WHO content): the parent of a row when the file has no parent column
  (the nearest row above with one ``- `` less in its title, the file's own rule); child lists
  (rows whose parent is the row, in file order); a block's ``codeRange`` (emulator choice:
  first and last code found below the block in tabular order, e.g. ``1A00-1A40.Z``); the
  release id and date (emulator choice: from the header stamp, ``2025 Jan 24`` -> ``2025-01``
  and ``2025-01-24``; else a ``YYYY-MM`` found in the file's path); the language (emulator
  choice: from a ``-xx.`` suffix of the file name, e.g. ``...-MMS-en.zip``; else a ``lang``
  column or ``Language:`` header cell; else ``en``).
"""

from __future__ import annotations

import csv
import datetime as _dt
import gzip
import io
import re
import threading
import zipfile
from array import array
from dataclasses import dataclass, field
from pathlib import Path

from .._gc import no_gc

__all__ = [
    "CHAPTER",
    "BLOCK",
    "CATEGORY",
    "KIND_NAMES",
    "DATA_DIR",
    "ReleaseFile",
    "Release",
    "read_header",
    "shipped_files",
    "load_release",
]

DATA_DIR = Path(__file__).parent / "data" / "icd11"
CHAPTER, BLOCK, CATEGORY = 0, 1, 2
KIND_NAMES = ("chapter", "block", "category")
_KINDS = {name: i for i, name in enumerate(KIND_NAMES)}
_HYPERLINK = re.compile(r'^=\s*hyperlink\(\s*"([^"]*)"', re.IGNORECASE)
_DASHES = re.compile(r"^(?:-\s)*")
_STAMP = re.compile(r"(\d{4})\s+([A-Za-z]{3})[a-z]*\s+(\d{1,2})")
_PATH_RELEASE = re.compile(r"(?<!\d)(\d{4}-\d{2})(?!\d)")
_NAME_LANG = re.compile(r"-([a-z]{2,3}(?:[-_][A-Za-z]{2,4})?)\.(?:zip|txt|tsv)(?:\.gz)?$")
_MONTHS = {m: i for i, m in enumerate(
    ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"), 1)}


def _norm(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", name.lstrip("\ufeff").lower())


@dataclass(frozen=True)
class ReleaseFile:
    """A SimpleTabulation file and what its header and name say about it."""

    path: Path
    release_id: str
    release_date: str | None
    language: str
    stamp: str

    def __str__(self) -> str:
        return f"{self.path.name} ({self.release_id}, {self.language})"


def _open_text(path: Path) -> io.TextIOBase:
    """The tabulation text of a ``.zip`` / ``.txt`` / ``.txt.gz`` file (BOM removed)."""
    raw: io.BufferedIOBase
    if zipfile.is_zipfile(path):
        zf = zipfile.ZipFile(path)
        names = [n for n in zf.namelist() if n.lower().endswith((".txt", ".tsv"))
                 and "readme" not in n.lower()]
        if not names:
            zf.close()
            raise ValueError(f"{path} holds no tab-separated tabulation ({zf.namelist()})")
        raw = zf.open(names[0])
        zf.close()  # the archive's file stays open until the member is closed
    elif path.suffix == ".gz":
        raw = gzip.open(path, "rb")  # type: ignore[assignment]  # noqa: SIM115
    else:
        raw = open(path, "rb")  # noqa: SIM115 - returned to the caller, who closes it
    return io.TextIOWrapper(raw, encoding="utf-8-sig", newline="")


def read_header(path: str | Path) -> ReleaseFile:
    """Release id, date and language of a SimpleTabulation file, from its header and name.

    >>> f = read_header(DATA_DIR / "2024-01" / "SimpleTabulation-ICD-11-MMS-en.zip")
    >>> f.release_id, f.release_date, f.language
    ('2024-01', '2024-01-21', 'en')
    """
    path = Path(path)
    with _open_text(path) as fh:
        header = next(csv.reader(fh, delimiter="\t"), [])
    _columns(header)  # a file without the tabulation's columns is refused here
    stamp = next((c for c in header if c.strip().lower().startswith("version")), "")
    release_id, release_date = _release_from(stamp, path)
    lang = None
    m = _NAME_LANG.search(path.name)
    if m:
        lang = m.group(1).lower().replace("_", "-")
    if lang is None:
        cell = next((c for c in header if c.strip().lower().startswith("language:")), "")
        lang = cell.split(":", 1)[1].strip().lower() if cell else "en"
    return ReleaseFile(path, release_id, release_date, lang, stamp.strip())


def _release_from(stamp: str, path: Path) -> tuple[str, str | None]:
    m = _STAMP.search(stamp)
    if m and m.group(2).lower() in _MONTHS:
        year, month, day = int(m.group(1)), _MONTHS[m.group(2).lower()], int(m.group(3))
        try:
            date = _dt.date(year, month, day).isoformat()
        except ValueError:
            date = None
        return f"{year}-{month:02d}", date
    found = _PATH_RELEASE.findall(str(path))
    return (found[-1] if found else "unknown"), None


def shipped_files() -> list[ReleaseFile]:
    """WHO's files shipped with the sandbox (newest release first).

    >>> [(f.release_id, f.language) for f in shipped_files()]
    [('2025-01', 'en'), ('2024-01', 'en')]
    """
    paths = sorted(p for p in DATA_DIR.glob("*/SimpleTabulation-*")
                   if p.name.endswith((".zip", ".txt", ".txt.gz")))
    files = [read_header(p) for p in paths]
    return sorted(files, key=lambda f: f.release_id, reverse=True)


class _Interner(dict):
    """Shares equal strings between releases (titles and keys barely change)."""

    def __missing__(self, key: str) -> str:
        self[key] = key
        return key


_STRINGS = _Interner()
_STRINGS_LOCK = threading.Lock()


@dataclass
class Release:
    """One release: arrays indexed by row (see the module docstring)."""

    release_id: str
    release_date: str | None
    languages: list[str]
    files: list[ReleaseFile]
    keys: list[str] = field(default_factory=list)
    foundation: list[str] = field(default_factory=list)
    codes: list[str] = field(default_factory=list)
    block_ids: list[str] = field(default_factory=list)
    chapters_no: list[str] = field(default_factory=list)
    browser: list[str] = field(default_factory=list)
    titles: dict[str, list[str]] = field(default_factory=dict)
    kinds: bytearray = field(default_factory=bytearray)
    residual: bytearray = field(default_factory=bytearray)
    parents: array = field(default_factory=lambda: array("i"))
    ends: array = field(default_factory=lambda: array("i"))
    chapter_rows: list[int] = field(default_factory=list)
    children: dict[int, list[int]] = field(default_factory=dict)
    index: dict[str, int] = field(default_factory=dict)
    by_code: dict[str, int] = field(default_factory=dict)
    by_foundation: dict[str, int] = field(default_factory=dict)
    code_ranges: dict[int, str] = field(default_factory=dict)
    leaf_mismatches: int = 0

    def __len__(self) -> int:
        return len(self.keys)

    def title(self, row: int, lang: str | None = None) -> str:
        """Title of ``row`` in ``lang`` (default: the release's first language)."""
        titles = self.titles.get(lang or self.languages[0]) or self.titles[self.languages[0]]
        return titles[row]

    def kind_name(self, row: int) -> str:
        return KIND_NAMES[self.kinds[row]]

    def kids(self, row: int) -> list[int]:
        return self.children.get(row, [])

    def chapter_of(self, row: int) -> int:
        """Row of the chapter holding ``row`` (chapters are their own chapter)."""
        seen = 0
        while self.parents[row] >= 0 and seen < 64:
            row = self.parents[row]
            seen += 1
        return row

    def ancestors(self, row: int) -> list[int]:
        """Parent, grand-parent, ... up to the chapter."""
        out: list[int] = []
        row = self.parents[row]
        while row >= 0 and len(out) < 64:
            out.append(row)
            row = self.parents[row]
        return out

    def is_leaf(self, row: int) -> bool:
        return row not in self.children

    def counts(self) -> dict[str, int]:
        """Rows per class kind, plus residuals and leaves.

        >>> rel = load_release([f for f in shipped_files() if f.release_id == "2024-01"])
        >>> rel.counts()["chapter"], len(rel)
        (28, 36044)
        """
        out = {name: 0 for name in KIND_NAMES}
        for k in self.kinds:
            out[KIND_NAMES[k]] += 1
        out["residual"] = sum(self.residual)
        out["leaf"] = len(self) - len(self.children)
        return out


def _columns(header: list[str]) -> dict[str, int]:
    cols = {}
    for i, name in enumerate(header):
        n = _norm(name)
        if n.startswith("version"):
            continue
        if n in ("linearizationuri", "linearizationreleaseuri"):
            n = "linearizationuri"
        cols.setdefault(n, i)
    missing = {"linearizationuri", "title", "classkind"} - set(cols)
    if missing:
        raise ValueError(f"not a SimpleTabulation file: no column(s) {sorted(missing)}")
    return cols


def _key(lin_uri: str) -> str:
    return lin_uri.strip().split("/mms/", 1)[-1].strip("/")


def load_release(files: list[ReleaseFile]) -> Release:
    """Parse the files of ONE release (one per language) into a :class:`Release`.

    The first file (``en`` preferred) gives the structure; other languages add titles for the
    same rows (rows they lack keep the first language's title - emulator choice).
    """
    with no_gc():
        return _load_release(files)


def _load_release(files: list[ReleaseFile]) -> Release:
    if not files:
        raise ValueError("no file")
    files = sorted(files, key=lambda f: (f.language != "en", f.language))
    first = files[0]
    rel = Release(first.release_id, first.release_date, [], files)
    _parse_structure(rel, first)
    for extra in files[1:]:
        if extra.language in rel.titles:
            continue
        titles = list(rel.titles[first.language])
        with _open_text(extra.path) as fh:
            header = next(csv.reader([fh.readline()], delimiter="\t"), [])
            cols = _columns(header)
            ci_lin, ci_title = cols["linearizationuri"], cols["title"]
            for row in _rows(fh, len(header)):
                if len(row) <= max(ci_lin, ci_title):
                    continue
                i = rel.index.get(_key(row[ci_lin]))
                if i is not None:
                    titles[i] = _DASHES.sub("", _unquote(row[ci_title]), count=1).strip()
        rel.titles[extra.language] = titles
        rel.languages.append(extra.language)
    return rel


def _unquote(value: str) -> str:
    if len(value) >= 2 and value[0] == '"' and value[-1] == '"':
        return value[1:-1].replace('""', '"')
    return value


def _rows(fh: io.TextIOBase, width: int):
    """Rows of the tab-separated text after the header (CSV quoting as WHO writes it).

    Fast path: one ``split`` per line, streamed (no copy of the whole file in memory); the
    ``csv`` module takes over for a line whose quoted field holds a tab or a line break (not
    the case in WHO's files).
    """
    reader = None
    for line in fh:
        if reader is None:
            cells = line.rstrip("\r\n").split("\t")
            if len(cells) == width and not line.count('"') % 2:
                yield cells
                continue
            reader = csv.reader(_chain(line, fh), delimiter="\t")
        yield from reader
        return


def _chain(first: str, rest):
    yield first
    yield from rest


def _parse_structure(rel: Release, rf: ReleaseFile) -> None:
    fh = _open_text(rf.path)
    with fh:
        header = next(csv.reader([fh.readline()], delimiter="\t"), [])
        cols = _columns(header)
        get = cols.get
        ci_f, ci_lin, ci_code = get("foundationuri", -1), cols["linearizationuri"], get("code", -1)
        ci_block, ci_title, ci_kind = get("blockid", -1), cols["title"], cols["classkind"]
        ci_res, ci_ch, ci_br = get("isresidual", -1), get("chapterno", -1), get("browserlink", -1)
        ci_leaf, ci_parent = get("isleaf", -1), get("parent", get("parenturi", -1))
        need = max(cols.values()) + 1
        titles: list[str] = []
        file_leaf: list[bool] = []
        depth_stack: list[int] = []  # row index per depth (chapter = depth 0)
        parent_keys: list[str] = []
        index, keys, foundation, codes = rel.index, rel.keys, rel.foundation, rel.codes
        block_ids, chapters_no, browser = rel.block_ids, rel.chapters_no, rel.browser
        kinds, residual, parents = rel.kinds, rel.residual, rel.parents
        kind_of = _KINDS
        _STRINGS_LOCK.acquire()
        try:
            s = _STRINGS
            for row in _rows(fh, len(header)):
                if len(row) < need:
                    if not any(row):
                        continue
                    row = row + [""] * (need - len(row))
                lin = row[ci_lin]
                pos = lin.find("/mms/")
                key = lin[pos + 5:].strip("/ ") if pos >= 0 else _key(lin)
                kind = kind_of.get(row[ci_kind])
                if kind is None:
                    kind = kind_of.get(row[ci_kind].strip().lower())
                if not key or kind is None or key in index:
                    continue
                title = row[ci_title]
                if title[:1] == '"':
                    title = _unquote(title)
                depth = 0
                while title.startswith("- ", depth * 2):
                    depth += 1
                if kind == CHAPTER:
                    depth = 0
                i = len(keys)
                index[key] = i
                keys.append(s[key])
                titles.append(s[title[depth * 2:].strip()])
                foundation.append(s[row[ci_f].rsplit("/", 1)[-1].strip()] if ci_f >= 0 else "")
                chapter = row[ci_ch].strip() if ci_ch >= 0 else ""
                code = row[ci_code].strip() if ci_code >= 0 else ""
                codes.append(s[code or (chapter if kind == CHAPTER else "")])
                block_ids.append(s[row[ci_block].strip()] if ci_block >= 0 else "")
                chapters_no.append(s[chapter])
                browser.append(_browser_url(row[ci_br]) if ci_br >= 0 else "")
                kinds.append(kind)
                residual.append(row[ci_res].strip().lower() == "true" if ci_res >= 0 else
                                key.endswith(("/other", "/unspecified")))
                if ci_leaf >= 0:
                    file_leaf.append(row[ci_leaf].strip().lower() == "true")
                if ci_parent >= 0:
                    parent_keys.append(_key(row[ci_parent]) if row[ci_parent].strip() else "")
                del depth_stack[depth:]
                parent = depth_stack[-1] if depth_stack else -1
                while len(depth_stack) < depth:  # a gap in the dashes: keep the nearest above
                    depth_stack.append(parent)
                depth_stack.append(i)
                parents.append(parent)
        finally:
            _STRINGS_LOCK.release()
    for i, code in enumerate(codes):
        if code:
            rel.by_code.setdefault(code, i)
    for i, fid in enumerate(foundation):
        if fid:
            rel.by_foundation.setdefault(fid, i)
    if parent_keys and any(parent_keys):
        for i, pk in enumerate(parent_keys):
            parents[i] = index.get(pk, -1) if pk else -1
    rel.titles[rf.language] = titles
    rel.languages.append(rf.language)
    _link(rel, file_leaf if ci_leaf >= 0 else None)


def _browser_url(link: str) -> str:
    link = _unquote(link.strip())
    if link.startswith("="):
        m = _HYPERLINK.match(link)
        return m.group(1) if m else ""
    return link if link.startswith("http") else ""


def _link(rel: Release, file_leaf: list[bool] | None) -> None:
    n = len(rel.keys)
    for i in range(n):
        p = rel.parents[i]
        if p >= 0:
            rel.children.setdefault(p, []).append(i)
        else:
            rel.chapter_rows.append(i)
    ends = array("i", range(1, n + 1))
    for i in range(n - 1, -1, -1):  # children come after their parent in tabular order
        p = rel.parents[i]
        if p >= 0 and ends[i] > ends[p]:
            ends[p] = ends[i]
    rel.ends = ends
    if file_leaf is not None:
        rel.leaf_mismatches = sum(1 for i in range(n) if file_leaf[i] != (i not in rel.children))
    codes = rel.codes
    for i in range(n):
        if rel.kinds[i] != BLOCK:
            continue
        first = last = ""
        for j in range(i + 1, ends[i]):
            if codes[j] and rel.kinds[j] == CATEGORY:
                first = first or codes[j]
                last = codes[j]
        if first:
            rel.code_ranges[i] = f"{first}-{last}"
