"""read_mapping / map_codes on small files written here in WHO's exact mapping format
(UTF-8 BOM, tab-separated, CRLF, the release stamp as the last header cell, two ``Depth``
columns in the one-to-many table; /work/shared/reference/icd-mapping-format.md).

The mapping pairs below are a MADE-UP SAMPLE for the tests, not WHO's tables: WHO's mapping
tables are not covered by the ICD-11 licence and are never shipped with explorer.
"""

from __future__ import annotations

import io
import zipfile

import pandas as pd
import pytest

from explorer.apis.icd import MAPPED_COLUMNS, MAPPING_COLUMNS, map_codes, read_mapping
from explorer.errors import ConfigurationError

STAMP = "2024-Jan-21"
F = "http://id.who.int/icd/entity"
L = "http://id.who.int/icd/release/11/2024-01/mms"

ONE_HEADER = ["10ClassKind", "10DepthInKind", "icd10Code", "icd10Chapter", "icd10Title",
              "11ClassKind", "11DepthInKind", "ICD-11 FoundationURI",
              "Linearization (releaseURI)", "icd11Code", "icd11Chapter", "icd11Title", STAMP]
ONE_ROWS = [
    ["chapter", "1", "I", "I", "Certain infectious and parasitic diseases", "category", "1",
     "", f"{L}/1435254666/unspecified", "1H0Z", "01", "Infection, unspecified"],
    ["block", "1", "A00-A09", "I", "Intestinal infectious diseases", "block", "1",
     f"{F}/588616678", f"{L}/588616678", "", "01",
     "Gastroenteritis or colitis of infectious origin"],
    ["category", "1", "A00", "I", "Cholera", "category", "1", f"{F}/257068234",
     f"{L}/257068234", "1A00", "01", "Cholera"],
    ["category", "2", "A00.0", "I", "Cholera, sample subcategory", "category", "1",
     f"{F}/257068234", f"{L}/257068234", "1A00", "01", "Cholera"],
    ["category", "2", "A01.0", "I", "Typhoid fever", "category", "1", f"{F}/1528414070",
     f"{L}/1528414070", "1A07", "01", "Typhoid fever"],
    ["category", "1", "B99", "I", "Other and unspecified infectious diseases", "", "", "", "",
     "", "", ""],
]
MANY_HEADER = ["10ClassKind", "Depth", "icd10Code", "icd10Chapter", "icd10Title",
               "11ClassKind", "Depth", "ICD-11 Foundation URI", "Linearization (release) URI",
               "icd11Code", "icd11Chapter", "icd11Title", STAMP]
MANY_ROWS = [
    ["category", "2", "A01.0", "I", "Typhoid fever", "category", "2", f"{F}/1", f"{L}/1",
     "1A07.0", "01", "Sample target one"],
    ["category", "2", "A01.0", "I", "Typhoid fever", "category", "2", f"{F}/2", f"{L}/2",
     "1A07.1", "01", "Sample target two"],
]
BACK_HEADER = ["Linearization (release) URI", "icd11Code", "icd11Chapter", "icd11Title",
               "icd10Code", "icd10Chapter", "icd10Title", STAMP]
BACK_ROWS = [
    [f"{L}/257068234", "1A00", "01", "Cholera", "A00.9", "I", "Cholera, unspecified"],
    [f"{L}/1435254666/unspecified", "1H0Z", "01", "Infection, unspecified", "B99", "I",
     "Other and unspecified infectious diseases"],
]


def who_bytes(header: list[str], rows: list[list[str]]) -> bytes:
    """WHO's layout: BOM, tabs, CRLF, the stamp as the last header cell (no data under it)."""
    lines = ["\t".join(header)] + ["\t".join(row) for row in rows]
    return ("\ufeff" + "\r\n".join(lines) + "\r\n").encode("utf-8")


@pytest.fixture
def files(tmp_path):
    out = {
        "10To11MapToOneCategory": who_bytes(ONE_HEADER, ONE_ROWS),
        "10To11MapToMultipleCategories": who_bytes(MANY_HEADER, MANY_ROWS),
        "11To10MapToOneCategory": who_bytes(BACK_HEADER, BACK_ROWS),
    }
    paths = {}
    for stem, data in out.items():
        paths[stem] = tmp_path / f"{stem}.txt"
        paths[stem].write_bytes(data)
    archive = tmp_path / "mapping.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("readme.txt", "made-up sample for tests\r\n")
        for stem, data in out.items():
            zf.writestr(f"{stem}.txt", data)
            zf.writestr(f"{stem}.xlsx", b"PK not a real spreadsheet")
    paths["zip"] = archive
    return paths


def test_the_writer_writes_whos_layout(files):
    raw = files["10To11MapToMultipleCategories"].read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf") and b"\r\n" in raw and b"\tDepth\t" in raw
    assert raw.split(b"\r\n")[0].endswith(b"\t2024-Jan-21")


def test_one_table_tidy(files):
    df = read_mapping(files["10To11MapToOneCategory"])
    assert df.columns.tolist() == MAPPING_COLUMNS and len(df) == len(ONE_ROWS)
    assert set(df["table"]) == {"10To11MapToOneCategory"} and set(df["direction"]) == {"10to11"}
    assert df.attrs["release"] == "2024-01"
    assert df.attrs["stamps"] == {"10To11MapToOneCategory": STAMP}
    first = df.iloc[0]
    assert (first["icd10_code"], first["icd11_code"], first["icd11_id"]) == (
        "I", "1H0Z", "1435254666/unspecified")
    assert pd.isna(first["icd11_foundation_uri"])
    block = df.iloc[1]
    assert pd.isna(block["icd11_code"]) and block["icd11_id"] == "588616678"
    assert (block["icd10_class_kind"], block["icd11_class_kind"]) == ("block", "block")
    assert df["icd10_depth"].tolist()[:4] == [1, 1, 1, 2]
    assert str(df["icd10_depth"].dtype) == "Int64"


