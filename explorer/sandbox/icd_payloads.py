"""JSON-LD payload builders of the ICD-API emulator (shapes as in icd-api.md section 5).

Built on demand from a parsed :class:`~explorer.sandbox._icd_release.Release` (WHO's file) and
the real-payload excerpts of ``data/icd_data.json``; a property found in neither is omitted,
as the real API omits empty ones.

Example:
    >>> from explorer.sandbox.icd_data import IcdStore
    >>> store = IcdStore()
    >>> body = lin_entity(store, "2025-01", store.release("2025-01").index["257068234"], "en")
    >>> body["code"], body["title"]["@value"], body["parent"][0].rsplit("/", 1)[1]
    ('1A00', 'Cholera', '135352227')

Emulator choices: ``browserUrl`` of an entity is the URL inside the file's ``BrowserLink``
formula (e.g. ``https://icd.who.int/browse/latestrelease/mms/en#257068234``; the real API gives
a release-specific URL); files without that column get the API's pattern
``https://icd.who.int/browse/{release}/mms/{lang}#{id}``, as do the top-level and foundation
payloads. A block's ``codeRange`` is derived from the codes below it. ``availableLanguages``
lists the languages served (the files' languages), not WHO's.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable
from urllib.parse import quote

from ._icd_release import BLOCK, KIND_NAMES, Release
from .icd_data import FOUND, FOUNDATION_ROOT, LIN, ROOT, IcdStore

__all__ = [
    "CTX",
    "lin_uri",
    "browser",
    "multiversion",
    "top_level",
    "lin_entity",
    "codeinfo",
    "foundation_top",
    "foundation_known",
    "foundation_entity",
    "icd10_top",
    "icd10_entity",
    "icd10_multiversion",
]

CTX = ROOT + "/icd/contexts/"
MMS_TITLE = "ICD-11 for Mortality and Morbidity Statistics"
FOUNDATION_TITLE = "WHO Family of International Classifications Foundation"
ICD10_TITLE = ("International Statistical Classification of Diseases and Related Health "
               "Problems 10th Revision (ICD-10)")
ICD10_ROOT = ROOT + "/icd/release/10"


def _lt(lang: str, value: str) -> dict:
    return {"@language": lang, "@value": value}


def lin_uri(release: str, key: str) -> str:
    """``http://id.who.int/icd/release/11/{release}/mms/{key}``."""
    return f"{LIN}/{release}/mms/{key}"


def browser(release: str, lang: str, key: str | None = None, part: str = "mms") -> str:
    """The API's browser URL pattern (``https://icd.who.int/browse/2025-01/mms/en#id``)."""
    url = f"https://icd.who.int/browse/{release}/{part}/{lang}"
    return url + (f"#{key}" if key else "")


def _put(out: dict, name: str, value) -> None:
    if value:
        out[name] = value


def multiversion(releases: list[str], key: str | None = None) -> dict:
    """``GET /icd/release/11/mms[/{key}]``: the releases served, newest first."""
    suffix = f"/{key}" if key else ""
    return {
        "@context": CTX + "contextForMultiVersion.json",
        "@id": f"{LIN}/mms{suffix}",
        "title": _lt("en", MMS_TITLE),
        "latestRelease": f"{LIN}/{releases[0]}/mms{suffix}",
        "release": [f"{LIN}/{r}/mms{suffix}" for r in releases],
    }


def top_level(store: IcdStore, release: str, lang: str,
              extra_chapters: Iterable[str] = ()) -> dict:
    """``GET /icd/release/11/{release}/mms`` (key order of the real 2025-01 payload)."""
    rel = store.release(release)
    out = {
        "@context": CTX + "contextForTopLevel.json",
        "@id": f"{LIN}/{release}/mms",
        "title": _lt(lang, MMS_TITLE) if lang == "en" else _lt("en", MMS_TITLE),
        "releaseId": release,
        "availableLanguages": store.languages(release),
    }
    _put(out, "releaseDate", store.release_date(release))
    out["child"] = [lin_uri(release, rel.keys[r]) for r in rel.chapter_rows]
    out["child"] += [lin_uri(release, k) for k in extra_chapters]
    out["browserUrl"] = browser(release, lang)
    return out


def _terms(terms: Iterable[dict] | None, release: str, lang: str, lin: bool = True) -> list[dict]:
    out = []
    for term in terms or ():
        item: dict = {"label": _lt(lang, term["label"])}
        if "ref" in term:
            item["foundationReference"] = f"{FOUND}/{term['ref']}"
            if lin:
                item["linearizationReference"] = lin_uri(release, term.get("lref", term["ref"]))
        elif "fref" in term:
            item["foundationReference"] = f"{FOUND}/{term['fref']}"
        out.append(item)
    return out


