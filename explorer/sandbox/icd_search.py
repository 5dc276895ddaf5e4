"""Search and autocode over the shipped ICD subset.

Result SHAPES follow WHO's real responses (icd-api.md 5.7/5.8); the matching and every score are
the emulator's own (invented) - WHO's ranking algorithm is not public.
"""

from __future__ import annotations

import re
import uuid

from .icd_data import FOUND, LIN, IcdData, plain

__all__ = [
    "DEFAULT_THRESHOLD",
    "EXCLUDED_BY_DEFAULT",
    "MAX_RESULTS",
    "WORD",
    "autocode",
    "highlight",
    "match_label",
    "parse_query",
    "search",
]

WORD = re.compile(r"\w+", re.UNICODE)
EXCLUDED_BY_DEFAULT = {"26", "V", "X"}
MAX_RESULTS = 50
DEFAULT_THRESHOLD = 0.7  # invented; WHO does not publish its default


def _norm(word: str) -> str:
    word = word.lower()
    return word[:-1] if len(word) > 3 and word.endswith("s") else word


def parse_query(q: str) -> list[tuple[str, bool]]:
    """Query words as (normalised word, is_prefix_wildcard)."""
    out = []
    for m in re.finditer(r"(\w+)(%?)", q or "", re.UNICODE):
        out.append((m.group(1).lower() if m.group(2) else _norm(m.group(1)), bool(m.group(2))))
    return out


def _word_hit(qword: tuple[str, bool], token: str) -> bool:
    word, prefix = qword
    return token.lower().startswith(word) if prefix else _norm(token) == word


def match_label(label: str, words, flexible: bool) -> tuple[float, list[tuple[int, int]]]:
    """(score, spans) of a label against the query words; score 0 when it does not match."""
    tokens = list(WORD.finditer(label))
    if not tokens:
        return 0.0, []
    spans, hits = [], 0
    for qw in words:
        found = [t for t in tokens if _word_hit(qw, t.group(0))]
        if found:
            hits += 1
            spans.extend((t.start(), t.end()) for t in found)
        elif not flexible:
            return 0.0, []
    if not hits:
        return 0.0, []
    coverage = hits / len(words)
    tightness = hits / len(tokens)
    return round(coverage * (0.35 + 0.65 * tightness), 6), sorted(set(spans))


def highlight(label: str, spans) -> str:
    out, pos = [], 0
    for start, end in spans:
        out.append(label[pos:start] + "<em class='found'>" + label[start:end] + "</em>")
        pos = end
    return "".join(out) + label[pos:]


def _candidates(data: IcdData, key: str, lang: str, props: set[str] | None):
    """Property values of an entity as (propertyId, label, foundation id, propertyValueType)."""
    rec = data.entities[key]
    own = key.split("/")[0]
    seen = set()

    def emit(prop, label, fid, pvt):
        if label and label.lower() not in seen and (props is None or prop in props):
            seen.add(label.lower())
            yield prop, label, fid, pvt

    yield from emit("Title", plain(rec["title"], lang), own, 0)
    for term in rec.get("searchTerms", ()):
        yield from emit(term["propertyId"], term["label"] if lang == "en" else None,
                        term.get("fref", own), term["pvt"])
    for term in rec.get("indexTerm", ()):
        fref = term.get("fref")
        yield from emit("Title" if fref else "Synonym", plain(term["label"], lang),
                        fref or own, 1 if fref else 0)
    for term in rec.get("inclusion", ()):
        yield from emit("Synonym", plain(term["label"], lang), own, 0)
    yield from emit("FullySpecifiedName", plain(rec.get("fullySpecifiedName"), lang), own, 0)
    if props and "Definition" in props:
        yield from emit("Definition", plain(rec.get("definition"), lang), own, 0)


def search(data: IcdData, release: str, lang: str, params, rng, foundation: bool = False) -> dict:
    q = params.get("q", "")
    words = parse_query(q)
    base = {
        "error": False,
        "errorMessage": None,
        "resultChopped": False,
        "wordSuggestionsChopped": False,
        "guessType": 2,
        "uniqueSearchId": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
        "words": None,
        "destinationEntities": [],
    }
    if not words:
        base["error"] = True
        base["errorMessage"] = "The search text is empty or contains only punctuation."
        return base
    flexible = _flag(params, "useFlexisearch", False)
    highlighting = _flag(params, "highlightingEnabled", True)
    coding_mode = _flag(params, "medicalCodingMode", True) and not foundation
    props = None
    if not coding_mode and params.get("propertiesToBeSearched"):
        props = {p.strip() for p in params["propertiesToBeSearched"].split(",") if p.strip()}
    chapters = _chapter_filter(data, params.get("chapterFilter"))
    subtrees = _subtrees(params.get("subtreesFilter"))

    results = []
    for key, rec in data.entities.items():
        if foundation and "/" in key:
            continue
        if coding_mode and not rec.get("code"):
            continue
        chapter_code = data.entities[data.chapter_of[key]]["code"] if data.chapter_of[key] else ""
        if chapters is not None and chapter_code not in chapters:
            continue
        if chapters is None and coding_mode and chapter_code in EXCLUDED_BY_DEFAULT:
            continue
        if subtrees and not ({key, *data.ancestors(key)} & subtrees):
            continue
        pvs = []
        for prop, label, fid, pvt in _candidates(data, key, lang, props):
            score, spans = match_label(label, words, flexible)
            if score > 0:
                pvs.append((score, prop, label, spans, fid, pvt))
        if pvs:
            pvs.sort(key=lambda p: -p[0])
            results.append(_entity(data, key, release, lang, pvs, highlighting, chapter_code,
                                   foundation))
    results.sort(key=lambda r: (-r["score"], r["theCode"] or r["id"]))
    if len(results) > MAX_RESULTS:
        results = results[:MAX_RESULTS]
        base["resultChopped"] = True
    if not _flag(params, "flatResults", True):
        results = _nest(data, results)
    base["destinationEntities"] = results
    if _flag(params, "includeKeywordResult", False):
        base["words"] = _keywords(data, lang, words)
    return base


