"""ICD-10 ↔ ICD-11 crosswalks from WHO's mapping tables: :func:`read_mapping`, :func:`map_codes`.

WHO publishes mapping tables with each ICD-11 release (``mapping.zip`` beside the
SimpleTabulation files). They are **not** covered by the ICD-11 licence (WHO's terms §1.2.3):
explorer ships none — it reads the ones you downloaded. The tables:

* ``10To11MapToOneCategory`` — each ICD-10 code to one ICD-11 category (possibly a residual
  such as ``1H0Z``);
* ``10To11MapToMultipleCategories`` — ICD-10 codes whose meaning ICD-11 splits, on several
  rows each (one-to-many);
* ``11To10MapToOneCategory`` — each ICD-11 code back to one ICD-10 code (chapters 01–25);
* ``foundation_10To11…``/``foundation_11To10…`` — the same at foundation level.

WHO's format: UTF-8 with a byte-order mark, tab-separated, CRLF, one header line whose last
cell is the release stamp (``2024-Jan-21``); header names differ between tables
(``ICD-11 FoundationURI`` / ``ICD-11 Foundation URI``, two columns both called ``Depth``: each
``Depth`` belongs to the class kind just before it). Columns are read by name.

:func:`read_mapping` gives one tidy frame (:data:`MAPPING_COLUMNS`): one row per source →
target pair, ``table`` and ``direction`` (``"10to11"``, ``"11to10"``) saying where it comes
from, ``icd11_id`` the short linearization id (``"257068234"``, ``"135352227/other"``).
Empty cells are missing values; ``df.attrs``: ``release`` (``"2024-01"``), ``stamps`` (per
table) and ``source``.

:func:`map_codes` maps a column of codes through it, keeps the input order (and index), says
which codes have no target (``unmapped``), and gives one row per target for one-to-many maps.

>>> import explorer
>>> mapping = explorer.icd.read_mapping("mapping.zip")                    # doctest: +SKIP
>>> explorer.icd.map_codes(["A00.0", "I10", "Z99.9"], mapping)            # doctest: +SKIP
"""

from __future__ import annotations

import io
import os
import re
import zipfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ...errors import ConfigurationError
from ._args import checked
from .tabulation import decode, read_tsv, release_of_stamp

__all__ = ["MAPPED_COLUMNS", "MAPPING_COLUMNS", "TABLES", "map_codes", "normalize_code",
           "read_mapping"]

#: WHO's mapping tables, by file stem, and their direction.
TABLES: dict[str, str] = {
    "10To11MapToOneCategory": "10to11",
    "10To11MapToMultipleCategories": "10to11",
    "11To10MapToOneCategory": "11to10",
    "foundation_10To11MapToOneCategory": "10to11",
    "foundation_11To10MapToOneCategory": "11to10",
}
#: Columns of :func:`read_mapping`.
MAPPING_COLUMNS: list[str] = [
    "table", "direction", "icd10_code", "icd10_title", "icd10_chapter", "icd10_class_kind",
    "icd10_depth", "icd11_code", "icd11_title", "icd11_chapter", "icd11_class_kind",
    "icd11_depth", "icd11_id", "icd11_uri", "icd11_foundation_uri",
]
#: Columns of :func:`map_codes` (``source``/``target`` are ``icd10``/``icd11`` or the reverse).
MAPPED_COLUMNS: list[str] = [
    "query", "source_code", "source_title", "target_code", "target_title", "target_chapter",
    "target_class_kind", "target_id", "n_targets", "unmapped", "reason",
]
_REVISION = {"10": "icd10", "11": "icd11"}


