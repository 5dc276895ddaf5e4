"""read_tabulation on WHO's real SimpleTabulation files (2024-01 zip, 2025-01 .txt.gz, shipped
unmodified with the sandbox), on a file in the 2026-01 shape, and against the API.

Expected numbers are those of ``explorer/sandbox/data/icd11/README.md`` (counted from WHO's
files) and WHO's real payloads (icd-api.md §5: block KA6 has ``codeRange`` ``KA60-KA6Z``).
"""

from __future__ import annotations

import gzip
import io
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import explorer
from explorer.apis.icd import CITATION, ENTITY_COLUMNS, read_tabulation

DATA = Path(explorer.__file__).resolve().parent / "sandbox" / "data" / "icd11"
FILES = {
    "2024-01": DATA / "2024-01" / "SimpleTabulation-ICD-11-MMS-en.zip",
    "2025-01": DATA / "2025-01" / "SimpleTabulation-ICD-11-MMS-en.txt.gz",
}
#: rows per class kind, residuals and leaves (data README; leaves of 2024-01 counted alike)
EXPECTED = {
    "2024-01": ({"chapter": 28, "block": 1353, "category": 34663}, 5217, 30313,
                "2024 Jan 21 - 22:30 UTC"),
    "2025-01": ({"chapter": 28, "block": 1415, "category": 35339}, 5355, 30981,
                "2025 Jan 24 - 22:30 UTC"),
}


@pytest.fixture(scope="module", params=sorted(FILES))
def real(request) -> tuple[str, pd.DataFrame]:
    return request.param, read_tabulation(FILES[request.param])


def test_release_stamp_and_counts(real):
    release, df = real
    kinds, residual, leaves, version = EXPECTED[release]
    assert df.columns.tolist() == ENTITY_COLUMNS
    assert df["class_kind"].value_counts().to_dict() == kinds
    assert int(df["is_residual"].sum()) == residual and int(df["is_leaf"].sum()) == leaves
    assert df.attrs["release"] == release and df.attrs["version"] == version
    assert df.attrs["stamp"] == f"Version:{version}" and df.attrs["citation"] == CITATION
    assert set(df["release"]) == {release}  # the URIs carry none: from the stamp
    assert df["id"].is_unique
    assert all(u.endswith("/mms/" + i) for u, i in zip(df["uri"], df["id"], strict=True))


def test_browser_links_are_urls_not_formulas(real):
    _, df = real
    assert df["browser_url"].str.startswith("https://icd.who.int/").all()
    assert not df["browser_url"].str.contains('hyperlink|"', case=False).any()
    assert df["title"].str.match(r"^[-\s]").sum() == 0  # the level dashes are gone


def test_structure_parents_children_depth_chapters(real):
    _, df = real
    by_id = df.set_index("id")
    chapters = df[df["class_kind"] == "chapter"]
    assert chapters["depth"].eq(1).all() and chapters["parent_id"].isna().all()
    assert chapters["code"].tolist()[:3] == ["01", "02", "03"]
    assert chapters["code"].tolist()[-3:] == ["26", "V", "X"]
    rest = df[df["class_kind"] != "chapter"]
    parents = by_id.loc[rest["parent_id"]]
    assert (parents["depth"].to_numpy() == rest["depth"].to_numpy() - 1).all()
    assert (parents["chapter"].to_numpy() == rest["chapter"].to_numpy()).all()
    # child_ids is parent_id inverted, in file order; a leaf has no child
    pairs = df[["id", "child_ids"]].explode("child_ids").dropna()
    assert len(pairs) == len(rest)
    assert (by_id.loc[pairs["child_ids"], "parent_id"].to_numpy() == pairs["id"].to_numpy()).all()
    assert (df["is_leaf"] == df["child_ids"].map(len).eq(0)).all()
    # a residual hangs under the entity whose id it carries
    residual = df[df["is_residual"]]
    assert (residual["id"].str.split("/").str[0] == residual["parent_id"]).all()
    assert residual["foundation_uri"].isna().all()
    named = df[~df["is_residual"]]
    assert all(f == f"http://id.who.int/icd/entity/{i}"
               for f, i in zip(named["foundation_uri"], named["id"], strict=True))


