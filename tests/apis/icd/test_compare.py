"""Release comparison: every change kind on small frames, the real 2024-01 → 2025-01 pair from
WHO's files, and the same answer over the API (sandbox, real sockets)."""

from __future__ import annotations

import time
from pathlib import Path

import pandas as pd
import pytest

import explorer
from explorer.apis.icd import CHANGE_KINDS, COMPARE_COLUMNS, compare, read_tabulation
from explorer.errors import ConfigurationError, NotFound

DATA = Path(explorer.__file__).resolve().parent / "sandbox" / "data" / "icd11"
OLD = DATA / "2024-01" / "SimpleTabulation-ICD-11-MMS-en.zip"
NEW = DATA / "2025-01" / "SimpleTabulation-ICD-11-MMS-en.txt.gz"
API = "/id.who.int/icd"

#: counted once from WHO's files and checked by hand on the rows below
REAL_COUNTS = {"added": 803, "removed": 65, "recoded": 6, "moved": 24, "retitled": 276,
               "residual-changed": 14}


def release(rows: list[tuple[str, str | None, str, str | None, str]]) -> pd.DataFrame:
    """An entity frame from (id, code, title, parent id, class kind) rows (made-up entities)."""
    return pd.DataFrame({
        "id": [r[0] for r in rows], "code": [r[1] for r in rows],
        "title": [r[2] for r in rows], "parent_id": [r[3] for r in rows],
        "class_kind": [r[4] for r in rows], "chapter": ["01"] * len(rows),
        "block_id": ["BlockL1-1A0" if r[4] == "block" else None for r in rows],
    })


OLD_ROWS = [
    ("C", "01", "Chapter", None, "chapter"),
    ("B", None, "Block", "C", "block"),
    ("P", "1A00", "Parent", "B", "category"),
    ("K1", "1A00.0", "Kid one", "P", "category"),
    ("P/other", "1A00.Y", "Other specified parent", "P", "category"),
    ("P/unspecified", "1A00.Z", "Parent, unspecified", "P", "category"),
    ("Q", "1A01", "Q", "B", "category"),
    ("Q/other", "1A01.Y", "Other specified Q", "Q", "category"),
    ("R", "1A02", "Removed", "B", "category"),
    ("M", "1A03", "Mover", "B", "category"),
    ("X", "1A04", "Several", "B", "category"),
]
NEW_ROWS = [
    ("C", "01", "Chapter", None, "chapter"),
    ("B", None, "Block", "C", "block"),
    ("P", "1A00", "Parent", "B", "category"),
    ("K1", "1A00.0", "Kid one", "P", "category"),
    ("K2", "1A00.1", "Kid two", "P", "category"),
    ("X", "1A00.2", "Several (renamed)", "P", "category"),
    ("P/other", "1A00.Y", "Other specified parent", "P", "category"),
    ("P/unspecified", "1A00.Z", "Parent, unspecified", "P", "category"),
    ("Q", "1A01", "Q", "B", "category"),
    ("M", "1A01.0", "Mover", "Q", "category"),
    ("Q/other", "1A01.8", "Other specified Q", "Q", "category"),
    ("N", "1A05", "New", "B", "category"),
]


def test_every_kind_keys_and_precedence():
    df = compare(release(OLD_ROWS), release(NEW_ROWS))
    assert df.columns.tolist() == COMPARE_COLUMNS
    got = df.set_index("id")[["change", "changes"]].astype(str).to_dict("index")
    assert got == {
        "K2": {"change": "added", "changes": "added"},
        "X": {"change": "recoded", "changes": "recoded,moved,retitled"},
        "P/other": {"change": "residual-changed", "changes": "residual-changed"},
        "M": {"change": "recoded", "changes": "recoded,moved"},
        "Q/other": {"change": "recoded", "changes": "recoded,residual-changed"},
        "R": {"change": "removed", "changes": "removed"},
        "N": {"change": "added", "changes": "added"},
    }
    # new release's order; the removed entity right after the old entity above it
    assert df["id"].tolist() == ["K2", "X", "P/other", "M", "Q/other", "R", "N"]
    assert df.attrs["counts"] == {"added": 2, "removed": 1, "recoded": 3, "moved": 2,
                                  "retitled": 1, "residual-changed": 2}
    assert df.attrs["unchanged"] == 6  # C, B, P, K1, Q and P/unspecified (not flagged)
    x = df.set_index("id").loc["X"]
    assert (x["old_code"], x["new_code"], x["old_parent"], x["new_parent"]) == (
        "1A04", "1A00.2", "BlockL1-1A0", "1A00")
    assert (x["old_parent_id"], x["new_parent_id"]) == ("B", "P")
    assert bool(x["recoded"]) and bool(x["moved"]) and bool(x["retitled"])
    assert not x["residual_changed"] and df.loc[df["moved"], "id"].tolist() == ["X", "M"]
    assert df.set_index("id").loc["Q/other", "is_residual"]
    assert list(df["change"].cat.categories) == list(CHANGE_KINDS)
    assert df["change"].value_counts().to_dict()["moved"] == 0  # every kind is listed
    assert compare(release(OLD_ROWS), release(OLD_ROWS)).empty