def _norm(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", str(name).lstrip("\ufeff").lower())


def _column(name: str, revision: str | None) -> str | None:
    """The tidy name of one of WHO's header cells (``revision``: that of the class kind
    column last seen, for ``Depth``)."""
    n = _norm(name)
    m = re.fullmatch(r"(?:icd)?(10|11)(classkind|depthinkind|depth|code|chapter|title)", n)
    if m:
        part = {"depthinkind": "depth"}.get(m.group(2), m.group(2))
        return f"{_REVISION[m.group(1)]}_{part.replace('classkind', 'class_kind')}"
    if n in ("depth", "depthinkind") and revision:
        return f"{revision}_depth"
    if "foundation" in n and "uri" in n:
        return "icd11_foundation_uri"
    if "linearization" in n or n in ("releaseuri", "icd11uri", "uri"):
        return "icd11_uri"
    return None


def _direction(table: str, columns: list[str]) -> str:
    for stem, direction in TABLES.items():
        if table.lower() == stem.lower():
            return direction
    m = re.search(r"(10|11)\s*to\s*(10|11)", table, re.IGNORECASE)
    if m and m.group(1) != m.group(2):
        return f"{m.group(1)}to{m.group(2)}"
    codes = [c for c in columns if c in ("icd10_code", "icd11_code")]
    return "10to11" if codes[:1] == ["icd10_code"] else "11to10"


def _read_table(text: str, table: str) -> tuple[pd.DataFrame, str | None]:
    raw = read_tsv(text, header=False)
    if raw.empty:
        raise ValueError(f"empty mapping table ({table})")
    header = [str(c) for c in raw.iloc[0].tolist()]
    raw = raw.iloc[1:].reset_index(drop=True)
    names: list[str | None] = []
    stamp = None
    revision = None
    for i, cell in enumerate(header):
        name = _column(cell, revision)
        if name and name.endswith("_class_kind"):
            revision = name.split("_", 1)[0]
        if name is None and i == len(header) - 1 and release_of_stamp(cell):
            stamp = cell.strip()
        names.append(name if name not in names else None)
    if not {"icd10_code", "icd11_code"} <= set(names) and not (
            "icd10_code" in names and "icd11_uri" in names):
        raise ValueError(f"not a WHO ICD-10/ICD-11 mapping table ({table}): header "
                         f"{header[:12]}")
    data = {name: raw.iloc[:, i].str.strip() for i, name in enumerate(names) if name}
    df = pd.DataFrame(data)
    df = df.replace("", np.nan) if len(df) else df
    direction = _direction(table, [n for n in names if n])
    out = pd.DataFrame(index=df.index)
    for column in MAPPING_COLUMNS:
        out[column] = df[column] if column in df.columns else None
    out["table"] = table
    out["direction"] = direction
    uri = out["icd11_uri"].astype(object)
    out["icd11_id"] = uri.str.extract(r"/(?:mms|release/11/[^/]+/[a-z]+)/(.+?)/*$",
                                      expand=False)
    if out["icd11_id"].isna().any():
        fallback = out["icd11_foundation_uri"].astype(object).str.rsplit("/", n=1).str[-1]
        out["icd11_id"] = out["icd11_id"].where(out["icd11_id"].notna(), fallback)
    for column in ("icd10_depth", "icd11_depth"):
        out[column] = pd.to_numeric(out[column], errors="coerce").astype("Int64")
    for column in ("icd10_code", "icd11_code"):
        out[column] = out[column].astype(object).str.upper()
    return out, stamp


@checked
def read_mapping(path: str | os.PathLike[str] | io.IOBase, *,
                 tables: Iterable[str] | None = None) -> pd.DataFrame:
    """WHO's mapping tables (a downloaded ``mapping.zip``, or one of its ``.txt`` files) as
    one tidy frame (:data:`MAPPING_COLUMNS`); see the module docstring.

    ``tables`` picks tables of a zip by name (``["10To11MapToOneCategory"]``); by default
    every ``.txt`` table in it is read (not the readme, not the ``.xlsx`` copies).

    >>> import io
    >>> tsv = ("\\ufeff10ClassKind\\t10DepthInKind\\ticd10Code\\ticd10Chapter\\ticd10Title\\t"
    ...        "11ClassKind\\t11DepthInKind\\tICD-11 FoundationURI\\tLinearization (releaseURI)\\t"
    ...        "icd11Code\\ticd11Chapter\\ticd11Title\\t2024-Jan-21\\r\\n"
    ...        "category\\t1\\tA00\\tI\\tCholera\\tcategory\\t1\\t"
    ...        "http://id.who.int/icd/entity/257068234\\t"
    ...        "http://id.who.int/icd/release/11/2024-01/mms/257068234\\t1A00\\t01\\tCholera\\r\\n")
    >>> df = read_mapping(io.BytesIO(tsv.encode()))
    >>> df[["direction", "icd10_code", "icd11_code", "icd11_id"]].values.tolist()
    [['10to11', 'A00', '1A00', '257068234']]
    >>> df.attrs["release"]
    '2024-01'
    """
    wanted = None if tables is None else {str(t).lower().removesuffix(".txt") for t in tables}
    frames: list[pd.DataFrame] = []
    stamps: dict[str, str | None] = {}
    name = str(getattr(path, "name", "") or path) if not hasattr(path, "read") else "stream"
    members = _members(path)
    if members is None:  # one table
        text, name = decode(path)
        stem = Path(name.rsplit(":", 1)[-1]).name
        stem = re.sub(r"(\.txt)?(\.gz)?$", "", stem, flags=re.IGNORECASE)
        df, stamp = _read_table(text, stem)
        frames.append(df)
        stamps[stem] = stamp
    else:
        known = {stem.lower(): stem for stem in TABLES}
        for member, data in members:
            stem = re.sub(r"\.txt$", "", Path(member).name, flags=re.IGNORECASE)
            if wanted is not None and stem.lower() not in wanted:
                continue
            text, _ = decode(io.BytesIO(data))
            df, stamp = _read_table(text, known.get(stem.lower(), stem))
            frames.append(df)
            stamps[df["table"].iat[0] if len(df) else stem] = stamp
        if wanted is not None:
            found = {s.lower() for s in stamps}
            missing = sorted(wanted - found)
            if missing:
                raise ValueError(f"{name} has no table {missing[0]!r}; it has "
                                 f"{sorted(stamps) or 'none of the asked'}")
        if not frames:
            raise ValueError(f"{name} holds no mapping table (.txt)")
    out = pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]
    releases = {release_of_stamp(s) for s in stamps.values() if s}
    out.attrs = {"release": next(iter(releases)) if len(releases) == 1 else None,
                 "stamps": stamps, "source": name}
    return out


