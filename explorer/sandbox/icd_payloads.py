"""JSON-LD payload builders for the ICD-API emulator (shapes as in icd-api.md section 5)."""

from __future__ import annotations

from urllib.parse import quote

from .icd_data import FOUND, FOUNDATION_ROOT, LIN, ROOT, IcdData, text

__all__ = [
    "CTX",
    "FOUNDATION_TITLE",
    "ICD10_ROOT",
    "ICD10_TITLE",
    "ICF_RELEASES",
    "ICF_TITLE",
    "MMS_TITLE",
    "browser",
    "codeinfo",
    "foundation_children",
    "foundation_entity",
    "foundation_keys",
    "foundation_parents",
    "foundation_top",
    "icd10_entity",
    "icd10_multiversion",
    "icd10_top",
    "lin_entity",
    "lin_uri",
    "multiversion",
    "top_level",
]

CTX = ROOT + "/icd/contexts/"
MMS_TITLE = {"en": "ICD-11 for Mortality and Morbidity Statistics"}
ICF_TITLE = {"en": "International Classification of Functioning, Disability and Health (ICF)"}
ICD10_TITLE = {
    "en": "International Statistical Classification of Diseases and Related Health Problems "
    "10th Revision (ICD-10)"
}
FOUNDATION_TITLE = {"en": "WHO Family of International Classifications Foundation"}
ICF_RELEASES = ["2026-01", "2025-01", "2024-01"]


def lin_uri(release: str, key: str) -> str:
    return f"{LIN}/{release}/mms/{key}"


def browser(release: str, lang: str, key: str | None = None, part: str = "mms") -> str:
    url = f"https://icd.who.int/browse/{release}/{part}/{lang}"
    return url + (f"#{key}" if key else "")


def multiversion(lin: str, releases: list[str], key: str | None = None) -> dict:
    suffix = f"/{key}" if key else ""
    title = ICF_TITLE if lin == "icf" else MMS_TITLE
    return {
        "@context": CTX + "contextForMultiVersion.json",
        "@id": f"{LIN}/{lin}{suffix}",
        "title": text(title, "en"),
        "latestRelease": f"{LIN}/{releases[0]}/{lin}{suffix}",
        "release": [f"{LIN}/{r}/{lin}{suffix}" for r in releases],
    }


def top_level(data: IcdData, release: str, lang: str, extra_chapters=()) -> dict:
    info = data.releases[release]
    out = {
        "@context": CTX + "contextForTopLevel.json",
        "@id": f"{LIN}/{release}/mms",
        "title": text(MMS_TITLE, lang),
        "releaseId": release,
        "releaseDate": info["releaseDate"],
        "availableLanguages": info["availableLanguages"],
    }
    if info.get("prereleaseLanguages"):
        out["prereleaseLanguages"] = info["prereleaseLanguages"]
    out["child"] = [lin_uri(release, c) for c in [*data.chapters, *extra_chapters]]
    out["browserUrl"] = browser(release, lang)
    return out


def _terms(terms, release, lang, lin=True):
    out = []
    for term in terms or ():
        label = text(term["label"], lang)
        if label is None:
            continue
        item = {"label": label}
        if "ref" in term:
            item["foundationReference"] = f"{FOUND}/{term['ref']}"
            if lin:
                item["linearizationReference"] = lin_uri(release, term.get("lref", term["ref"]))
        elif "fref" in term:
            item["foundationReference"] = f"{FOUND}/{term['fref']}"
        out.append(item)
    return out


def _put(out: dict, name: str, value) -> None:
    if value:
        out[name] = value


