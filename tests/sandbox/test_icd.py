"""ICD-API emulator over real loopback sockets (``explorer.sandbox.start()``)."""

from __future__ import annotations

import time
from urllib.parse import quote, quote_plus

import pytest
import requests

from explorer import sandbox
from explorer.sandbox import synthetic_icd

R = "http://id.who.int/icd/release/11"
STUB_TOKEN = "stub-icd-token"


class Env:
    def __init__(self, base, container, token):
        self.base, self.container, self.token = base, container, token
        self.http = requests.Session()
        self.http.headers.pop("Accept", None)  # so that a missing Accept really is missing

    def headers(self, lang="en", auth=True, **extra):
        h = {"Accept": "application/json", "API-Version": "v2", "Accept-Language": lang}
        if auth:
            h["Authorization"] = f"Bearer {self.token}"
        h.update(extra)
        return {k: v for k, v in h.items() if v is not None}

    def get(self, path, lang="en", container=False, method="GET", **kw):
        base = self.container if container else self.base
        headers = kw.pop("headers", None) or self.headers(lang, auth=not container)
        return self.http.request(method, base + path, headers=headers, timeout=10, **kw)

    def json(self, path, **kw):
        r = self.get(path, **kw)
        assert r.status_code == 200, (path, r.status_code, r.text)
        return r.json()


@pytest.fixture(scope="module")
def icd():
    with sandbox.start() as sb:
        creds = sb.credentials("icd")
        # RFC 6749 §2.3.1: form-urlencode each half before Basic (the secret holds + % :).
        basic = (quote_plus(creds["client_id"]), quote_plus(creds["client_secret"]))
        r = requests.post(creds["token_url"], auth=basic,
                          data={"grant_type": "client_credentials", "scope": "icdapi_access"},
                          timeout=10)
        r.raise_for_status()
        container = sb.credentials("icd", auth=False)["base_url"]
        yield Env(creds["base_url"], container, r.json()["access_token"])


@pytest.fixture(scope="module")
def synth():
    with sandbox.start(synthetic_icd=2500) as sb:
        container = sb.credentials("icd", auth=False)["base_url"]
        yield Env(container, container, "")


# --- release / top level ----------------------------------------------------------------------

def test_multiversion(icd):
    body = icd.json("/icd/release/11/mms")
    assert list(body) == ["@context", "@id", "title", "latestRelease", "release"]
    assert body["latestRelease"] == f"{R}/2026-01/mms"
    assert body["release"][:3] == [f"{R}/2026-01/mms", f"{R}/2025-01/mms", f"{R}/2024-01/mms"]
    entity = icd.json("/icd/release/11/mms/257068234")
    assert entity["release"][0] == f"{R}/2026-01/mms/257068234"
    assert icd.json("/icd/release/11/mms/1646490591/other")["@id"].endswith("/1646490591/other")


def test_top_level_2026_and_2025(icd):
    body = icd.json("/icd/release/11/2026-01/mms")
    assert list(body) == ["@context", "@id", "title", "releaseId", "releaseDate",
                          "availableLanguages", "prereleaseLanguages", "child", "browserUrl"]
    assert body["releaseDate"] == "2026-01-17" and body["prereleaseLanguages"] == ["de"]
    assert len(body["child"]) == 28
    assert body["child"][0] == f"{R}/2026-01/mms/1435254666"
    assert body["child"][-1] == f"{R}/2026-01/mms/979408586"
    assert body["browserUrl"] == "https://icd.who.int/browse/2026-01/mms/en"
    old = icd.json("/icd/release/11/2025-01/mms")
    assert "prereleaseLanguages" not in old and old["releaseDate"] == "2025-01-24"
    assert "de" not in old["availableLanguages"]


# --- entities ---------------------------------------------------------------------------------

