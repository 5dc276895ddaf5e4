"""Every analyst call against the sandbox, with OAuth and on the no-auth container mount."""

from __future__ import annotations

import pytest

import explorer
from explorer.apis.icd import frames as F
from explorer.errors import ApiError, ConfigurationError, NotFound


def test_releases_and_chapters(icd):
    rel = icd.releases()
    assert rel.columns.tolist() == F.RELEASE_COLUMNS
    assert rel.loc[0, "release"] == icd.release == "2025-01" and bool(rel.loc[0, "latest"])
    assert rel["latest"].sum() == 1 and "en" in rel.loc[0, "languages"]
    ch = icd.chapters()
    assert ch.columns.tolist() == F.ENTITY_COLUMNS
    assert len(ch) == 28 and ch["code"].tolist()[:2] == ["01", "02"]
    assert (ch["depth"] == 1).all() and (ch["class_kind"] == "chapter").all()
    assert ch["chapter"].tolist() == ch["code"].tolist()


def test_search_best_first(icd):
    df = icd.search("cholera")
    assert df.columns.tolist() == F.SEARCH_COLUMNS
    assert df.loc[0, "code"] == "1A00" and df.loc[0, "title"] == "Cholera"
    assert df["score"].is_monotonic_decreasing
    assert "<em" not in "".join(df["title"].dropna())
    assert df.loc[0, "n_matching_terms"] == len(df.loc[0, "matching_terms"]) > 0


def test_code_residual_and_postcoordinated(icd):
    s = icd.code("1A00")
    assert (s["title"], s["id"], s["depth"], s["chapter"]) == ("Cholera", "257068234", 4, "01")
    assert s["block_id"] is None and s["parent_id"] == "135352227"
    r = icd.code("1F0Y")
    assert r["id"] == "1646490591/other" and r["code"] == "1F0Y" and r["is_residual"]
    p = icd.code("2C25.Z&XK8G")
    assert (p["code"], p["stem_code"]) == ("2C25.Z&XK8G", "2C25.Z")
    assert p["postcoordination"] == {"laterality": ["XK8G"]}
    assert p["id"].endswith("/unspecified")


def test_codes_concurrent_in_order(icd):
    df = icd.codes(["8B20", "1A00", "1F0Y"], workers=3)
    assert df.columns.tolist() == F.CODE_COLUMNS
    assert df["code"].tolist() == ["8B20", "1A00", "1F0Y"]
    with pytest.raises(NotFound):
        icd.codes(["1A00", "1A0Q"])
    loose = icd.codes(["1A00", "1A0Q"], errors="ignore")
    assert loose["query"].tolist() == ["1A00", "1A0Q"] and loose["title"].isna().tolist() == [
        False, True]
    assert icd.codes([]).columns.tolist() == F.CODE_COLUMNS


def test_entity_by_id_uri_and_foundation(icd):
    by_id = icd.entity("257068234")
    assert by_id["code"] == "1A00" and by_id["linearization"] == "mms"
    uri = icd.entity("http://id.who.int/icd/release/11/2025-01/mms/257068234")
    assert uri["id"] == "257068234"
    fnd = icd.entity("257068234", foundation=True)
    assert fnd["linearization"] == "foundation" and fnd["parent_ids"]
    root = icd.entity("455013390")  # foundation only: found there
    assert root["linearization"] == "foundation" and root["parent_ids"] == []


def test_children_ancestors_terms(icd):
    kids = icd.children("1A03")
    assert kids["code"].tolist()[:2] == ["1A03.0", "1A03.1"]
    assert (kids["parent_code"] == "1A03").all() and (kids["depth"] == 5).all()
    anc = icd.ancestors("1A00")
    assert anc["id"].tolist() == ["1435254666", "588616678", "135352227"]
    assert anc["depth"].tolist() == [1, 2, 3]
    leaf = icd.children("1A00")
    assert leaf.empty and leaf.columns.tolist() == F.ENTITY_COLUMNS
    terms = icd.terms("1A00")
    assert terms.columns.tolist() == F.TERM_COLUMNS
    assert {"inclusion", "index_term"} <= set(terms["kind"])


