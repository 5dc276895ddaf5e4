"""The client against real WHO payloads served by a local server (no auth, like WHO's container)."""

from __future__ import annotations

import pytest

import explorer
from explorer.apis.icd import frames as F
from explorer.errors import ApiError, NotFound


def test_code_follows_codeinfo_stem_and_walks_up_for_context(real_icd, real):
    s = real_icd.code("1A00")
    assert s.index.tolist() == F.CODE_COLUMNS
    assert (s["code"], s["title"], s["id"]) == ("1A00", "Cholera", "257068234")
    # this server ignores include=ancestor: the client walked the parents instead
    assert (s["depth"], s["chapter"], s["parent_id"]) == (4, "01", "135352227")
    assert s["parent_code"] is None  # the parent is a block (no code)
    assert s["stem_code"] == "1A00" and s["postcoordination"] == {}
    assert s["inclusions"] == ["cholera syndrome"]
    # every call carried the API's headers, and no Authorization (container mode)
    for seen in real.seen:
        assert seen.headers.get("Api-Version") == "v2"
        assert seen.headers.get("Accept") == "application/json"
        assert seen.headers.get("Accept-Language") == "en"
        assert "Authorization" not in seen.headers


def test_tree_and_ancestors_on_real_payloads(real_icd):
    tree = real_icd.tree("1435254666")  # by id (this server has no codeinfo for 01)
    assert tree["code"].tolist()[0] == "01" and tree["code"].tolist()[-1] == "1A00"
    assert tree["depth"].tolist() == [1, 2, 3, 4]
    assert tree["block_id"].tolist()[1:3] == ["BlockL1-1A0", "BlockL2-1A0"]
    assert tree["code_range"].tolist()[1:3] == ["1A00-1A40.Z", "1A00-1A0Z"]
    anc = real_icd.ancestors("1A00")
    assert anc["id"].tolist() == ["1435254666", "588616678", "135352227"]
    assert anc["depth"].tolist() == [1, 2, 3]
    kids = real_icd.children("135352227")
    assert kids["code"].tolist() == ["1A00"] and kids["depth"].tolist() == [4]


def test_search_real_answer_and_error_flag(real_icd):
    df = real_icd.search("fever")
    assert df.columns.tolist() == F.SEARCH_COLUMNS
    assert df["code"].tolist()[:2] == ["MG26", "4A60.0"]
    assert df.attrs["result_chopped"] is True
    empty = real_icd.search("nothing")
    assert empty.empty and empty.columns.tolist() == F.SEARCH_COLUMNS
    with pytest.raises(ApiError) as exc:
        real_icd.search("broken query")
    assert "Search failed for 'broken query'" in str(exc.value)
    assert exc.value.provider == "icd" and "search" in exc.value.url


def test_autocode_one_row_per_text(real_icd):
    df = real_icd.autocode(["cerebrovascular accident", "cholera"])
    assert df.columns.tolist() == F.AUTOCODE_COLUMNS
    assert df["text"].tolist() == ["cerebrovascular accident", "cholera"]
    assert df.loc[0, "code"] == "8B20" and df.loc[0, "id"] == "1442995018"
    assert df["code"].isna().tolist() == [False, True]
    assert real_icd.autocode([]).columns.tolist() == F.AUTOCODE_COLUMNS


def test_unknown_code_names_code_and_release(real_icd):
    with pytest.raises(NotFound) as exc:
        real_icd.code("AA00")
    text = str(exc.value)
    assert "'AA00'" in text and "2025-01" in text and "What to do" in text


def test_unknown_release_lists_the_releases(real, tmp_path):
    icd = explorer.connect("icd", base_url=real.url, auth=None, release="3124-01",
                           cache=False, progress=False)
    with pytest.raises(NotFound) as exc:
        icd.chapters()
    assert "'3124-01'" in str(exc.value) and "2026-01" in str(exc.value)


def test_unsupported_language_lists_the_release_languages(real):
    icd = explorer.connect("icd", base_url=real.url, auth=None, release="2025-01",
                           language="de", cache=False, progress=False)
    with pytest.raises(NotFound) as exc:
        icd.code("1A00")
    text = str(exc.value)
    assert "'de'" in text and "2025-01" in text and "kk, la, pt" in text


def test_latest_release_by_default_and_payload_uris_stay_on_the_server(real):
    icd = explorer.connect("icd", base_url=real.url, auth=None, cache=False, progress=False)
    assert icd._ctx.release_id is None
    # the server lists 2026-01 as latest, and has no 2026-01 content: a clear NotFound
    with pytest.raises(NotFound):
        icd.chapters()
    assert icd._ctx.release_id == "2026-01"
    assert all(s.path.startswith("/icd/") for s in real.seen)


def test_foundation_entity_keeps_every_parent(real_icd):
    s = real_icd.entity("http://id.who.int/icd/entity/1435254666")
    assert s["linearization"] == "foundation" and s["parent_ids"] == ["455013390"]
    assert s["title"] == "Certain infectious or parasitic diseases"


def test_codes_never_leave_their_route(real_icd, real):
    with pytest.raises(NotFound):
        real_icd.code("1A00/../../search")
    assert real.count("/icd/release/11/2025-01/mms/search") == 0
    assert "/codeinfo/" in real.seen[-1].path
