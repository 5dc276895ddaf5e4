"""read_tabulation on small files written in WHO's SimpleTabulation format (icd-api.md §10)."""

from __future__ import annotations

import zipfile

import pandas as pd
import pytest

import explorer
from explorer.apis.icd import ENTITY_COLUMNS, read_tabulation

R = "http://id.who.int/icd/release/11/2024-01/mms"
F = "http://id.who.int/icd/entity"
HEADER = ["Foundation URI", "Linearization URI", "Code", "BlockId", "Title", "ClassKind",
          "DepthInKind", "IsResidual", "ChapterNo", "BrowserLink", "isLeaf",
          "Primary tabulation", "Grouping1", "Grouping2", "Grouping3", "Grouping4",
          "Grouping5", "Version:2024 Jan 21 - 22:30 UTC"]


def _link(key: str) -> str:
    return f'=hyperlink("https://icd.who.int/browse/2024-01/mms/en#{key}","ICD-11 Browser")'


ROWS = [
    (f"{F}/1435254666", f"{R}/1435254666", "01", "",
     "Certain infectious or parasitic diseases", "chapter", "1", "False", "01", "False"),
    (f"{F}/588616678", f"{R}/588616678", "", "BlockL1-1A0",
     "- Gastroenteritis or colitis of infectious origin", "block", "1", "False", "01", "False"),
    (f"{F}/135352227", f"{R}/135352227", "", "BlockL2-1A0",
     "- - Bacterial intestinal infections", "block", "2", "False", "01", "False"),
    (f"{F}/257068234", f"{R}/257068234", "1A00", "", "- - - Cholera", "category", "1", "False",
     "01", "True"),
    (f"{F}/1688127370", f"{R}/1688127370", "1A03", "",
     '"- - - Intestinal infections due to Escherichia coli"', "category", "1", "False", "01",
     "False"),
    (f"{F}/1346432225", f"{R}/1346432225", "1A03.0", "",
     "- - - - Enteropathogenic Escherichia coli infection", "category", "2", "False", "01",
     "True"),
    ("", f"{R}/135352227/other", "1A0Y", "", "- - - Other bacterial intestinal infections",
     "category", "1", "True", "01", "True"),
    (f"{F}/1630407678", f"{R}/1630407678", "02", "", "Neoplasms", "chapter", "1", "False", "02",
     "False"),
    (f"{F}/1", f"{R}/1", "2A00", "", "- Some neoplasm", "category", "1", "False", "02", "True"),
]


def write(path, header=HEADER, rows=ROWS, bom=True):
    lines = ["\t".join(header)]
    for r in rows:
        key = r[1].rsplit("/mms/", 1)[1]
        cells = [*r[:9], _link(key), r[9], "True" if r[2] == "1A00" else "False", "", "", "",
                 "", "", ""]
        lines.append("\t".join(cells[: len(header)]))
    path.write_text(("\ufeff" if bom else "") + "\r\n".join(lines) + "\r\n", encoding="utf-8")
    return path


def test_reads_the_tree_shape(tmp_path):
    df = read_tabulation(write(tmp_path / "SimpleTabulation-ICD-11-MMS-en.txt"))
    assert df.columns.tolist() == ENTITY_COLUMNS
    assert len(df) == len(ROWS)
    assert df["title"].tolist()[3:5] == ["Cholera", "Intestinal infections due to Escherichia coli"]
    assert df["depth"].tolist() == [1, 2, 3, 4, 4, 5, 4, 1, 2]
    assert df["parent_id"].tolist()[1:4] == ["1435254666", "588616678", "135352227"]
    assert df.loc[5, "parent_code"] == "1A03" and pd.isna(df.loc[3, "parent_code"])
    assert df["chapter"].tolist() == ["01"] * 7 + ["02"] * 2
    assert df.loc[0, "code"] == "01" and df.loc[1, "block_id"] == "BlockL1-1A0"
    assert df.loc[2, "code_range"] == "1A00-1A0Y"  # derived: first-last code below the block
    assert df.loc[6, "id"] == "135352227/other" and bool(df.loc[6, "is_residual"])
    assert df["is_leaf"].tolist() == [False, False, False, True, False, True, True, False, True]
    assert df.loc[3, "browser_url"] == "https://icd.who.int/browse/2024-01/mms/en#257068234"
    assert df.loc[3, "release"] == "2024-01" and df.loc[3, "uri"] == f"{R}/257068234"
    assert df.loc[1, "child_ids"] == ["135352227"]
    assert df.attrs["version"] == "2024 Jan 21 - 22:30 UTC"
    assert explorer.icd.read_tabulation is read_tabulation


def test_zip_older_header_and_groupings(tmp_path):
    old = ["Linearization (release) URI" if h == "Linearization URI" else h for h in HEADER]
    txt = write(tmp_path / "SimpleTabulation-ICD-11-MMS-en.txt", header=old, bom=False)
    archive = tmp_path / "SimpleTabulation-ICD-11-MMS-en.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.write(txt, txt.name)
    df = read_tabulation(archive, groupings=True)
    assert df.columns.tolist() == [*ENTITY_COLUMNS, "primary_tabulation", "grouping1",
                                   "grouping2", "grouping3", "grouping4", "grouping5"]
    assert df.loc[3, "primary_tabulation"] == "True" and df.loc[3, "code"] == "1A00"


def test_not_a_tabulation(tmp_path):
    bad = tmp_path / "x.txt"
    bad.write_text("a\tb\n1\t2\n")
    with pytest.raises(ValueError, match="not a SimpleTabulation"):
        read_tabulation(bad)
    with pytest.raises(ValueError, match="spreadsheet"):
        read_tabulation(tmp_path / "x.xlsx")


def test_same_columns_as_a_live_tree(icd_auth, tmp_path):
    live = icd_auth.tree("135352227", max_depth=1)
    offline = read_tabulation(write(tmp_path / "t.txt"))
    assert live.columns.tolist() == offline.columns.tolist()