def test_two_depth_columns_and_other_header_names(files):
    df = read_mapping(files["10To11MapToMultipleCategories"])
    assert df["icd10_depth"].tolist() == [2, 2] and df["icd11_depth"].tolist() == [2, 2]
    assert df["icd11_foundation_uri"].tolist() == [f"{F}/1", f"{F}/2"]
    assert df["icd11_id"].tolist() == ["1", "2"]


def test_reverse_table(files):
    df = read_mapping(files["11To10MapToOneCategory"])
    assert set(df["direction"]) == {"11to10"}
    assert df[["icd11_code", "icd10_code"]].values.tolist() == [["1A00", "A00.9"],
                                                                ["1H0Z", "B99"]]
    assert df["icd10_class_kind"].isna().all()


def test_zip_all_tables_or_some(files):
    df = read_mapping(files["zip"])
    assert df.groupby("table").size().to_dict() == {
        "10To11MapToMultipleCategories": 2, "10To11MapToOneCategory": 6,
        "11To10MapToOneCategory": 2}
    assert df.attrs["release"] == "2024-01" and len(df.attrs["stamps"]) == 3
    one = read_mapping(files["zip"], tables=["11To10MapToOneCategory"])
    assert set(one["table"]) == {"11To10MapToOneCategory"}
    with pytest.raises(ValueError, match="no table 'nosuch'"):
        read_mapping(files["zip"], tables=["nosuch"])
    from_stream = read_mapping(io.BytesIO(files["zip"].read_bytes()))
    pd.testing.assert_frame_equal(from_stream, df)


def test_map_icd10_to_icd11_keeps_order_index_and_says_what_is_unmapped(files):
    mapping = read_mapping(files["zip"])
    codes = pd.Series(["a00.0", "Z99.9", "A000", "B99", "A00-A09", None, "A00"],
                      index=[10, 11, 12, 13, 14, 15, 16], name="dx")
    out = map_codes(codes, mapping)
    assert out.columns.tolist() == MAPPED_COLUMNS
    assert out.index.tolist() == [10, 11, 12, 13, 14, 15, 16]
    assert out["query"].tolist()[:5] == ["a00.0", "Z99.9", "A000", "B99", "A00-A09"]
    assert out["source_code"].fillna("-").tolist() == ["A00.0", "-", "A00.0", "B99",
                                                       "A00-A09", "-", "A00"]
    assert out["target_code"].fillna("-").tolist() == ["1A00", "-", "1A00", "-", "-", "-",
                                                       "1A00"]
    assert out["unmapped"].tolist() == [False, True, False, True, False, True, False]
    assert out["reason"].fillna("-").tolist() == ["-", "not in the table", "-", "no target",
                                                  "-", "not in the table", "-"]
    assert out.loc[14, "target_id"] == "588616678"  # a block: no code, but a target
    assert out.attrs["unmapped"][:2] == ["Z99.9", "B99"]
    assert (out.attrs["source"], out.attrs["target"]) == ("icd10", "icd11")
    assert out.attrs["tables"] == ["10To11MapToOneCategory"]


def test_one_to_many(files):
    mapping = read_mapping(files["zip"])
    out = map_codes(["A01.0", "A00"], mapping, to=11, multiple=True)
    assert out["query"].tolist() == ["A01.0", "A01.0", "A00"]
    assert out["target_code"].tolist() == ["1A07.0", "1A07.1", "1A00"]
    assert out["n_targets"].tolist() == [2, 2, 1] and out.index.tolist() == [0, 0, 1]
    single = map_codes(["A01.0"], mapping, to="icd11")
    assert single["target_code"].tolist() == ["1A07"] and single["n_targets"].tolist() == [1]


def test_map_icd11_back_to_icd10(files):
    mapping = read_mapping(files["zip"])
    out = map_codes(["1a00", "1H0Z", "2C25.Z&XK8G"], mapping)  # told from the codes
    assert (out.attrs["source"], out.attrs["target"]) == ("icd11", "icd10")
    assert out["target_code"].fillna("-").tolist() == ["A00.9", "B99", "-"]
    assert out["unmapped"].tolist() == [False, False, True]
    assert out["target_id"].isna().all()


def test_mistakes_are_configuration_errors(files):
    mapping = read_mapping(files["10To11MapToOneCategory"])
    with pytest.raises(ConfigurationError, match="no 11to10 table"):
        map_codes(["1A00"], mapping, to=10)
    with pytest.raises(ConfigurationError, match="10To11MapToMultipleCategories"):
        map_codes(["A00"], mapping, multiple=True)
    with pytest.raises(ConfigurationError) as err:
        map_codes([], mapping)
    assert "to=11" in err.value.hint
    with pytest.raises(ConfigurationError, match="unknown target"):
        map_codes(["A00"], mapping, to=9)
    with pytest.raises(ConfigurationError) as err:
        map_codes(["A00"], mapping, multi=True)
    assert "did you mean multiple=?" in err.value.hint
    with pytest.raises(ConfigurationError, match="read_mapping"):
        map_codes(["A00"], pd.DataFrame({"x": [1]}))
    with pytest.raises(ValueError, match="not a WHO ICD-10/ICD-11 mapping table"):
        read_mapping(io.BytesIO(b"a\tb\r\n1\t2\r\n"))