def test_inputs_are_checked():
    with pytest.raises(ValueError, match="no title"):
        compare(release(OLD_ROWS).drop(columns="title"), release(NEW_ROWS))
    with pytest.raises(TypeError, match="tabulation files or entity DataFrames"):
        compare(5, release(NEW_ROWS))
    with pytest.raises(ConfigurationError, match="unknown keyword argument 'chapter'"):
        compare(release(OLD_ROWS), release(NEW_ROWS), chapter="01")


@pytest.fixture(scope="module")
def real_pair() -> tuple[pd.DataFrame, float]:
    started = time.perf_counter()
    df = compare(OLD, NEW)
    return df, time.perf_counter() - started


def test_real_pair_from_the_files(real_pair):
    df, seconds = real_pair
    print(f"\ncompare(2024-01 zip, 2025-01 .txt.gz): {seconds:.2f} s, {len(df)} rows, "
          f"{df.attrs['counts']}")
    assert seconds < 20  # a few seconds on a 2-core machine (reading both files included)
    assert df.attrs["counts"] == REAL_COUNTS
    assert (df.attrs["old_release"], df.attrs["new_release"]) == ("2024-01", "2025-01")
    assert len(df) == 1180 and df.attrs["unchanged"] == 35_667
    assert len(df) + df.attrs["unchanged"] == len(read_tabulation(NEW)) + 65  # old ∪ new
    by_id = df.set_index("id")
    myelitis = by_id.loc["1054675109"]  # Viral myelitis: 1D02.1 → 1C8H, under block 1C8
    assert myelitis["changes"] == "recoded,moved,retitled" and myelitis["chapter"] == "01"
    assert (myelitis["old_code"], myelitis["new_code"]) == ("1D02.1", "1C8H")
    assert (myelitis["old_parent"], myelitis["new_parent"]) == ("1D02", "BlockL1-1C8")
    assert by_id.loc["926492960", "changes"] == "retitled"  # Neutropaenia → Neutropenia
    assert (by_id.loc["926492960", "old_title"], by_id.loc["926492960", "new_title"]) == (
        "Neutropaenia", "Neutropenia")
    assert by_id.loc["485862779", "changes"] == "recoded,moved"  # 9A78.9 → 9A7A
    # a residual is keyed by its parent entity: 1D02.Y lost its sibling 1D02.1
    assert by_id.loc["392898612/other", "changes"] == "residual-changed"
    assert by_id.loc["392898612/other", "new_code"] == "1D02.Y"
    residual = df[df["is_residual"]]
    assert residual["id"].str.endswith(("/other", "/unspecified")).all()
    assert set(df.loc[df["residual_changed"], "id"].str.rsplit("/", n=1).str[-1]) == {"other"}
    # every row is a real change
    both = df[df["change"].isin(["recoded", "moved", "retitled", "residual-changed"])]
    assert both["old_title"].notna().all() and both["new_title"].notna().all()
    assert df.loc[df["change"] == "added", "old_code"].isna().all()
    assert df.loc[df["change"] == "removed", "new_title"].isna().all()
    per_chapter = df.groupby("chapter").size()
    assert per_chapter["26"] > 600 and set(per_chapter.index) >= {"01", "02", "X"}


def test_files_and_frames_agree(real_pair):
    df, _ = real_pair
    frames = compare(read_tabulation(OLD), read_tabulation(NEW))
    pd.testing.assert_frame_equal(df, frames)


def test_over_the_api_equals_the_files(sb, real_pair, tmp_path):
    """icd.compare crawls both releases (here three chapters) and finds exactly what the files
    say for them; a rerun comes from the payload store without a request."""
    icd = explorer.connect("icd", **sb.credentials("icd"), cache=tmp_path / "c.sqlite",
                           progress=False)
    chapters = ["03", "04", "09"]
    api = icd.compare("2024-01", "2025-01", chapters=chapters)
    files, _ = real_pair
    files = files[files["chapter"].isin(chapters)].reset_index(drop=True)
    assert len(api) == len(files) == 33
    columns = [c for c in COMPARE_COLUMNS if c != "foundation_uri"]
    pd.testing.assert_frame_equal(api[columns].astype(object).fillna("-"),
                                  files[columns].astype(object).fillna("-"))
    assert (api.attrs["old_release"], api.attrs["new_release"]) == ("2024-01", "2025-01")
    sb.reset_counters()
    again = explorer.connect("icd", **sb.credentials("icd"), cache=tmp_path / "c.sqlite",
                             progress=False).compare("2024-01", "2025-01", chapters=chapters)
    assert sb.count(API) == 0
    pd.testing.assert_frame_equal(again, api)


def test_api_refuses_an_unknown_release_before_crawling(icd_auth):
    with pytest.raises(NotFound, match="2023-01"):
        icd_auth.compare("2023-01", "2025-01", chapters="04")
    with pytest.raises(ConfigurationError, match="compare exists only for ICD-11"):
        icd_auth.icd10().compare("2010", "2019")