def test_known_rows_and_block_ranges(real):
    _, df = real
    by_id = df.set_index("id")
    cholera = by_id.loc["257068234"]
    assert (cholera["code"], cholera["title"], cholera["depth"]) == ("1A00", "Cholera", 4)
    assert cholera["parent_id"] == "135352227" and pd.isna(cholera["parent_code"])
    assert by_id.loc["135352227", "block_id"] == "BlockL2-1A0"
    blocks = df[df["class_kind"] == "block"].set_index("block_id")
    assert blocks.loc["BlockL1-KA6", "code_range"] == "KA60-KA6Z"  # WHO's real codeRange
    assert blocks.loc["BlockL1-1A0", "code_range"] == "1A00-1A40.Z"
    assert blocks.loc["BlockL2-1A0", "code_range"].startswith("1A00-")
    assert by_id.loc["344162786/other", "code"] == "1A03.Y"
    # a block's range holds the first and last category code of its subtree, in file order
    codes = df["code"].where(df["class_kind"] == "category")
    for key in ["588616678", "911707612"]:
        i = int(np.flatnonzero(df["id"] == key)[0])
        end = i + 1
        while end < len(df) and df["depth"].iat[end] > df["depth"].iat[i]:
            end += 1
        below = codes.iloc[i + 1:end].dropna()
        assert df["code_range"].iat[i] == f"{below.iat[0]}-{below.iat[-1]}"


def _shape_2026() -> str:
    """A small file in the 2026-01 shape: CodingNote and Parent columns, another column order,
    a bare LF inside a coding note (records end at CRLF). Rows are real 2025-01 rows."""
    f, r = "http://id.who.int/icd/entity", "http://id.who.int/icd/release/11/mms"

    def link(key: str) -> str:
        return f'"=hyperlink(""https://icd.who.int/browse/latestrelease/mms/en#{key}"",""browser"")"'

    header = ["Linearization URI", "Title", "Code", "Foundation URI", "BlockId", "ClassKind",
              "DepthInKind", "IsResidual", "ChapterNo", "BrowserLink", "isLeaf",
              "Primary tabulation", "Grouping1", "Grouping2", "Grouping3", "Grouping4",
              "Grouping5", "CodingNote", "Parent", "Version:2026 Jan 17 - 05:30 UTC"]
    rows = [
        [f"{r}/1435254666", '"Certain infectious or parasitic diseases"', "", f"{f}/1435254666",
         "", "chapter", "1", "False", "01", link("1435254666"), "False", "", "", "", "", "",
         "", "", ""],
        [f"{r}/588616678", '"- Gastroenteritis or colitis of infectious origin"', "",
         f"{f}/588616678", "BlockL1-1A0", "block", "1", "False", "01", link("588616678"),
         "False", "", "", "", "", "", "", "", f"{f}/1435254666"],
        [f"{r}/257068234", '"- - Cholera"', "1A00", f"{f}/257068234", "", "category", "1",
         "False", "01", link("257068234"), "True", "True", "BlockL1-1A0", "", "", "", "",
         "Use additional code, if desired.\nA second line.", f"{f}/588616678"],
        [f"{r}/588616678/other", '"- - Other specified gastroenteritis"', "1A4Y", "",
         "", "category", "1", "True", "01", link("588616678/other"), "True", "True",
         "BlockL1-1A0", "", "", "", "", "", f"{f}/588616678"],
    ]
    lines = ["\t".join(header)] + ["\t".join(row) for row in rows]
    return "\ufeff" + "\r\n".join(lines) + "\r\n"


def test_2026_shape_by_name_and_bare_line_feed(tmp_path):
    path = tmp_path / "SimpleTabulation-ICD-11-MMS-en.txt.gz"
    path.write_bytes(gzip.compress(_shape_2026().encode("utf-8")))
    for source in (path, io.BytesIO(path.read_bytes()), io.StringIO(_shape_2026())):
        df = read_tabulation(source)
        assert df["code"].fillna("-").tolist() == ["01", "-", "1A00", "1A4Y"]
        assert df["title"].tolist()[2] == "Cholera" and df["depth"].tolist() == [1, 2, 3, 3]
        assert df["parent_id"].fillna("-").tolist() == ["-", "1435254666", "588616678",
                                                        "588616678"]
        assert df.loc[2, "coding_note"] == "Use additional code, if desired.\nA second line."
        assert df.loc[2, "browser_url"].endswith("#257068234")
        assert df.loc[1, "code_range"] == "1A00-1A4Y" and bool(df.loc[3, "is_residual"])
        assert df.attrs["release"] == "2026-01" and set(df["release"]) == {"2026-01"}


def test_same_frame_as_the_api_for_a_chapter(icd_auth):
    """The 2025-01 file and the sandbox's API answers (built from the same file by another
    parser) give the same rows for a whole chapter."""
    offline = read_tabulation(FILES["2025-01"])
    offline = offline[offline["chapter"] == "04"].reset_index(drop=True)
    live = icd_auth.icd11("2025-01").tree("04")
    columns = ["id", "code", "title", "class_kind", "depth", "parent_id", "parent_code",
               "chapter", "block_id", "code_range", "is_leaf", "is_residual", "browser_url",
               "foundation_uri", "parent_ids", "child_ids", "release"]
    pd.testing.assert_frame_equal(offline[columns].astype(object).fillna("-"),
                                  live[columns].astype(object).fillna("-"))