def test_tree_of_a_chapter(icd):
    df = icd.tree("01")
    assert df.columns.tolist() == F.ENTITY_COLUMNS
    assert df.loc[0, "code"] == "01" and (df["chapter"] == "01").all()
    assert df["id"].is_unique and len(df) > 50
    by_id = df.set_index("id")
    for row in df.iloc[1:].itertuples():
        parent = by_id.loc[row.parent_id]
        assert row.depth == parent.depth + 1
        assert (row.parent_code == parent.code) or (row.parent_code is None
                                                    and parent.code is None) or (
            parent.class_kind == "block")
    blocks = df[df["class_kind"] == "block"]
    assert blocks["code"].isna().all() and blocks["block_id"].notna().all()
    assert blocks["code_range"].notna().all()
    residuals = df[df["is_residual"]]
    assert len(residuals) and residuals["code"].str[-1].isin(["Y", "Z"]).all()
    # pre-order: every row comes after its parent
    pos = {k: i for i, k in enumerate(df["id"])}
    assert all(pos[p] < pos[k] for k, p in zip(df["id"][1:], df["parent_id"][1:], strict=True))
    assert icd.tree("1A00").loc[0, "depth"] == 4  # a leaf: its own subtree
    two = icd.tree("01", max_depth=1)
    assert set(two["depth"]) == {1, 2}


def test_autocode(icd):
    df = icd.autocode(["cerebrovascular accident", "cholera", "zzzz qqqq"])
    assert df.columns.tolist() == F.AUTOCODE_COLUMNS
    assert df["code"].tolist()[:2] == ["8B20", "1A00"] and df["code"].isna().tolist()[2]
    assert df.loc[1, "title"] == "Cholera"
    assert icd.autocode("cholera")["code"].tolist() == ["1A00"]


def test_errors_name_what_and_release(icd):
    with pytest.raises(NotFound, match="'1A0Q'.*2025-01"):
        icd.code("1A0Q")
    with pytest.raises(NotFound, match="'99999999'"):
        icd.entity("99999999")
    with pytest.raises(ApiError, match="search failed"):
        icd.search("!!")
    with pytest.raises(ConfigurationError):
        icd.search("  ")


def test_bad_release_and_language(sb, tmp_path):
    creds = sb.credentials("icd")
    with pytest.raises(NotFound, match="'3124-01' does not exist"):
        explorer.connect("icd", **creds, release="3124-01", cache=False).chapters()
    with pytest.raises(NotFound, match="'xx' is not available.*it has: en"):
        explorer.connect("icd", **creds, language="xx", cache=False).code("1A00")
    older = explorer.connect("icd", **creds, release="2024-01", cache=False, progress=False)
    assert older.code("1A00")["release"] == "2024-01"


def test_icd10_by_revision_and_by_view(sb, icd_auth):
    icd10 = explorer.connect("icd", **sb.credentials("icd"), revision=10, cache=False,
                             progress=False)
    assert icd10.release == "2019"
    a00 = icd10.code("A00")
    assert (a00["title"], a00["depth"], a00["parent_code"], a00["chapter"]) == (
        "Cholera", 3, "A00-A09", "I")
    view = icd_auth.icd10()
    assert view.children("A00")["code"].tolist() == ["A00.0", "A00.1", "A00.9"]
    tree = view.tree("I")
    assert tree.loc[0, "code"] == "I" and tree.loc[1, "code_range"] == "A00-A09"
    assert (tree["chapter"] == "I").all()
    assert view.chapters()["code"].tolist()[0] == "I"
    with pytest.raises(ConfigurationError, match="ICD-11"):
        view.search("cholera")
    with pytest.raises(NotFound, match="'Q99.9'"):
        view.code("Q99.9")
    assert icd_auth.release == "2025-01"  # the ICD-11 session is unchanged


def test_sandbox_true_connects(monkeypatch, tmp_path):
    monkeypatch.setenv("EXPLORER_CACHE_DIR", str(tmp_path / "user-cache"))
    icd = explorer.connect("icd", sandbox=True, progress=False)
    assert icd.code("1A00")["title"] == "Cholera"
    assert not (tmp_path / "user-cache").exists()  # sandbox answers stay in memory
