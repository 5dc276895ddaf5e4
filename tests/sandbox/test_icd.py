"""ICD-API emulator over real loopback sockets (``explorer.sandbox.start()``): payloads of the
real classification (WHO's 2024-01 and 2025-01 SimpleTabulation files), codeinfo, lookup,
foundation, ICD-10, header rules, auth and the synthetic chapter."""

from __future__ import annotations

import time
from urllib.parse import quote, quote_plus

import pytest
import requests

from explorer import sandbox
from explorer.sandbox import synthetic_icd

R = "http://id.who.int/icd/release/11"
F = "http://id.who.int/icd/entity"


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
        return self.http.request(method, base + path, headers=headers, timeout=20, **kw)

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

def test_multiversion_lists_exactly_the_served_releases(icd):
    body = icd.json("/icd/release/11/mms")
    assert list(body) == ["@context", "@id", "title", "latestRelease", "release"]
    assert body["latestRelease"] == f"{R}/2025-01/mms"
    assert body["release"] == [f"{R}/2025-01/mms", f"{R}/2024-01/mms"]
    entity = icd.json("/icd/release/11/mms/257068234")
    assert entity["release"] == [f"{R}/2025-01/mms/257068234", f"{R}/2024-01/mms/257068234"]
    assert icd.json("/icd/release/11/mms/1646490591/other")["@id"].endswith("/1646490591/other")
    for gone in ("/icd/release/11/2026-01/mms", "/icd/release/11/2023-01/mms",
                 "/icd/release/11/icf", "/icd/release/11/mms/5"):
        assert icd.get(gone).status_code == 404, gone


def test_top_level_from_the_files(icd):
    body = icd.json("/icd/release/11/2025-01/mms")
    assert list(body) == ["@context", "@id", "title", "releaseId", "availableLanguages",
                          "releaseDate", "child", "browserUrl"]
    assert body["releaseDate"] == "2025-01-24" and body["availableLanguages"] == ["en"]
    assert len(body["child"]) == 28
    assert body["child"][0] == f"{R}/2025-01/mms/1435254666"
    assert body["child"][-1] == f"{R}/2025-01/mms/979408586"
    assert body["browserUrl"] == "https://icd.who.int/browse/2025-01/mms/en"
    old = icd.json("/icd/release/11/2024-01/mms")
    assert old["releaseDate"] == "2024-01-21" and old["child"] == [
        c.replace("/2025-01/", "/2024-01/") for c in body["child"]]


# --- entities ---------------------------------------------------------------------------------

def test_category_1a00_file_and_real_payload_layered(icd):
    body = icd.json("/icd/release/11/2025-01/mms/257068234")
    assert list(body)[:8] == ["@context", "@id", "parent", "browserUrl", "code", "source",
                              "classKind", "postcoordinationScale"]
    assert "child" not in body and "blockId" not in body
    assert body["parent"] == [f"{R}/2025-01/mms/135352227"]
    # the URL inside the file's =hyperlink(...) formula
    assert body["browserUrl"] == "https://icd.who.int/browse/latestrelease/mms/en#257068234"
    assert body["title"] == {"@language": "en", "@value": "Cholera"}
    assert body["fullySpecifiedName"]["@value"] == "Intestinal infection due to Vibrio cholerae"
    scale = body["postcoordinationScale"][0]
    assert scale["requiredPostcoordination"] == "false"
    assert scale["axisName"] == "http://id.who.int/icd/schema/infectiousAgent"
    assert body["indexTerm"][5]["foundationReference"].startswith(F + "/")
    assert all(v is not None for v in body.values())
    old = icd.json("/icd/release/11/2024-01/mms/257068234")
    assert old["browserUrl"] == ("https://icd.who.int/browse11/l-m/en#/"
                                 "http%3A%2F%2Fid.who.int%2Ficd%2Fentity%2F257068234")


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
    assert block["codeRange"] == "1A00-1A40.Z"  # the real value, derived from the codes below
    assert "foundationChildElsewhere" not in block  # the old Arabic-only terms are gone
    ka6 = icd.json("/icd/release/11/2025-01/mms/911707612")
    assert ka6["parent"] == [f"{R}/2025-01/mms/1306203631"]
    assert ka6["codeRange"] == "KA60-KA6Z" and ka6["child"][-1].endswith("/unspecified")
    assert icd.json("/icd/release/11/2024-01/mms/461716838")["codeRange"] == "5A00-5B3Z"
    b2a3 = icd.json("/icd/release/11/2024-01/mms/1147802348")
    assert (b2a3["blockId"], b2a3["codeRange"]) == ("BlockL2-2A3", "2A30-2A3Z")
    # 1503334455 is not in the file (a window): not served rather than invented
    assert icd.get("/icd/release/11/2024-01/mms/1503334455").status_code == 404


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
    assert "postcoordinationScale" not in icd.json("/icd/release/11/2024-01/mms/1780040028")
    hodgkin = icd.json("/icd/release/11/2024-01/mms/1528863768")
    assert hodgkin["definition"]["@value"].startswith("Malignant lymphomas, previously known")
    assert "indexTerm" not in icd.json("/icd/release/11/2024-01/mms/831518052")  # not invented