def test_category_1a00_shape(icd):
    body = icd.json("/icd/release/11/2025-01/mms/257068234")
    assert list(body)[:8] == ["@context", "@id", "parent", "browserUrl", "code", "source",
                              "classKind", "postcoordinationScale"]
    assert "child" not in body and "blockId" not in body
    assert body["parent"] == [f"{R}/2025-01/mms/135352227"]
    assert body["browserUrl"] == "https://icd.who.int/browse/2025-01/mms/en#257068234"
    assert body["title"] == {"@language": "en", "@value": "Cholera"}
    scale = body["postcoordinationScale"][0]
    assert scale["requiredPostcoordination"] == "false"
    assert scale["axisName"] == "http://id.who.int/icd/schema/infectiousAgent"
    assert body["indexTerm"][5]["foundationReference"].startswith("http://id.who.int/icd/entity/")
    assert all(v is not None for v in body.values())


def test_chapter_and_blocks(icd):
    chapter = icd.json("/icd/release/11/2025-01/mms/1435254666")
    assert chapter["code"] == "01" and chapter["classKind"] == "chapter"
    assert chapter["parent"] == [f"{R}/2025-01/mms"]
    assert chapter["child"][0] == f"{R}/2025-01/mms/588616678"
    assert chapter["child"][-1] == f"{R}/2025-01/mms/1435254666/unspecified"
    fce = chapter["foundationChildElsewhere"][0]
    assert set(fce) == {"label", "foundationReference", "linearizationReference"}
    block = icd.json("/icd/release/11/2025-01/mms/588616678")
    assert block["code"] == "" and block["blockId"] == "BlockL1-1A0"
    assert block["codeRange"] == "1A00-1A40.Z"
    kka6 = icd.json("/icd/release/11/2025-01/mms/911707612")
    assert kka6["parent"] == [f"{R}/2025-01/mms/1306203631"]
    assert kka6["codeRange"] == "KA60-KA6Z" and kka6["child"][-1].endswith("/unspecified")
    assert icd.json("/icd/release/11/2024-01/mms/461716838")["codeRange"] == "5A00-5B3Z"
    assert icd.json("/icd/release/11/2024-01/mms/1147802348")["blockId"] == "BlockL2-2A3"
    assert icd.json("/icd/release/11/2024-01/mms/1503334455")["classKind"] == "window"


def test_residuals(icd):
    y = icd.json("/icd/release/11/2024-01/mms/515117475/other")
    z = icd.json("/icd/release/11/2024-01/mms/515117475/unspecified")
    assert (y["code"], z["code"]) == ("1A09.Y", "1A09.Z")
    assert y["parent"] == [f"{R}/2024-01/mms/515117475"] and "source" not in y
    assert icd.json("/icd/release/11/2024-01/mms/78422942/unspecified")["code"] == "1A11.Z"
    assert icd.get("/icd/release/11/2024-01/mms/78422942/other").status_code == 404
    assert icd.json("/icd/release/11/2024-01/mms/1777228366/other")["code"] == "1A36.1Y"
    assert icd.get("/icd/release/11/2024-01/mms/1777228366/unspecified").status_code == 404
    kids = icd.json("/icd/release/11/2024-01/mms/1540965840")["child"]
    assert len(kids) == 5 and kids[-2].endswith("/other") and kids[-1].endswith("/unspecified")


def test_ground_truth_pairs(icd):
    pairs = {"1528863768": "2B30", "831518052": "5C90.0", "218513628": "9B71.1",
             "557175275": "8B25.4", "1442995018": "8B20", "1646490591/other": "1F0Y"}
    for key, code in pairs.items():
        assert icd.json(f"/icd/release/11/2024-01/mms/{key}")["code"] == code
    stroke = icd.json("/icd/release/11/2024-01/mms/1442995018")
    assert stroke["parent"] == [f"{R}/2024-01/mms/843843448"]
    assert [a["axisName"].rsplit("/", 1)[1] for a in stroke["postcoordinationScale"]] == [
        "laterality", "hasManifestation"]
    axes = icd.json("/icd/release/11/2024-01/mms/1780040028")["postcoordinationScale"]
    assert len(axes) == 3
    hodgkin = icd.json("/icd/release/11/2024-01/mms/1528863768")
    assert hodgkin["definition"]["@value"].startswith("Malignant lymphomas, previously known")