def _entity(data, key, release, lang, pvs, highlighting, chapter_code, foundation) -> dict:
    rec = data.entities[key]
    title = plain(rec["title"], lang)
    title_pv = next((p for p in pvs if p[1] == "Title" and p[2] == title), None)
    uri = f"{FOUND}/{key}" if foundation else f"{LIN}/{release}/mms/{key}"
    scales = rec.get("postcoordinationScale", ())
    availability = 2 if any(s["required"] == "true" for s in scales) else (1 if scales else 0)
    top = pvs[0][0]
    return {
        "id": uri,
        "title": highlight(title, title_pv[3]) if title_pv and highlighting else title,
        "stemId": uri,
        "isLeaf": not data.children.get(key),
        "postcoordinationAvailability": availability,
        "hasCodingNote": "codingNote" in rec,
        "hasMaternalChapterLink": bool(rec.get("relatedEntitiesInMaternalChapter")),
        "hasPerinatalChapterLink": bool(rec.get("relatedEntitiesInPerinatalChapter")),
        "matchingPVs": [
            {
                "propertyId": prop,
                "label": highlight(label, spans) if highlighting else label,
                "score": score,
                "important": score >= 1,
                "foundationUri": f"{FOUND}/{fid}",
                "propertyValueType": pvt,
            }
            for score, prop, label, spans, fid, pvt in pvs
        ],
        "propertiesTruncated": False,
        "isResidualOther": key.endswith("/other") and not foundation,
        "isResidualUnspecified": key.endswith("/unspecified") and not foundation,
        "chapter": chapter_code,
        "theCode": None if foundation else rec.get("code") or None,
        "score": top,
        "titleIsASearchResult": title_pv is not None,
        "titleIsTopScore": title_pv is not None and title_pv[0] == top,
        "entityType": 0,
        "important": top >= 1,
        "descendants": [],
    }


def _nest(data: IcdData, flat: list[dict]) -> list[dict]:
    """Nested mode: each hit sits in ``descendants`` of its nearest matching ancestor."""
    by_key = {r["id"].rsplit("/mms/", 1)[-1].rsplit("/entity/", 1)[-1]: r for r in flat}
    roots = []
    for key, res in by_key.items():
        holder = next((a for a in data.ancestors(key) if a in by_key), None)
        (by_key[holder]["descendants"] if holder else roots).append(res)
    return roots


def _keywords(data: IcdData, lang: str, words) -> list[dict]:
    last, _ = words[-1]
    vocab = set()
    for rec in data.entities.values():
        for token in WORD.findall(plain(rec["title"], lang) or ""):
            if token.lower().startswith(last) and token.lower() != last:
                vocab.add(token.lower())
    return [{"label": w, "dontChangeResult": False} for w in sorted(vocab)[:20]]


def _flag(params, name: str, default: bool) -> bool:
    value = params.get(name)
    if value is None or value == "":
        return default
    return str(value).strip().lower() in ("true", "1", "yes")


def _chapter_filter(data: IcdData, raw: str | None):
    if not raw:
        return None
    return {c.strip() for c in re.split(r"[,;]", raw) if c.strip()}


def _subtrees(raw: str | None) -> set[str]:
    if not raw:
        return set()
    return {u.strip().rstrip("/").rsplit("/", 1)[-1] for u in raw.split(",") if u.strip()}


def autocode(data: IcdData, release: str, lang: str, params, foundation: bool = False) -> dict:
    text = params.get("searchText", "") or ""
    try:
        threshold = float(params.get("matchThreshold") or DEFAULT_THRESHOLD)
    except ValueError:
        threshold = DEFAULT_THRESHOLD
    qtokens = [_norm(t) for t in WORD.findall(text)]
    best = None
    for key, rec in data.entities.items():
        if not rec.get("code") or (foundation and "/" in key):
            continue
        chapter = data.chapter_of[key]
        if chapter and data.entities[chapter]["code"] in EXCLUDED_BY_DEFAULT:
            continue
        for prop, label, fid, pvt in _candidates(data, key, lang, None):
            ltokens = [_norm(t) for t in WORD.findall(label)]
            common = len(set(qtokens) & set(ltokens))
            if not common:
                continue
            lset, qset = set(ltokens), set(qtokens)
            score = round(common / len(lset) * (0.5 + 0.5 * common / len(qset)), 7)
            if best is None or score > best[0]:
                best = (score, key, label, fid, pvt, prop == "Title" and fid == key)
    if best is None or best[0] < threshold:
        return {"searchText": text, "matchLevel": 3, "matchScore": 0, "matchType": 0,
                "isTitle": False}
    score, key, label, fid, pvt, is_title = best
    out = {"searchText": text, "matchingText": label.lower()}
    if not foundation:
        out["theCode"] = data.entities[key]["code"]
    out["foundationURI"] = f"{FOUND}/{fid if pvt else key.split('/')[0]}"
    if not foundation:
        out["linearizationURI"] = f"{LIN}/{release}/mms/{key}"
    out.update({"matchLevel": 0 if score >= 1 else 1, "matchScore": score, "matchType": pvt,
                "isTitle": is_title})
    return out