def test_include_parameters(icd):
    plain = icd.json("/icd/release/11/2024-01/mms/523677473")
    assert plain["code"] == "6E40" and "diagnosticCriteria" not in plain
    dc = icd.json("/icd/release/11/2024-01/mms/523677473?include=diagnosticCriteria")
    assert dc["diagnosticCriteria"]["@value"].startswith("# 6E40 General Diagnostic")
    both = icd.json("/icd/release/11/2025-01/mms/257068234?INCLUDE=ancestor,descendant")
    assert both["ancestor"] == [f"{R}/2025-01/mms/{k}"
                                for k in ("135352227", "588616678", "1435254666")]
    assert "descendant" not in both  # leaf: empty lists are omitted
    desc = icd.json("/icd/release/11/2025-01/mms/588616678?include=descendant")["descendant"]
    assert f"{R}/2025-01/mms/257068234" in desc
    assert desc[-1] == f"{R}/2025-01/mms/1688127370/unspecified"  # tabular order


def test_whole_chapter_is_served_and_consistent(icd):
    """Chapter 25 crawled over HTTP: every row of the file, parents and children agree."""
    from explorer.sandbox.icd_data import IcdStore

    rel = IcdStore().release("2025-01")
    chapter = rel.by_code["25"]
    expected = {rel.keys[r] for r in range(chapter, rel.ends[chapter])}
    seen, todo, parents, started = set(), [rel.keys[chapter]], {}, time.monotonic()
    while todo and len(seen) <= len(expected) and time.monotonic() - started < 60:
        key = todo.pop()
        body = icd.json(f"/icd/release/11/2025-01/mms/{key}")
        seen.add(key)
        assert body["title"]["@value"] == rel.title(rel.index[key])
        for child in body.get("child", ()):
            ckey = child.split("/mms/", 1)[1]
            parents[ckey] = key
            todo.append(ckey)
    assert seen == expected
    for ckey, pkey in parents.items():
        assert rel.keys[rel.parents[rel.index[ckey]]] == pkey


def test_languages_are_those_of_the_files(icd):
    for lang in ("ar", "de", "fr"):
        r = icd.get("/icd/release/11/2025-01/mms/257068234", lang=lang)
        assert r.status_code == 404 and r.content == b""
    assert icd.json("/icd/release/11/2025-01/mms/257068234", lang="en-GB")["code"] == "1A00"


# --- codeinfo / lookup --------------------------------------------------------------------------