def lin_entity(store: IcdStore, release: str, row: int, lang: str,
               include: Iterable[str] = ()) -> dict:
    """``GET /icd/release/11/{release}/mms/{id}[/other|/unspecified]``."""
    rel = store.release(release)
    key = rel.keys[row]
    rec = store.enrich(lang, key)
    out: dict = {
        "@context": CTX + "contextForLinearizationEntity.json",
        "@id": lin_uri(release, key),
    }
    parent = rel.parents[row]
    out["parent"] = [lin_uri(release, rel.keys[parent]) if parent >= 0 else f"{LIN}/{release}/mms"]
    _put(out, "child", [lin_uri(release, rel.keys[c]) for c in rel.kids(row)])
    out["browserUrl"] = rel.browser[row] or browser(release, lang, key)
    out["code"] = rel.codes[row]
    if rel.foundation[row]:
        out["source"] = f"{FOUND}/{rel.foundation[row]}"
    out["classKind"] = KIND_NAMES[rel.kinds[row]]
    if rel.kinds[row] == BLOCK:
        _put(out, "blockId", rel.block_ids[row])
        _put(out, "codeRange", rel.code_ranges.get(row))
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
    _put(out, "foundationChildElsewhere", _terms(rec.get("foundationChildElsewhere"), release,
                                                 lang))
    out["title"] = _lt(lang, rel.title(row, lang))
    for name in ("definition", "longDefinition"):
        if rec.get(name):
            out[name] = _lt(lang, rec[name])
    _put(out, "inclusion", _terms(rec.get("inclusion"), release, lang))
    _put(out, "exclusion", _terms(rec.get("exclusion"), release, lang))
    if rec.get("fullySpecifiedName"):
        out["fullySpecifiedName"] = _lt(lang, rec["fullySpecifiedName"])
    if rec.get("codingNote"):
        out["codingNote"] = _lt(lang, rec["codingNote"])
    if "diagnosticCriteria" in include and rec.get("diagnosticCriteria"):
        out["diagnosticCriteria"] = _lt(lang, rec["diagnosticCriteria"])
    for name in ("relatedEntitiesInMaternalChapter", "relatedEntitiesInPerinatalChapter"):
        _put(out, name, [f"{FOUND}/{r}" for r in rec.get(name, ())])
    _put(out, "indexTerm", _terms(rec.get("indexTerm"), release, lang, lin=False))
    if "ancestor" in include:
        _put(out, "ancestor", [lin_uri(release, rel.keys[a]) for a in rel.ancestors(row)])
    if "descendant" in include:
        _put(out, "descendant", [lin_uri(release, rel.keys[d])
                                 for d in range(row + 1, rel.ends[row])])
    return out


