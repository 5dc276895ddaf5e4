"""``search`` and ``autocode`` answers of the ICD-API emulator, over a whole release.

Result SHAPES follow WHO's real responses (icd-api.md 5.7/5.8); the matching and the ranking
are the emulator's own (see :mod:`explorer.sandbox._icd_index`; WHO's algorithm is not
public), and so is every score, ``uniqueSearchId`` and word suggestion.

``params`` are the request's query (and form) parameters with LOWER-CASED names (the mount
lower-cases them: names are case-insensitive, WHO's ECT sends ``useFlexiSearch``).

Example:
    >>> import random
    >>> from explorer.sandbox.icd_data import IcdStore
    >>> body = search(IcdStore(), "2025-01", "en", {"q": "cholera"}, random.Random(0))
    >>> body["destinationEntities"][0]["theCode"]
    '1A00'

Emulator choices: at most 50 results (``resultChopped`` beyond); chapters 26, V and X are
left out unless ``chapterFilter`` or ``subtreesFilter`` names them (WHO: "By default the
chapters 26, V and X are not included"); an empty or punctuation-only ``q`` answers 200 with
``"error": true``; ``postcoordinationAvailability`` is 0 unless the entity's real
postcoordination axes are shipped; ``subtreeFilterUsesFoundationDescendants`` is accepted and
has no effect (the foundation graph is not served in full); synthetic entities are not
searchable; autocode's default ``matchThreshold`` is 0.6.
"""

from __future__ import annotations

import random
import re
import uuid
from collections.abc import Mapping

from ._icd_index import PROPS, STOP, TOKEN, SearchIndex, fold, query_words
from ._icd_release import Release
from .icd_data import FOUND, LIN, IcdStore

__all__ = ["search", "autocode", "flag", "MAX_RESULTS", "EXCLUDED_BY_DEFAULT"]

EXCLUDED_BY_DEFAULT = frozenset({"26", "V", "X"})
MAX_RESULTS = 50
DEFAULT_THRESHOLD = 0.6  # emulator choice: WHO does not publish its default
_TOP = 1.35  # an exact title match at the heart of its concept (score normalisation)


def flag(params: Mapping[str, str], name: str, default: bool) -> bool:
    """A boolean parameter (``name`` lower-case): ``true``/``1``/``yes`` -> True."""
    value = params.get(name.lower())
    if value is None or str(value).strip() == "":
        return default
    return str(value).strip().lower() in ("true", "1", "yes")


def _subtree_rows(rel: Release, raw: str | None) -> list[int] | None:
    """Rows named by a ``subtreesFilter`` (linearization or foundation URIs, or ids)."""
    if not raw:
        return None
    rows = []
    for item in re.split(r"[,;]", raw):
        item = item.strip().rstrip("/")
        if not item:
            continue
        key = item.split("/mms/", 1)[1] if "/mms/" in item else None
        if key is None:
            tail = item.split("/entity/", 1)[-1]
            fid, _, residual = tail.partition("/")
            row = rel.by_foundation.get(fid)
            if row is not None and residual:
                row = rel.index.get(f"{rel.keys[row]}/{residual}")
        else:
            row = rel.index.get(key)
        if row is not None:
            rows.append(row)
    return rows


def _scope(rel: Release, params: Mapping[str, str], coding_mode: bool):
    chapter_raw = params.get("chapterfilter")
    chapters = ({c.strip() for c in re.split(r"[,;]", chapter_raw) if c.strip()}
                if chapter_raw else None)
    subtrees = _subtree_rows(rel, params.get("subtreesfilter"))
    ends, chapters_no = rel.ends, rel.chapters_no

    def in_scope(row: int) -> bool:
        if chapters is not None and chapters_no[row] not in chapters:
            return False
        if subtrees is not None:
            return any(s <= row < ends[s] for s in subtrees)
        return not (chapters is None and coding_mode and chapters_no[row] in EXCLUDED_BY_DEFAULT)

    return in_scope


def _highlight(text: str, spans) -> str:
    out, pos = [], 0
    for start, end in spans:
        out.append(text[pos:start] + "<em class='found'>" + text[start:end] + "</em>")
        pos = end
    return "".join(out) + text[pos:]


def search(store: IcdStore, release: str, lang: str, params: Mapping[str, str],
           rng: random.Random, foundation: bool = False) -> dict:
    """``GET|POST .../mms/search`` (or ``/icd/entity/search`` with ``foundation=True``)."""
    q = params.get("q", "") or ""
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
    idx: SearchIndex = store.index(release, lang)
    if not idx.has_words(q):
        base["error"] = True
        base["errorMessage"] = "The search text is empty or contains only punctuation."
        return base
    rel = idx.rel
    flexible = flag(params, "useFlexisearch", False)
    highlighting = flag(params, "highlightingEnabled", True)
    coding_mode = flag(params, "medicalCodingMode", True) and not foundation
    props = None
    raw_props = params.get("propertiestobesearched")
    if raw_props and not coding_mode:
        props = {p.strip() for p in raw_props.split(",") if p.strip() in PROPS}
    in_scope = _scope(rel, params, coding_mode)
    codes = rel.codes
    if foundation:
        def returned(row: int) -> bool:
            return bool(rel.foundation[row])
    elif coding_mode:
        def returned(row: int) -> bool:
            return bool(codes[row])
    else:
        returned = None
    hits = idx.search(q, flexible=flexible, props=props, in_scope=in_scope, returned=returned)
    if len(hits) > MAX_RESULTS:
        hits = hits[:MAX_RESULTS]
        base["resultChopped"] = True
    results = [_entity(store, idx, h, release, lang, q, highlighting, foundation) for h in hits]
    if not flag(params, "flatResults", True):
        results = _nest(rel, hits, results)
    base["destinationEntities"] = results
    if flag(params, "includeKeywordResult", False):
        words = idx.completions(q, limit=11, in_scope=in_scope) or _suggestions(idx, hits, q)
        base["wordSuggestionsChopped"] = len(words) > 10
        base["words"] = [{"label": w, "dontChangeResult": False} for w in words[:10]]
    return base