def test_codeinfo(icd):
    body = icd.json("/icd/release/11/2024-01/mms/codeinfo/8B20")
    assert body == {"@context": "http://id.who.int/icd/contexts/contextForCodeInfo.json",
                    "@id": f"{R}/2024-01/mms/codeinfo/8B20", "code": "8B20",
                    "stemId": f"{R}/2024-01/mms/1442995018"}
    assert icd.json("/icd/release/11/2025-01/mms/codeinfo/5A11")["stemId"].endswith("/119724091")
    assert icd.json("/icd/release/11/2024-01/mms/codeinfo/1F0Y")["stemId"].endswith(
        "/1646490591/other")
    assert icd.json("/icd/release/11/2024-01/mms/codeinfo/13")["stemId"].endswith("/1256772020")
    # (AA00, 404 on a 2026-01 container, exists in 2024-01 and 2025-01: Abscess of external ear)
    for bad in ("5A00-5B3Z", "banana", "ZZ99", quote("8B20&XQQQ", safe="")):
        r = icd.get(f"/icd/release/11/2024-01/mms/codeinfo/{bad}")
        assert r.status_code == 404 and r.content == b""
    terminal = icd.json("/icd/release/11/2025-01/mms/codeinfo/1A03?convertToTerminalCodes=true")
    assert terminal["code"] == "1A03.Z" and terminal["stemId"].endswith("/344162786/unspecified")


def test_codeinfo_checks_values_against_the_stems_axes(icd):
    def info(code, query=""):
        return icd.get(f"/icd/release/11/2025-01/mms/codeinfo/{quote(code, safe='')}{query}")

    post = info("8B20&XK8G").json()  # laterality 'Left' on stroke: a real axis of 8B20
    assert post["code"] == "8B20&XK8G" and post["stemCode"] == "8B20"
    assert post["stemId"] == f"{R}/2025-01/mms/1442995018"
    assert post["laterality"] == ["XK8G"] and post["@id"].endswith("8B20%26XK8G")
    agent = info("1A00&XN8P1").json()  # Vibrio cholerae O1 biovar cholerae on cholera
    assert agent["infectiousAgent"] == ["XN8P1"]
    assert info("1A00/MG50").json()["associatedWith"] == ["MG50"]
    lung = info("2C25.Z&XK8G&XA9HN5").json()  # WHO's own example (API 2.0 release notes)
    assert lung["stemId"] == f"{R}/2025-01/mms/316539081/unspecified"
    assert (lung["laterality"], lung["specificAnatomy"]) == (["XK8G"], ["XA9HN5"])
    for wrong in ("1A00&XK8G",  # laterality on cholera: not an axis of 1A00
                  "8B20&XK8G&XK9K",  # a second laterality (NotAllowed)
                  "8B20&8B26",  # a stem code joined with '&'
                  "2C25.Z&XK9K"):  # 2C25.Z's value sets are not shipped: only seen values
        r = info(wrong)
        assert r.status_code == 404 and r.content == b"", wrong
    flex = info("1A00&XK8G", "?flexiblemode=true").json()
    assert flex["otherPostcoordination"] == ["XK8G"] and flex["stemCode"] == "1A00"
    assert info("8B20&XQQQ", "?FlexibleMode=true").json()["otherPostcoordination"] == ["XQQQ"]


def test_lookup(icd):
    uri = quote(f"{F}/1442995018", safe="")
    assert icd.json(f"/icd/release/11/2024-01/mms/lookup?foundationUri={uri}")["code"] == "8B20"
    grouping = quote(f"{F}/135352227", safe="")
    body = icd.json(f"/icd/release/11/2024-01/mms/lookup?foundationUri={grouping}")
    assert body["code"] == "1A0Z"  # an uncoded block: its unspecified residual
    shore = quote(f"{F}/1205958647", safe="")  # under the shoreline of 1A00 (real index term)
    assert icd.json(f"/icd/release/11/2025-01/mms/lookup?foundationuri={shore}")["code"] == "1A00"
    assert icd.get("/icd/release/11/2025-01/mms/lookup?foundationUri=x").status_code == 404


# --- foundation -------------------------------------------------------------------------------