def test_include_parameters(icd):
    plain = icd.json("/icd/release/11/2024-01/mms/523677473")
    assert plain["code"] == "6E40" and "diagnosticCriteria" not in plain
    dc = icd.json("/icd/release/11/2024-01/mms/523677473?include=diagnosticCriteria")
    assert dc["diagnosticCriteria"]["@value"].startswith("# 6E40 General Diagnostic")
    both = icd.json("/icd/release/11/2025-01/mms/257068234?include=ancestor,descendant")
    assert both["ancestor"] == [f"{R}/2025-01/mms/{k}"
                                for k in ("135352227", "588616678", "1435254666")]
    assert "descendant" not in both  # leaf: empty lists are omitted
    desc = icd.json("/icd/release/11/2025-01/mms/588616678?include=descendant")["descendant"]
    assert f"{R}/2025-01/mms/257068234" in desc


def test_languages(icd):
    ar = icd.json("/icd/release/11/2025-01/mms/257068234", lang="ar")
    assert ar["title"] == {"@language": "ar", "@value": "الكُوليرا"}
    assert ar["fullySpecifiedName"]["@value"].endswith("[No translation available]")
    assert "definition" not in ar
    assert icd.get("/icd/release/11/2025-01/mms/257068234", lang="de").status_code == 404
    de = icd.json("/icd/release/11/2026-01/mms/257068234", lang="de")
    assert de["title"]["@language"] == "de"


# --- codeinfo / lookup / search / autocode ------------------------------------------------------

def test_codeinfo(icd):
    body = icd.json("/icd/release/11/2024-01/mms/codeinfo/8B20")
    assert body == {"@context": "http://id.who.int/icd/contexts/contextForCodeInfo.json",
                    "@id": f"{R}/2024-01/mms/codeinfo/8B20", "code": "8B20",
                    "stemId": f"{R}/2024-01/mms/1442995018"}
    assert icd.json("/icd/release/11/2026-01/mms/codeinfo/5A11")["stemId"].endswith("/119724091")
    assert icd.json("/icd/release/11/2024-01/mms/codeinfo/1F0Y")["stemId"].endswith(
        "/1646490591/other")
    assert icd.json("/icd/release/11/2024-01/mms/codeinfo/13")["stemId"].endswith("/1256772020")
    post = icd.json("/icd/release/11/2024-01/mms/codeinfo/" + quote("2C25.Z&XK8G", safe=""))
    assert post["code"] == "2C25.Z&XK8G" and post["stemCode"] == "2C25.Z"
    assert post["stemId"] == f"{R}/2024-01/mms/316539081/unspecified"
    assert post["laterality"] == ["XK8G"] and post["@id"].endswith("2C25.Z%26XK8G")
    for bad in ("5A00-5B3Z", "banana", "AA00", quote("2C25.Z&XQQQ", safe="")):
        r = icd.get(f"/icd/release/11/2024-01/mms/codeinfo/{bad}")
        assert r.status_code == 404 and r.content == b""
    flex = icd.json("/icd/release/11/2024-01/mms/codeinfo/" + quote("2C25.Z&XQQQ", safe="")
                    + "?flexiblemode=true")
    assert flex["otherPostcoordination"] == ["XQQQ"]


def test_lookup(icd):
    uri = quote("http://id.who.int/icd/entity/1442995018", safe="")
    assert icd.json(f"/icd/release/11/2024-01/mms/lookup?foundationUri={uri}")["code"] == "8B20"
    grouping = quote("http://id.who.int/icd/entity/135352227", safe="")
    body = icd.json(f"/icd/release/11/2024-01/mms/lookup?foundationUri={grouping}")
    assert body["code"] == "1A0Z"
    shore = quote("http://id.who.int/icd/entity/1205958647", safe="")
    assert icd.json(f"/icd/release/11/2025-01/mms/lookup?foundationUri={shore}")["code"] == "1A00"
    assert icd.get("/icd/release/11/2025-01/mms/lookup?foundationUri=x").status_code == 404