def lin_entity(data: IcdData, key: str, release: str, lang: str, include=(),
               extra_chapters=()) -> dict:
    rec = data.entities[key]
    residual = "/" in key
    out = {
        "@context": CTX + "contextForLinearizationEntity.json",
        "@id": lin_uri(release, key),
    }
    parent = rec.get("parent")
    out["parent"] = [lin_uri(release, parent) if parent else f"{LIN}/{release}/mms"]
    _put(out, "child", [lin_uri(release, k) for k in data.children.get(key, [])])
    out["browserUrl"] = browser(release, lang, key)
    out["code"] = rec.get("code", "")
    if not residual:
        out["source"] = f"{FOUND}/{key}"
    out["classKind"] = rec["kind"]
    if rec["kind"] == "block":
        out["blockId"] = rec["blockId"]
        out["codeRange"] = rec["codeRange"]
    _put(out, "postcoordinationScale", [
        {
            "@id": f"{lin_uri(release, key)}/postcoordinationScale/{axis['axis']}",
            "axisName": f"{ROOT}/icd/schema/{axis['axis']}",
            "requiredPostcoordination": axis["required"],
            "allowMultipleValues": axis["multi"],
            "scaleEntity": [lin_uri(release, s) for s in axis["scale"]],
        }
        for axis in rec.get("postcoordinationScale", ())
    ])
    fce = _terms(rec.get("foundationChildElsewhere"), release, lang)
    _put(out, "foundationChildElsewhere", fce)
    out["title"] = text(rec["title"], lang)
    for name in ("definition", "longDefinition"):
        _put(out, name, text(rec.get(name), lang, fallback=False))
    _put(out, "inclusion", _terms(rec.get("inclusion"), release, lang))
    _put(out, "exclusion", _terms(rec.get("exclusion"), release, lang))
    _put(out, "fullySpecifiedName", text(rec.get("fullySpecifiedName"), lang))
    _put(out, "codingNote", text(rec.get("codingNote"), lang, fallback=False))
    if "diagnosticCriteria" in include:
        _put(out, "diagnosticCriteria", text(rec.get("diagnosticCriteria"), lang, fallback=False))
    for name in ("relatedEntitiesInMaternalChapter", "relatedEntitiesInPerinatalChapter"):
        _put(out, name, [f"{FOUND}/{r}" for r in rec.get(name, ())])
    index_terms = rec.get("indexTerm")
    if index_terms is None and rec["kind"] == "category":
        index_terms = [{"label": rec["title"]}]
    _put(out, "indexTerm", _terms(index_terms, release, lang))
    if "ancestor" in include:
        _put(out, "ancestor", [lin_uri(release, a) for a in data.ancestors(key)])
    if "descendant" in include:
        _put(out, "descendant", [lin_uri(release, d) for d in data.descendants(key)])
    return out


def codeinfo(release: str, code: str, stem_key: str, stem_code: str | None, axes: dict) -> dict:
    out = {
        "@context": CTX + "contextForCodeInfo.json",
        "@id": f"{LIN}/{release}/mms/codeinfo/{quote(code, safe='.')}",
        "code": code,
        "stemId": lin_uri(release, stem_key),
    }
    if stem_code is not None:
        out["stemCode"] = stem_code
    out.update(axes)
    return out


# --- foundation -------------------------------------------------------------------------------

def foundation_top(data: IcdData, release: str, lang: str) -> dict:
    langs = sorted({lg for r in data.releases.values() for lg in r["availableLanguages"]})
    info = data.releases.get(release, {})
    out = {
        "@context": CTX + "contextForTopLevel.json",
        "@id": FOUND,
        "title": text(FOUNDATION_TITLE, lang),
        "releaseId": release,
        "releaseDate": info.get("releaseDate"),
        "availableLanguages": langs,
        "child": [f"{FOUND}/{FOUNDATION_ROOT}"],
        "browserUrl": browser(release, lang, part="foundation"),
    }
    return {k: v for k, v in out.items() if v is not None}


def foundation_keys(data: IcdData) -> set[str]:
    keys = {k for k in data.entities if "/" not in k}
    return keys | set(data.foundation_only) | {FOUNDATION_ROOT}


def foundation_parents(data: IcdData, key: str) -> list[str]:
    if key == FOUNDATION_ROOT:
        return []
    if key in data.foundation_only:
        return data.foundation_only[key]["parents"]
    rec = data.entities[key]
    if rec.get("foundationParents"):
        return rec["foundationParents"]
    return [rec["parent"] or FOUNDATION_ROOT]


def foundation_children(data: IcdData, key: str) -> list[str]:
    valid = foundation_keys(data)
    if key == FOUNDATION_ROOT:
        return list(data.chapters)
    rec = data.entities.get(key) or data.foundation_only.get(key) or {}
    kids = [k for k in data.children.get(key, []) if "/" not in k]
    for extra in rec.get("foundationChildren", ()):
        if extra not in kids:
            kids.append(extra)
    for other, orec in data.foundation_only.items():
        if key in orec["parents"] and other not in kids:
            kids.append(other)
    for term in rec.get("foundationChildElsewhere", ()):
        if term["ref"] not in kids:
            kids.append(term["ref"])
    return [k for k in kids if k in valid]