def codeinfo(release: str, code: str, stem_key: str, stem_code: str | None,
             axes: dict[str, list[str]]) -> dict:
    """``GET .../{release}/mms/codeinfo/{code}`` (``stemCode`` only for postcoordination)."""
    out: dict = {
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

def foundation_top(store: IcdStore, release: str, lang: str) -> dict:
    """``GET /icd/entity[?releaseId=...]``."""
    out = {
        "@context": CTX + "contextForTopLevel.json",
        "@id": FOUND,
        "title": _lt(lang, FOUNDATION_TITLE) if lang == "en" else _lt("en", FOUNDATION_TITLE),
        "releaseId": release,
        "availableLanguages": store.languages(release),
    }
    _put(out, "releaseDate", store.release_date(release))
    out["child"] = [f"{FOUND}/{FOUNDATION_ROOT}"]
    out["browserUrl"] = browser(release, lang, part="foundation")
    return out


def foundation_known(rel: Release, fid: str) -> bool:
    return fid == FOUNDATION_ROOT or fid in rel.by_foundation


def _f_parents(store: IcdStore, rel: Release, fid: str, lang: str) -> list[str]:
    if fid == FOUNDATION_ROOT:
        return []
    row = rel.by_foundation[fid]
    p = rel.parents[row]
    parents = [rel.foundation[p] if p >= 0 else FOUNDATION_ROOT]
    for other in (store.elsewhere_parents.get(fid, ()) if lang == "en" else ()):
        if other not in parents and other in rel.by_foundation:
            parents.append(other)
    return parents


def _f_children(store: IcdStore, rel: Release, fid: str, lang: str) -> list[str]:
    if fid == FOUNDATION_ROOT:
        return [rel.foundation[r] for r in rel.chapter_rows]
    row = rel.by_foundation[fid]
    kids = [rel.foundation[c] for c in rel.kids(row) if rel.foundation[c]]
    for term in store.enrich(lang, fid).get("foundationChildElsewhere", ()):
        ref = term.get("ref")
        if ref and ref not in kids and ref in rel.by_foundation:
            kids.append(ref)
    return kids


def foundation_entity(store: IcdStore, release: str, fid: str, lang: str,
                      include: Iterable[str] = ()) -> dict:
    """``GET /icd/entity/{id}``: title from the file; parents and children from the
    tabulation (plus the real ``foundationChildElsewhere`` links), so a subset of the real
    foundation graph (emulator choice). The foundation root has no title (neither source
    gives it)."""
    rel = store.release(release)
    out: dict = {
        "@context": CTX + "contextForFoundationEntity.json",
        "@id": f"{FOUND}/{fid}",
    }
    _put(out, "parent", [f"{FOUND}/{p}" for p in _f_parents(store, rel, fid, lang)])
    _put(out, "child", [f"{FOUND}/{c}" for c in _f_children(store, rel, fid, lang)])
    out["browserUrl"] = browser(release, lang, fid, part="foundation")
    if fid == FOUNDATION_ROOT:
        return out
    row = rel.by_foundation[fid]
    rec = store.enrich(lang, fid)
    out["title"] = _lt(lang, rel.title(row, lang))
    _put(out, "synonym", _terms(rec.get("synonym"), release, lang, lin=False))
    for name in ("definition", "longDefinition", "fullySpecifiedName"):
        if rec.get(name):
            out[name] = _lt(lang, rec[name])
    _put(out, "inclusion", _terms(rec.get("inclusion"), release, lang, lin=False))
    _put(out, "exclusion", _terms(rec.get("exclusion"), release, lang, lin=False))
    if "diagnosticCriteria" in include and rec.get("diagnosticCriteria"):
        out["diagnosticCriteria"] = _lt(lang, rec["diagnosticCriteria"])
    for name in ("relatedEntitiesInMaternalChapter", "relatedEntitiesInPerinatalChapter"):
        _put(out, name, [f"{FOUND}/{r}" for r in rec.get(name, ())])
    if "ancestor" in include:
        _put(out, "ancestor", [f"{FOUND}/{a}" for a in _walk(fid, lambda f: _f_parents(
            store, rel, f, lang))])
    if "descendant" in include:
        _put(out, "descendant", [f"{FOUND}/{d}" for d in _walk(fid, lambda f: _f_children(
            store, rel, f, lang))])
    return out


def _walk(start: str, step: Callable[[str], list[str]], limit: int = 100_000) -> list[str]:
    """Breadth-first walk from ``start`` (bounded by ``limit`` entities)."""
    seen: dict[str, None] = {}
    queue = deque(step(start))
    while queue and len(seen) < limit:
        k = queue.popleft()
        if k in seen or k == start:
            continue
        seen[k] = None
        queue.extend(step(k))
    return list(seen)


# --- ICD-10 (verbatim 2019 subset of data/icd_data.json) ----------------------------------------

def icd10_top(icd10: dict, release: str, lang: str) -> dict:
    info = icd10["served"][release]
    chapters = [c for c, r in icd10["entities"].items() if r["kind"] == "chapter"]
    return {
        "@context": CTX + "contextForTopLevel.json",
        "@id": f"{ICD10_ROOT}/{release}",
        "title": _lt(lang, info["title"]),
        "releaseDate": info["releaseDate"],
        "child": [f"{ICD10_ROOT}/{release}/{c}" for c in chapters],
        "browserUrl": f"http://apps.who.int/classifications/icd10/browse/{release}/{lang}",
    }


def icd10_entity(icd10: dict, code: str, release: str, lang: str) -> dict:
    ents = icd10["entities"]
    rec = ents[code]
    out: dict = {
        "@context": CTX + "contextForICD10Entity.json",
        "@id": f"{ICD10_ROOT}/{release}/{code}",
    }
    if rec["parent"]:
        out["parent"] = [f"{ICD10_ROOT}/{release}/{rec['parent']}"]
    _put(out, "child", [f"{ICD10_ROOT}/{release}/{c}" for c, r in ents.items()
                        if r["parent"] == code])
    out["browserUrl"] = f"http://apps.who.int/classifications/icd10/browse/{release}/{lang}#/{code}"
    out["code"] = code
    out["title"] = _lt(lang, rec["title"])
    out["classKind"] = rec["kind"]
    return out


def icd10_multiversion(icd10: dict, code: str | None = None) -> dict:
    """Lists the ICD-10 releases served (only those - emulator choice)."""
    releases = [r for r in icd10["releases"] if r in icd10["served"]]
    suffix = f"/{code}" if code else ""
    title = icd10["entities"][code]["title"] if code else ICD10_TITLE
    return {
        "@context": CTX + "contextForMultiVersion.json",
        "@id": ICD10_ROOT + suffix,
        "title": _lt("en", title),
        "latestRelease": f"{ICD10_ROOT}/{releases[0]}{suffix}",
        "release": [f"{ICD10_ROOT}/{r}{suffix}" for r in releases],
    }