SEARCH_KEYS = ["error", "errorMessage", "resultChopped", "wordSuggestionsChopped", "guessType",
               "uniqueSearchId", "words", "destinationEntities"]
RESULT_KEYS = ["id", "title", "stemId", "isLeaf", "postcoordinationAvailability", "hasCodingNote",
               "hasMaternalChapterLink", "hasPerinatalChapterLink", "matchingPVs",
               "propertiesTruncated", "isResidualOther", "isResidualUnspecified", "chapter",
               "theCode", "score", "titleIsASearchResult", "titleIsTopScore", "entityType",
               "important", "descendants"]


def test_search_fever_and_malaria(icd):
    body = icd.json("/icd/release/11/2024-01/mms/search?q=fever")
    assert list(body) == SEARCH_KEYS and body["words"] is None and body["error"] is False
    first = body["destinationEntities"][0]
    assert list(first) == RESULT_KEYS
    assert first["theCode"] == "MG26"
    assert first["title"] == "<em class='found'>Fever</em> of other or unknown origin"
    assert set(first["matchingPVs"][0]) == {"propertyId", "label", "score", "important",
                                            "foundationUri", "propertyValueType"}
    codes = {e["theCode"] for e in body["destinationEntities"]}
    assert {"MG26", "4A60.0", "1D81.Z", "1B99", "JB40.0", "1C33", "NF01.0"} <= codes
    malaria = icd.json("/icd/release/11/2024-01/mms/search?q=malaria")
    codes = {e["theCode"] for e in malaria["destinationEntities"]}
    assert {"1F45", "1F4Z", "1F42.Z", "KA64.1"} <= codes
    post = icd.get("/icd/release/11/2024-01/mms/search?q=cholera", method="POST").json()
    assert post["destinationEntities"][0]["theCode"] == "1A00"


def test_search_flags(icd):
    plain = icd.json("/icd/release/11/2024-01/mms/search?q=fever&highlightingEnabled=false")
    assert "<em" not in str(plain)
    only = icd.json("/icd/release/11/2024-01/mms/search?q=fever&chapterFilter=04;18")
    assert {e["chapter"] for e in only["destinationEntities"]} == {"04", "18"}
    wild = icd.json("/icd/release/11/2024-01/mms/search?q=chol%25")
    assert "1A00" in {e["theCode"] for e in wild["destinationEntities"]}
    strict = icd.json("/icd/release/11/2024-01/mms/search?q=cholera%20zzzz")
    assert strict["destinationEntities"] == []
    flexi = icd.json("/icd/release/11/2024-01/mms/search?q=cholera%20zzzz&useFlexisearch=true")
    assert flexi["destinationEntities"]
    nested = icd.json("/icd/release/11/2024-01/mms/search?q=malaria&flatResults=false")
    top = {e["theCode"]: e for e in nested["destinationEntities"]}
    assert "1F40.0" not in top and any(d["theCode"] == "1F40.0"
                                       for d in top["1F40"]["descendants"])
    words = icd.json("/icd/release/11/2024-01/mms/search?q=mala&includeKeywordResult=true")
    assert words["words"] and set(words["words"][0]) == {"label", "dontChangeResult"}
    for q in ("", "%20", "!!!"):
        err = icd.json(f"/icd/release/11/2024-01/mms/search?q={q}")
        assert err["error"] is True and err["errorMessage"]
    assert icd.json("/icd/release/11/2024-01/mms/search?q=Glandular")["destinationEntities"][0][
        "isResidualUnspecified"] is True