def _members(path: Any) -> list[tuple[str, bytes]] | None:
    """The ``.txt`` members of a zip (``None`` when ``path`` is not a zip)."""
    if hasattr(path, "read"):
        pos = path.tell() if hasattr(path, "tell") else None
        head = path.read(4)
        if pos is not None:
            path.seek(pos)
        if not (isinstance(head, bytes) and head == b"PK\x03\x04"):
            return None
        data = path.read()
        archive = zipfile.ZipFile(io.BytesIO(data))
    elif zipfile.is_zipfile(path):
        archive = zipfile.ZipFile(path)
    else:
        return None
    with archive:
        return [(n, archive.read(n)) for n in sorted(archive.namelist())
                if n.lower().endswith(".txt") and "readme" not in n.lower()]


def normalize_code(code: Any) -> str | None:
    """A code as the tables write it, for matching: stripped, upper case, without the dots,
    ICD-10's dagger/asterisk marks and a postcoordination cluster's extra codes (the stem).

    >>> normalize_code(" a00.0 "), normalize_code("A000"), normalize_code("2C25.Z&XK8G")
    ('A000', 'A000', '2C25Z')
    >>> normalize_code("A17.0†"), normalize_code(None)
    ('A170', None)
    """
    if code is None or (isinstance(code, float) and np.isnan(code)):
        return None
    text = str(code).strip().upper()
    text = re.split(r"[&/]", text, maxsplit=1)[0]
    text = re.sub(r"[.\s†‡*+]", "", text)
    return text or None


def _target(to: Any, codes: list[Any]) -> str:
    if to is None:
        sample = [normalize_code(c) for c in codes[:200]]
        icd10 = sum(bool(s and re.fullmatch(r"[A-Z]\d\d\w*", s)) for s in sample)
        icd11 = sum(bool(s and re.fullmatch(r"[0-9A-Z][A-Z]\w+", s)) for s in sample)
        if icd10 == icd11:
            raise ConfigurationError("map_codes() cannot tell ICD-10 from ICD-11 codes here",
                                     provider="icd", hint="pass to=11 (ICD-10 → ICD-11) or "
                                                          "to=10 (ICD-11 → ICD-10)")
        return "icd11" if icd10 > icd11 else "icd10"
    text = str(to).lower().replace("-", "").replace(" ", "")
    if text in ("11", "icd11"):
        return "icd11"
    if text in ("10", "icd10"):
        return "icd10"
    raise ConfigurationError(f"unknown target {to!r}", provider="icd",
                             hint="pass to=11 (ICD-10 → ICD-11) or to=10 (ICD-11 → ICD-10)")