def test_foundation(icd):
    top = icd.json("/icd/entity")
    assert top["@id"] == F and top["releaseId"] == "2025-01"
    assert top["title"]["@value"] == "WHO Family of International Classifications Foundation"
    assert top["child"] == [f"{F}/455013390"]
    root = icd.json("/icd/entity/455013390")
    assert len(root["child"]) == 28 and "title" not in root  # neither source names it
    chapter = icd.json("/icd/entity/1435254666")
    assert list(chapter)[:5] == ["@context", "@id", "parent", "child", "browserUrl"]
    assert chapter["parent"] == [f"{F}/455013390"]
    assert chapter["browserUrl"] == "https://icd.who.int/browse/2025-01/foundation/en#1435254666"
    assert chapter["title"]["@value"] == "Certain infectious or parasitic diseases"
    assert chapter["synonym"][0]["label"]["@value"] == "infection NOS"
    assert "linearizationReference" not in chapter["exclusion"][0]
    assert f"{F}/911707612" in chapter["child"]  # a real foundationChildElsewhere
    multi = icd.json("/icd/entity/911707612")
    assert multi["parent"] == [f"{F}/1306203631", f"{F}/1435254666"]
    leaf = icd.json("/icd/entity/257068234?releaseId=2024-01")
    assert leaf["title"]["@value"] == "Cholera" and "child" not in leaf
    assert icd.get("/icd/entity/1646490591/other").status_code == 404
    assert icd.get("/icd/entity/5").status_code == 404
    assert icd.json("/icd/entity?releaseId=2024-01")["releaseId"] == "2024-01"
    assert icd.get("/icd/entity?releaseId=2026-01").status_code == 404
    gone = icd.json("/icd/entity/1981398038")  # only in the 2024-01 file
    assert gone["title"]["@value"] == "Other and unspecified myeloproliferative neoplasms"
    assert gone["browserUrl"].startswith("https://icd.who.int/browse/2024-01/foundation/")
    assert icd.get("/icd/entity/1981398038?releaseId=2025-01").status_code == 404
    found = icd.json("/icd/entity/search?q=cholera")["destinationEntities"][0]
    assert found["theCode"] is None and found["id"] == f"{F}/257068234"


def test_every_foundation_uri_of_the_file_answers(icd):
    from explorer.sandbox.icd_data import IcdStore

    rel = IcdStore().release("2025-01")
    fids = [f for f in rel.foundation if f]
    assert len(fids) == 31427  # every non-residual row
    for fid in fids[::3000]:
        body = icd.json(f"/icd/entity/{fid}")
        assert body["title"]["@value"] == rel.title(rel.by_foundation[fid])


# --- ICD-10 -----------------------------------------------------------------------------------

def test_icd10(icd):
    multi = icd.json("/icd/release/10")
    assert multi["latestRelease"] == "http://id.who.int/icd/release/10/2019"
    assert multi["release"] == ["http://id.who.int/icd/release/10/2019"]  # only what is served
    top = icd.json("/icd/release/10/2019")
    assert top["child"][0].endswith("/2019/I") and top["child"][-1].endswith("/2019/XXII")
    assert top["releaseDate"] == "2020-02-01"
    a00 = icd.json("/icd/release/10/2019/A00")
    assert a00["parent"] == ["http://id.who.int/icd/release/10/2019/A00-A09"]
    assert len(a00["child"]) == 3 and a00["classKind"] == "category"
    block = icd.json("/icd/release/10/2019/A00-A09")
    assert block["classKind"] == "block" and block["parent"][0].endswith("/2019/I")
    assert icd.json("/icd/release/10/2019/M54.5")["title"]["@value"] == "Low back pain"
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
    assert payloads[0]["@id"].startswith(f"{R}/2025-01/mms/")
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
    top = synth.json("/icd/release/11/2025-01/mms")
    assert len(top["child"]) == 29
    chapter = top["child"][-1].rsplit("/mms/", 1)[1]
    seen, todo, started = 0, [chapter], time.monotonic()
    session = synth.http
    headers = synth.headers()
    while todo and seen <= 2500 and time.monotonic() - started < 60:
        key = todo.pop()
        r = session.get(f"{synth.base}/icd/release/11/2025-01/mms/{key}", headers=headers,
                        timeout=10)
        assert r.status_code == 200
        seen += 1
        todo.extend(c.rsplit("/mms/", 1)[1] for c in r.json().get("child", []))
    assert seen == 2500
    info = synth.json("/icd/release/11/2025-01/mms/codeinfo/S1A0")
    assert info["stemId"].endswith("/3000000002")
    assert synth.json("/icd/release/11/2024-01/mms")["child"][-1].endswith("/3000000000")
    assert synth.json("/icd/release/11/mms/3000000002")["release"][0].endswith(
        "/2025-01/mms/3000000002")