def foundation_entity(data: IcdData, key: str, release: str, lang: str, include=()) -> dict:
    if key == FOUNDATION_ROOT:
        rec = {"title": {"en": "ICD Entity"}}
    else:
        rec = data.entities.get(key) or data.foundation_only[key]
    out = {
        "@context": CTX + "contextForFoundationEntity.json",
        "@id": f"{FOUND}/{key}",
    }
    _put(out, "parent", [f"{FOUND}/{p}" for p in foundation_parents(data, key)])
    _put(out, "child", [f"{FOUND}/{c}" for c in foundation_children(data, key)])
    out["browserUrl"] = browser(release, lang, key, part="foundation")
    out["title"] = text(rec["title"], lang)
    _put(out, "synonym", _terms(rec.get("synonym"), release, lang, lin=False))
    for name in ("definition", "longDefinition"):
        _put(out, name, text(rec.get(name), lang, fallback=False))
    _put(out, "fullySpecifiedName", text(rec.get("fullySpecifiedName"), lang))
    _put(out, "inclusion", _terms(rec.get("inclusion"), release, lang, lin=False))
    _put(out, "exclusion", _terms(rec.get("exclusion"), release, lang, lin=False))
    if "diagnosticCriteria" in include:
        _put(out, "diagnosticCriteria", text(rec.get("diagnosticCriteria"), lang, fallback=False))
    for name in ("relatedEntitiesInMaternalChapter", "relatedEntitiesInPerinatalChapter"):
        _put(out, name, [f"{FOUND}/{r}" for r in rec.get(name, ())])
    if "ancestor" in include:
        _put(out, "ancestor", [f"{FOUND}/{a}" for a in _walk(data, key, foundation_parents)])
    if "descendant" in include:
        _put(out, "descendant", [f"{FOUND}/{d}" for d in _walk(data, key, foundation_children)])
    return out


def _walk(data: IcdData, key: str, step) -> list[str]:
    seen: list[str] = []
    stack = list(step(data, key))
    while stack:
        k = stack.pop(0)
        if k in seen or k == key:
            continue
        seen.append(k)
        stack.extend(step(data, k))
    return seen


# --- ICD-10 -----------------------------------------------------------------------------------

ICD10_ROOT = ROOT + "/icd/release/10"


def icd10_top(data: IcdData, release: str, lang: str) -> dict:
    info = data.icd10["served"][release]
    chapters = [c for c, r in data.icd10["entities"].items() if r["kind"] == "chapter"]
    return {
        "@context": CTX + "contextForTopLevel.json",
        "@id": f"{ICD10_ROOT}/{release}",
        "title": {"@language": lang, "@value": info["title"]},
        "releaseDate": info["releaseDate"],
        "child": [f"{ICD10_ROOT}/{release}/{c}" for c in chapters],
        "browserUrl": f"http://apps.who.int/classifications/icd10/browse/{release}/{lang}",
    }


def icd10_entity(data: IcdData, code: str, release: str, lang: str) -> dict:
    ents = data.icd10["entities"]
    rec = ents[code]
    out = {
        "@context": CTX + "contextForICD10Entity.json",
        "@id": f"{ICD10_ROOT}/{release}/{code}",
    }
    if rec["parent"]:
        out["parent"] = [f"{ICD10_ROOT}/{release}/{rec['parent']}"]
    kids = [c for c, r in ents.items() if r["parent"] == code]
    _put(out, "child", [f"{ICD10_ROOT}/{release}/{c}" for c in kids])
    out["browserUrl"] = (
        f"http://apps.who.int/classifications/icd10/browse/{release}/{lang}#/{code}"
    )
    out["code"] = code
    out["title"] = {"@language": lang, "@value": rec["title"]}
    out["classKind"] = rec["kind"]
    return out


def icd10_multiversion(data: IcdData, code: str | None = None) -> dict:
    releases = data.icd10["releases"]
    suffix = f"/{code}" if code else ""
    out = {"@context": CTX + "contextForMultiVersion.json", "@id": ICD10_ROOT + suffix}
    title = data.icd10["entities"][code]["title"] if code else ICD10_TITLE["en"]
    out["title"] = {"@language": "en", "@value": title}
    out["latestRelease"] = f"{ICD10_ROOT}/{releases[0]}{suffix}"
    out["release"] = [f"{ICD10_ROOT}/{r}{suffix}" for r in releases]
    return out