@checked
def map_codes(codes: Iterable[Any] | pd.Series | str, mapping: pd.DataFrame, *,
              to: int | str | None = None, multiple: bool = False) -> pd.DataFrame:
    """Map codes through WHO's tables (:func:`read_mapping`), in the order given.

    ``to=11`` maps ICD-10 → ICD-11, ``to=10`` ICD-11 → ICD-10 (default: told from the codes).
    ``multiple=True`` (ICD-10 → ICD-11) gives every target of the one-to-many table
    (``10To11MapToMultipleCategories``), one row each, and the one-category target for codes
    that table lacks; by default each code has one target (``…MapToOneCategory``).

    Codes match as WHO writes them or without dots, in any case (``a000`` finds ``A00.0``;
    :func:`normalize_code`). The result (:data:`MAPPED_COLUMNS`) keeps the input's order and
    index (one row per target): ``query`` is the code as given, ``source_code`` WHO's,
    ``n_targets`` how many targets the code has, ``unmapped`` True when there is none —
    ``reason`` says why (``"not in the table"``, ``"no target"``) — and
    ``df.attrs["unmapped"]`` lists those codes once each.

    >>> import io
    >>> tsv = ("icd10Code\\ticd10Title\\ticd11Code\\ticd11Title\\t2024-Jan-21\\r\\n"
    ...        "A00.0\\tCholera (classical)\\t1A00\\tCholera\\r\\n")
    >>> m = read_mapping(io.StringIO(tsv))
    >>> out = map_codes(["a000", "B99"], m)
    >>> out[["query", "target_code", "unmapped"]].fillna("-").values.tolist()
    [['a000', '1A00', False], ['B99', '-', True]]
    >>> out.attrs["unmapped"]
    ['B99']
    """
    if not isinstance(mapping, pd.DataFrame) or "direction" not in mapping.columns:
        raise ConfigurationError("map_codes() needs the frame read_mapping() returns",
                                 provider="icd",
                                 hint="mapping = explorer.icd.read_mapping('mapping.zip')")
    if isinstance(codes, str):
        codes = [codes]
    series = codes if isinstance(codes, pd.Series) else pd.Series(list(codes), dtype=object)
    target = _target(to, series.tolist())
    source = "icd10" if target == "icd11" else "icd11"
    direction = f"{source[3:]}to{target[3:]}"
    table = mapping[mapping["direction"] == direction]
    if table.empty:
        have = sorted(set(mapping["direction"]))
        raise ConfigurationError(
            f"the mapping has no {direction} table (it has {', '.join(have) or 'none'})",
            provider="icd", hint=f"read WHO's {'10To11' if target == 'icd11' else '11To10'}"
                                 f"MapTo… file, or pass to= the other revision")
    names = set(table["table"])
    one = table[table["table"].str.contains("OneCategory", case=False)]
    many = table[table["table"].str.contains("Multiple", case=False)]
    if multiple and target == "icd11":
        if many.empty:
            raise ConfigurationError(
                "multiple=True needs WHO's 10To11MapToMultipleCategories table",
                provider="icd", hint=f"read the whole mapping.zip (tables read: "
                                     f"{', '.join(sorted(names))})")
        rest = one[~one["icd10_code"].map(normalize_code).isin(
            set(many["icd10_code"].map(normalize_code)))]
        table = pd.concat([many, rest], ignore_index=True)
    elif not one.empty:
        mms = one[~one["table"].str.startswith("foundation")]
        table = mms if not mms.empty else one
    table = table.assign(_key=table[f"{source}_code"].map(normalize_code))
    table = table[table["_key"].notna()].drop_duplicates(["_key", f"{target}_code",
                                                          f"{target}_title"])
    table = table.assign(_n=table.groupby("_key")["_key"].transform("size"))

    uniques = pd.unique(series.astype(object).to_numpy())
    keys = series.astype(object).map(dict(zip(uniques, map(normalize_code, uniques),
                                              strict=True)))
    left = pd.DataFrame({"query": series.to_numpy(dtype=object), "_key": keys.to_numpy(),
                         "_row": np.arange(len(series))})
    merged = left.merge(table, on="_key", how="left", sort=False)
    merged = merged.sort_values("_row", kind="stable")
    found = merged["_n"].notna()
    has_target = (merged[f"{target}_code"].notna()
                  | (merged["icd11_id"].notna() if target == "icd11" else False))
    unmapped = ~(found & has_target)
    reason = np.where(~found, "not in the table", np.where(unmapped, "no target", None))
    out = pd.DataFrame({
        "query": merged["query"].to_numpy(dtype=object),
        "source_code": merged[f"{source}_code"].to_numpy(dtype=object),
        "source_title": merged[f"{source}_title"].to_numpy(dtype=object),
        "target_code": merged[f"{target}_code"].to_numpy(dtype=object),
        "target_title": merged[f"{target}_title"].to_numpy(dtype=object),
        "target_chapter": merged[f"{target}_chapter"].to_numpy(dtype=object),
        "target_class_kind": merged[f"{target}_class_kind"].to_numpy(dtype=object),
        "target_id": (merged["icd11_id"] if target == "icd11"
                      else pd.Series(None, index=merged.index)).to_numpy(dtype=object),
        "n_targets": merged["_n"].fillna(0).astype(int).to_numpy(),
        "unmapped": unmapped.to_numpy(dtype=bool),
        "reason": reason,
    }, index=series.index[merged["_row"].to_numpy()])
    out.loc[out["unmapped"].to_numpy(), "n_targets"] = 0
    missing = out.loc[out["unmapped"].to_numpy(), "query"].tolist()
    out.attrs = {"source": source, "target": target, "release": mapping.attrs.get("release"),
                 "tables": sorted(set(table["table"])),
                 "unmapped": list(dict.fromkeys(missing))}
    return out