def _entity(store: IcdStore, idx: SearchIndex, hit, release: str, lang: str, q: str,
            highlighting: bool, foundation: bool) -> dict:
    rel = idx.rel
    row = hit.row
    key = rel.keys[row]
    own_fid = rel.foundation[row] or key.split("/")[0]
    rec = store.enrich(lang, key)
    title = rel.title(row, lang)
    uri = f"{FOUND}/{rel.foundation[row]}" if foundation else f"{LIN}/{release}/mms/{key}"
    scales = rec.get("postcoordinationScale", ())
    availability = 2 if any(s["required"] == "true" for s in scales) else (1 if scales else 0)
    title_hit = next((lh for lh in hit.labels if lh.label == row), None)
    pvs = []
    for lh in hit.labels:
        if lh.label == row:  # WHO lists the title's match in titleIsASearchResult only
            continue
        text = idx.label_text[lh.label]
        fid = idx.label_fid.get(lh.label) or own_fid
        pvs.append({
            "propertyId": PROPS[idx.label_prop[lh.label]],
            "label": _highlight(text, idx.matched_spans(text, q)) if highlighting else text,
            "score": round(lh.score, 6),
            "important": lh.score >= 0.95,
            "foundationUri": f"{FOUND}/{fid}",
            "propertyValueType": idx.label_pvt[lh.label],
        })
    shown = (_highlight(title, idx.matched_spans(title, q))
             if highlighting and title_hit is not None else title)
    return {
        "id": uri,
        "title": shown,
        "stemId": uri,
        "isLeaf": rel.is_leaf(row),
        "postcoordinationAvailability": availability,
        "hasCodingNote": bool(rec.get("codingNote")),
        "hasMaternalChapterLink": bool(rec.get("relatedEntitiesInMaternalChapter")),
        "hasPerinatalChapterLink": bool(rec.get("relatedEntitiesInPerinatalChapter")),
        "matchingPVs": pvs,
        "propertiesTruncated": False,
        "isResidualOther": key.endswith("/other") and not foundation,
        "isResidualUnspecified": key.endswith("/unspecified") and not foundation,
        "chapter": rel.chapters_no[row],
        "theCode": None if foundation else (rel.codes[row] or None),
        "score": round(min(1.0, hit.score / _TOP), 6),
        "titleIsASearchResult": title_hit is not None,
        "titleIsTopScore": title_hit is not None and title_hit.score >= hit.own,
        "entityType": 0,
        "important": hit.own >= 0.95,
        "descendants": [],
    }


def _suggestions(idx: SearchIndex, hits, q: str, limit: int = 11) -> list[str]:
    """Word suggestion mode (the last word is complete): other words of the matching labels,
    most frequent first."""
    asked = {w for w, _ in query_words(q)}
    counts: dict[str, int] = {}
    for hit in hits:
        for lh in hit.labels:
            for word in {fold(w) for w in TOKEN.findall(idx.label_text[lh.label])}:
                if word not in asked and word not in STOP and word.isalpha() and len(word) > 2:
                    counts[word] = counts.get(word, 0) + 1
    return [w for w, _ in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:limit]]


def _nest(rel: Release, hits, results: list[dict]) -> list[dict]:
    """Hierarchical answer: each result sits in ``descendants`` of its nearest ancestor that
    is a result too; the others are the top level (best first, as their descendants)."""
    by_row = {h.row: r for h, r in zip(hits, results, strict=True)}
    roots = []
    for h, res in zip(hits, results, strict=True):
        holder = next((a for a in rel.ancestors(h.row) if a in by_row), None)
        (by_row[holder]["descendants"] if holder is not None else roots).append(res)
    return roots


def autocode(store: IcdStore, release: str, lang: str, params: Mapping[str, str],
             foundation: bool = False) -> dict:
    """``GET .../mms/autocode?searchText=...`` (or ``/icd/entity/autocode``)."""
    text = params.get("searchtext", "") or ""
    try:
        threshold = float(params.get("matchthreshold") or DEFAULT_THRESHOLD)
    except ValueError:
        threshold = DEFAULT_THRESHOLD
    idx = store.index(release, lang)
    rel = idx.rel
    in_scope = _scope(rel, params, True)
    codes = rel.codes

    def returned(row: int) -> bool:
        return bool(codes[row]) and (not foundation or bool(rel.foundation[row]))

    best = idx.best_label(text, in_scope=in_scope, returned=returned)
    if best is None or best[1] < threshold:
        return {"searchText": text, "matchLevel": 3, "matchScore": 0, "matchType": 0,
                "isTitle": False}
    label, score = best
    row = idx.label_row[label]
    key = rel.keys[row]
    pvt = idx.label_pvt[label]
    fid = idx.label_fid.get(label) or rel.foundation[row] or key.split("/")[0]
    out: dict = {"searchText": text, "matchingText": idx.label_text[label].lower()}
    if not foundation:
        out["theCode"] = rel.codes[row]
    out["foundationURI"] = f"{FOUND}/{fid}"
    if not foundation:
        out["linearizationURI"] = f"{LIN}/{release}/mms/{key}"
    out.update({"matchLevel": 0 if score >= 0.999 else 1, "matchScore": round(score, 7),
                "matchType": pvt, "isTitle": label == row})
    return out
