"""Small things found on the way: codes in any case, ids and URIs untouched, and misspelt
keyword arguments answered with the closest real one (sandbox, real sockets)."""

from __future__ import annotations

import inspect

import pytest

import explorer
from explorer.apis.icd import IcdSession
from explorer.errors import ConfigurationError, NotFound


def test_codes_in_any_case(icd_auth):
    row = icd_auth.code("1a00")
    assert (row["query"], row["code"], row["title"]) == ("1a00", "1A00", "Cholera")
    assert icd_auth.code(" 1f0y ")["code"] == "1F0Y"
    assert icd_auth.code("2c25.z&xk8g")["code"] == "2C25.Z&XK8G"
    assert icd_auth.codes(["1a00", "8b20"])["code"].tolist() == ["1A00", "8B20"]
    assert icd_auth.tree("1a03")["code"].iloc[0] == "1A03"
    assert icd_auth.ancestors("1a00")["class_kind"].tolist() == ["chapter", "block", "block"]
    assert icd_auth.icd10().code("a00.0")["code"] == "A00.0"


def test_ids_and_uris_are_not_upper_cased(icd_auth):
    assert icd_auth.entity("1646490591/other")["id"] == "1646490591/other"
    uri = "http://id.who.int/icd/release/11/2025-01/mms/257068234"
    assert icd_auth.entity(uri)["code"] == "1A00"
    with pytest.raises(NotFound, match="'1A99'"):
        icd_auth.code("1a99")


@pytest.mark.parametrize(("call", "wrong", "right"), [
    (lambda icd: icd.search("cholera", chapter="01"), "chapter", "chapters"),
    (lambda icd: icd.tree("01", maxdepth=1), "maxdepth", "max_depth"),
    (lambda icd: icd.codes(["1A00"], error="ignore"), "error", "errors"),
    (lambda icd: icd.autocode("cholera", treshold=0.5), "treshold", "threshold"),
    (lambda icd: icd.compare("2024-01", chapter="01"), "chapter", "chapters"),
    (lambda icd: icd.entity("257068234", fondation=True), "fondation", "foundation"),
    (lambda icd: explorer.icd.read_tabulation("x.txt", grouping=True), "grouping",
     "groupings"),
    (lambda icd: explorer.icd.read_mapping("mapping.zip", table=["x"]), "table", "tables"),
])
def test_misspelt_keyword_names_the_real_one(icd_auth, call, wrong, right):
    with pytest.raises(ConfigurationError) as err:
        call(icd_auth)
    assert f"unknown keyword argument {wrong!r}" in str(err.value)
    assert f"did you mean {right}=?" in err.value.hint
    assert err.value.provider == "icd"


def test_no_suggestion_when_nothing_is_close_and_signatures_are_kept(icd_auth):
    with pytest.raises(ConfigurationError) as err:
        icd_auth.search("cholera", zzz=1)
    assert "did you mean" not in err.value.hint and "chapters=" in err.value.hint
    assert "chapters" in inspect.signature(IcdSession.search).parameters
    assert IcdSession.search.__doc__.startswith("Search the release")
