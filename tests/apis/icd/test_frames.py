"""JSON → rows and DataFrames on real WHO payloads (icd-api.md §5), no network."""

from __future__ import annotations

from explorer.apis.icd import frames as F
from explorer.apis.icd.tree import tree_frame
from tests.apis.icd import real_payloads as RP


def test_category_record_flattens_language_values_and_term_lists():
    row = F.entity_record(RP.CHOLERA)
    assert set(row) == set(F.ENTITY_COLUMNS)
    assert row["id"] == "257068234" and row["code"] == "1A00" and row["title"] == "Cholera"
    assert row["class_kind"] == "category" and row["is_leaf"] is True
    assert row["parent_id"] == "135352227" and row["parent_ids"] == ["135352227"]
    assert row["definition"].startswith("Cholera is a potentially epidemic")
    assert row["fully_specified_name"] == "Intestinal infection due to Vibrio cholerae"
    assert row["inclusions"] == ["cholera syndrome"]
    assert row["index_terms"][:2] == ["Cholera", "cholera syndrome"]
    assert row["postcoordination_axes"] == ["infectiousAgent", "associatedWith"]
    assert row["release"] == "2025-01" and row["linearization"] == "mms"
    assert row["browser_url"] == "https://icd.who.int/browse/2025-01/mms/en#257068234"
    assert row["foundation_uri"] == "http://id.who.int/icd/entity/257068234"
    assert row["uri"] == RP.CHOLERA["@id"]


def test_block_keeps_block_id_and_range_and_has_no_code():
    row = F.entity_record(RP.BLOCK_L2)
    assert row["code"] is None
    assert (row["block_id"], row["code_range"]) == ("BlockL2-1A0", "1A00-1A0Z")
    assert row["child_ids"] == ["257068234"] and row["is_leaf"] is False


def test_chapter_is_its_own_chapter_at_depth_one_without_parent():
    row = F.entity_record(RP.CHAPTER_01)
    assert (row["chapter"], row["depth"], row["parent_id"]) == ("01", 1, None)
    assert row["parent_ids"] == []  # the release root is not a parent entity


def test_residual_and_foundation_and_icd10_ids():
    res = F.entity_record({"@id": "http://id.who.int/icd/release/11/2024-01/mms/1646490591/other",
                           "code": "1F0Y", "classKind": "category"})
    assert res["id"] == "1646490591/other" and res["is_residual"] and res["code"] == "1F0Y"
    fnd = F.entity_record(RP.FOUNDATION_01)
    assert fnd["linearization"] == "foundation" and fnd["code"] is None
    assert fnd["parent_ids"] == ["455013390"] and fnd["synonyms"] == ["infection NOS"]
    assert fnd["foundation_uri"] == RP.FOUNDATION_01["@id"]
    a00 = F.entity_record(RP.ICD10_A00)
    assert (a00["id"], a00["release"], a00["linearization"]) == ("A00", "2019", "icd10")
    assert a00["child_ids"] == ["A00.0", "A00.1", "A00.9"] and a00["parent_id"] == "A00-A09"


def test_text_picks_the_session_language():
    values = [{"@language": "fr", "@value": "Choléra"}, {"@language": "en", "@value": "Cholera"}]
    assert F.text(values, "en") == "Cholera"
    assert F.text(values, "es") == "Choléra"  # first one when the language is absent
    assert F.text(None) is None and F.text("plain") == "plain"


def test_search_frame_real_fever_answer():
    df = F.search_frame(RP.SEARCH_FEVER)
    assert df.columns.tolist() == F.SEARCH_COLUMNS
    assert df["code"].tolist() == ["MG26", "4A60.0", "1D81.Z"]  # best first
    assert df.loc[0, "title"] == "Fever of other or unknown origin"
    assert df.loc[0, "title_highlighted"].startswith("<em class='found'>Fever</em>")
    assert df.loc[1, "title"] == "Familial Mediterranean fever"
    assert df.loc[0, "n_matching_terms"] == 2
    assert df.loc[0, "matching_terms"] == ["fever", "Other specified fever"]
    assert df.loc[2, "id"] == "760139952/unspecified"
    assert bool(df.loc[2, "is_residual_unspecified"]) and not bool(df.loc[0, "is_residual_other"])
    assert df.loc[0, "chapter"] == "21" and df.loc[0, "score"] == 1


def test_empty_answers_keep_their_columns():
    empty = F.search_frame({"error": False, "destinationEntities": []})
    assert empty.empty and empty.columns.tolist() == F.SEARCH_COLUMNS
    assert F.entity_frame([]).columns.tolist() == F.ENTITY_COLUMNS
    assert F.frame([], F.TERM_COLUMNS).columns.tolist() == F.TERM_COLUMNS


def test_autocode_records_match_and_no_match():
    hit = F.autocode_record("Cerebrovascular accident", RP.AUTOCODE_CVA, "Stroke")
    assert (hit["code"], hit["id"], hit["score"], hit["title"]) == ("8B20", "1442995018", 1,
                                                                     "Stroke")
    miss = F.autocode_record("cholera", RP.AUTOCODE_NONE)
    assert miss["code"] is None and miss["match_level"] == 3 and miss["is_title"] is False


def test_term_rows_are_long_with_references():
    rows = F.term_rows(RP.CHOLERA, "en")
    kinds = {r["kind"] for r in rows}
    assert kinds == {"fully_specified_name", "inclusion", "index_term"}
    ref = [r for r in rows if r["foundation_reference"]]
    assert ref[0]["label"] == "Cholera due to Vibrio cholerae O1, biovar cholerae"
    assert ref[0]["reference"] == "http://id.who.int/icd/entity/1205958647"
    chapter = F.term_rows(RP.CHAPTER_01)
    exc = [r for r in chapter if r["kind"] == "exclusion"][0]
    assert exc["linearization_reference"].endswith("/2025-01/mms/1612485599")
    assert exc["reference"] == exc["linearization_reference"]
    assert any(r["kind"] == "child_elsewhere" for r in chapter)


def test_parse_uri_variants():
    assert F.parse_uri("http://id.who.int/icd/release/11/mms") == ("mms", None, None)
    assert F.parse_uri("http://id.who.int/icd/release/11/2026-01/mms") == ("mms", "2026-01",
                                                                          None)
    assert F.parse_uri("http://id.who.int/icd/release/10/2019") == ("icd10", "2019", None)
    assert F.parse_uri("http://127.0.0.1:5/icd-container/icd/release/11/2018/mms/5") == (
        "mms", "2018", "5")


def test_tree_frame_of_real_path_is_in_tree_order_with_context():
    df = tree_frame([RP.CHOLERA, RP.CHAPTER_01, RP.BLOCK_L2, RP.BLOCK_L1])
    assert df.columns.tolist() == F.ENTITY_COLUMNS
    assert df["id"].tolist() == ["1435254666", "588616678", "135352227", "257068234"]
    assert df["depth"].tolist() == [1, 2, 3, 4]
    assert df["chapter"].tolist() == ["01"] * 4
    assert df["parent_id"].tolist()[1:] == ["1435254666", "588616678", "135352227"]
    assert df.loc[1, "parent_code"] == "01"