def test_autocode(icd):
    hit = icd.json("/icd/release/11/2024-01/mms/autocode?searchText=Cerebrovascular%20accident")
    assert list(hit) == ["searchText", "matchingText", "theCode", "foundationURI",
                         "linearizationURI", "matchLevel", "matchScore", "matchType", "isTitle"]
    assert hit["theCode"] == "8B20" and hit["matchScore"] == 1
    assert hit["foundationURI"] == "http://id.who.int/icd/entity/1442995018"
    near = icd.json("/icd/release/11/2024-01/mms/autocode?searchText="
                    + quote("Patient with cerebrovascular accident"))
    assert near["theCode"] == "8B20" and 0 < near["matchScore"] < 1
    miss = icd.json("/icd/release/11/2024-01/mms/autocode?searchText=cholera&matchThreshold=1.5")
    assert miss == {"searchText": "cholera", "matchLevel": 3, "matchScore": 0, "matchType": 0,
                    "isTitle": False}


# --- foundation -------------------------------------------------------------------------------

def test_foundation(icd):
    top = icd.json("/icd/entity")
    assert top["@id"] == "http://id.who.int/icd/entity" and top["releaseId"] == "2026-01"
    assert top["title"]["@value"] == "WHO Family of International Classifications Foundation"
    chapter = icd.json("/icd/entity/1435254666")
    assert list(chapter)[:5] == ["@context", "@id", "parent", "child", "browserUrl"]
    assert chapter["parent"] == ["http://id.who.int/icd/entity/455013390"]
    assert chapter["browserUrl"] == (
        "https://icd.who.int/browse/2026-01/foundation/en#1435254666")
    assert chapter["synonym"][0]["label"]["@value"] == "infection NOS"
    assert "linearizationReference" not in chapter["exclusion"][0]
    multi = icd.json("/icd/entity/911707612")
    assert len(multi["parent"]) == 2
    assert icd.get("/icd/entity/1646490591/other").status_code == 404
    assert icd.get("/icd/entity/5").status_code == 404
    assert icd.json("/icd/entity?releaseId=2024-01")["releaseId"] == "2024-01"
    found = icd.json("/icd/entity/search?q=cholera")["destinationEntities"][0]
    assert found["theCode"] is None and found["id"] == "http://id.who.int/icd/entity/257068234"


# --- ICD-10 -----------------------------------------------------------------------------------

def test_icd10(icd):
    assert icd.json("/icd/release/10")["latestRelease"] == "http://id.who.int/icd/release/10/2019"
    top = icd.json("/icd/release/10/2019")
    assert top["child"][0].endswith("/2019/I") and top["child"][-1].endswith("/2019/XXII")
    assert top["releaseDate"] == "2020-02-01"
    a00 = icd.json("/icd/release/10/2019/A00")
    assert a00["parent"] == ["http://id.who.int/icd/release/10/2019/A00-A09"]
    assert len(a00["child"]) == 3 and a00["classKind"] == "category"
    block = icd.json("/icd/release/10/2019/A00-A09")
    assert block["classKind"] == "block" and block["parent"][0].endswith("/2019/I")
    assert icd.json("/icd/release/10/2019/M54.5")["title"]["@value"] == "Low back pain"
    assert icd.json("/icd/release/10/A00")["release"][-1].endswith("/10/2008/A00")
    assert icd.get("/icd/release/10/2019/ZZZ").status_code == 404
    assert icd.get("/icd/release/10/2019", container=True).status_code == 404


# --- headers, errors, auth ----------------------------------------------------------------------

def test_404_bodies_are_empty(icd):
    for path in ("/icd/release/11/2025-01/mms/5", "/icd/release/11/3124-01/mms",
                 "/icd/release/11/2025-01/mms/257068234/bogus", "/nothing"):
        r = icd.get(path)
        assert r.status_code == 404 and r.content == b""
        assert r.headers.get("Content-Length") == "0"
    r = icd.get("/icd/release/11/2025-01/mms", lang="onion")
    assert r.status_code == 404 and r.content == b""


def test_header_rules(icd):
    path = "/icd/release/11/2025-01/mms/257068234"
    r = icd.get(path, headers=icd.headers(**{"API-Version": None}))
    assert r.status_code == 400 and "API-Version" in r.text
    assert icd.get(path, headers=icd.headers(Accept=None)).status_code == 412
    assert icd.get(path, headers=icd.headers(lang=None)).status_code == 404
    ld = icd.get(path, headers=icd.headers(Accept="application/ld+json"))
    assert ld.headers["Content-Type"].startswith("application/ld+json")
    assert icd.get(path).headers["Content-Type"].startswith("application/json")
    assert icd.get("/icd/entity", method="HEAD").status_code == 405
    assert icd.get("/icd/entity", method="HEAD", container=True).status_code == 405


def test_auth_required_only_on_who_host(icd):
    path = "/icd/release/11/2025-01/mms/257068234"
    r = icd.get(path, headers=icd.headers(auth=False))
    assert r.status_code == 401 and r.content == b""
    assert r.headers.get("WWW-Authenticate", "").startswith("Bearer")
    bad = icd.get(path, headers=icd.headers(Authorization="Bearer nope"))
    assert bad.status_code == 401 and bad.content == b""
    assert 'error="invalid_token"' in bad.headers.get("WWW-Authenticate", "")
    local = icd.get(path, container=True)
    assert local.status_code == 200
    assert local.json()["@id"] == f"{R}/2025-01/mms/257068234"  # URIs stay id.who.int
    assert local.json() == icd.json(path)


# --- synthetic tree -----------------------------------------------------------------------------

def test_synthetic_generator_shapes():
    tree = synthetic_icd.generate(30000, seed=1)
    assert len(tree) == 30000
    kinds = {r["kind"] for r in tree.records.values()}
    assert kinds == {"chapter", "block", "category"}
    payloads = synthetic_icd.payloads(2000, seed=1)
    assert len(payloads) == 2000
    assert payloads[0]["code"] == "S1" and payloads[0]["classKind"] == "chapter"
    block = payloads[1]
    assert block["code"] == "" and block["blockId"] == "BlockL1-S1A"
    assert block["codeRange"] == "S1A0-S1AZ"
    codes = {p["code"] for p in payloads}
    assert {"S1A0", "S1AY", "S1AZ"} <= codes
    assert any(c.startswith("S1A") and "." in c for c in codes)
    assert any(p["@id"].endswith("/other") and p["code"].endswith("Y") for p in payloads)
    assert all(p["title"]["@value"].startswith(("Synthetic", "Other specified synthetic"))
               for p in payloads)
    assert synthetic_icd.payloads(50, seed=3) == synthetic_icd.payloads(50, seed=3)
    assert all(int(p["@id"].rsplit("/mms/", 1)[1].split("/")[0]) >= 3_000_000_000
               for p in payloads)


def test_synthetic_tree_is_crawlable(synth):
    top = synth.json("/icd/release/11/2026-01/mms")
    assert len(top["child"]) == 29
    chapter = top["child"][-1].rsplit("/mms/", 1)[1]
    seen, todo, started = 0, [chapter], time.time()
    session = synth.http
    headers = synth.headers()
    while todo:
        key = todo.pop()
        r = session.get(f"{synth.base}/icd/release/11/2026-01/mms/{key}", headers=headers,
                        timeout=10)
        assert r.status_code == 200
        seen += 1
        todo.extend(c.rsplit("/mms/", 1)[1] for c in r.json().get("child", []))
    assert seen == 2500 and time.time() - started >= 0
    info = synth.json("/icd/release/11/2026-01/mms/codeinfo/S1A0")
    assert info["stemId"].endswith("/3000000002")
    assert synth.json("/icd/release/11/2025-01/mms")["child"][-1].endswith("/3000000000")
