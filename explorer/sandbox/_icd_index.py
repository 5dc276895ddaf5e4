"""Search index over one release's titles and real index terms (emulator's own ranking).

WHO's search algorithm is not public; the ranking here is the emulator's (emulator choice),
built to put first the concept a person means:

* every query word must match a word of a label (title, or a real index term / inclusion /
  synonym / fully specified name shipped in ``data/icd_data.json``), in any order, as an exact
  word (quality 1), as a prefix (0.9: ``chol`` -> ``cholera``) or by a light English stem
  (0.85: ``depression`` -> ``depressive``); stop words (``of``, ``the``, ...) are optional;
  ``useFlexisearch`` drops the "every word" rule;
* a label scores ``coverage * (0.35 + 0.65 * tightness)``, tightness being the share of the
  label's words (weighted by inverse document frequency, so ``of`` or ``unspecified`` weigh
  little) that the query matched;
* an entity's score is its best label's, plus a "concept" bonus when it lies under (or is)
  the grouping whose own title matches the query best (``tuberculosis`` -> the block
  Tuberculosis 1B10-1B1Z, ``diabetes`` -> the block Diabetes mellitus 5A10-5A1Z).

Example:
    >>> from explorer.sandbox.icd_data import IcdStore
    >>> idx = IcdStore().index("2025-01", "en")
    >>> [idx.rel.codes[h.row] for h in idx.search("asthma")[:1]]
    ['CA23']
"""

from __future__ import annotations

import math
import re
import unicodedata
from array import array
from bisect import bisect_left
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

from .._gc import no_gc
from ._icd_release import BLOCK, CHAPTER, Release

__all__ = ["SearchIndex", "Hit", "LabelHit", "PROPS", "fold", "stem", "query_words"]

TOKEN = re.compile(r"[^\W_]+")
QUERY_WORD = re.compile(r"([^\W_]+)(%?)")
STOP = frozenset({"a", "an", "and", "as", "at", "by", "for", "from", "in", "into", "is", "of",
                  "on", "or", "the", "to", "with", "nos"})
PROPS = ("Title", "Synonym", "NarrowerTerm", "FullySpecifiedName", "Definition", "Exclusion",
         "IndexTerm", "Inclusion")
_PROP_ID = {p: i for i, p in enumerate(PROPS)}
_PROP_WEIGHT = {"Title": 1.0, "Synonym": 0.97, "NarrowerTerm": 0.95, "IndexTerm": 0.97,
                "Inclusion": 0.95, "FullySpecifiedName": 0.95, "Exclusion": 0.5,
                "Definition": 0.6}
_SUFFIXES = ("ational", "ations", "ation", "ically", "ities", "ments", "ment", "ness", "ions",
             "ives", "ion", "ive", "ity", "ical", "ous", "ies", "ing", "ed", "ic", "al", "es",
             "s", "e", "y")
RowFilter = Callable[[int], bool]
_SUFFIX_RE = re.compile("(?:" + "|".join(sorted(_SUFFIXES, key=len, reverse=True)) + ")$")
EXACT, PREFIX, STEMMED = 1.0, 0.9, 0.8
CONCEPT_BONUS = 0.35
MAX_PREFIX_TOKENS = 4000


def fold(text: str) -> str:
    """Lower case without accents (``Ménière`` -> ``meniere``)."""
    text = text.lower()
    if text.isascii():
        return text
    return "".join(c for c in unicodedata.normalize("NFKD", text)
                   if not unicodedata.combining(c))


def stem(word: str) -> str:
    """A light English stem: ``depression``/``depressive`` -> ``depress``."""
    if len(word) <= 4 or not word.isalpha():
        return word
    m = _SUFFIX_RE.search(word)  # the longest suffix
    if m is not None and m.start() >= 4:
        word = word[: m.start()]
    elif m is not None:
        for suffix in _SUFFIXES:  # a shorter one that leaves 4 letters
            if word.endswith(suffix) and len(word) - len(suffix) >= 4:
                word = word[: -len(suffix)]
                break
    if word.endswith("e") and len(word) > 4:
        word = word[:-1]
    return word


_ASCII_SPLIT = str.maketrans({chr(c): " " for c in range(1, 128) if not chr(c).isalnum()})


def _tokenize_all(texts: list[str]) -> list[list[str]]:
    """``TOKEN.findall(fold(text))`` for every text; ASCII texts in one C-level pass."""
    fast = [t.isascii() and "\0" not in t for t in texts]
    ascii_rows = [i for i, ok in enumerate(fast) if ok]
    joined = "\0".join(texts[i] for i in ascii_rows).lower().translate(_ASCII_SPLIT)
    out: list[list[str]] = [[] for _ in texts]
    for i, line in zip(ascii_rows, joined.split("\0"), strict=True):
        out[i] = line.split()
    for i, text in enumerate(texts):
        if not fast[i]:
            out[i] = TOKEN.findall(fold(text))
    return out


def query_words(q: str) -> list[tuple[str, bool]]:
    """Folded query words as ``(word, required)``; stop words are not required.

    >>> query_words("Fracture of FEMUR%")
    [('fracture', True), ('of', False), ('femur', True)]
    """
    words: list[str] = []
    for m in QUERY_WORD.finditer(fold(q or "")):
        if m.group(1) not in words:
            words.append(m.group(1))
    if words and all(w in STOP for w in words):
        return [(w, True) for w in words]
    return [(w, w not in STOP) for w in words]


@dataclass
class LabelHit:
    label: int
    score: float


@dataclass
class Hit:
    """One matching entity: ``row``, ``score`` (final), ``own`` (best label) and labels."""

    row: int
    score: float
    own: float
    labels: list[LabelHit] = field(default_factory=list)
    children: list[Hit] = field(default_factory=list)


class SearchIndex:
    """Inverted index (word -> labels) over one release in one language."""

    def __init__(self, rel: Release, lang: str, enrichment: dict[str, dict]) -> None:
        self.rel = rel
        self.lang = lang
        titles = rel.titles.get(lang) or rel.titles[rel.languages[0]]
        self.label_row = array("i", range(len(rel)))
        self.label_prop = bytearray(len(rel))  # Title = 0
        self.label_pvt = bytearray(len(rel))
        self.label_fid: dict[int, str] = {}
        self.label_text: list[str] = list(titles)
        for key, rec in enrichment.items():
            row = rel.index.get(key)
            if row is None:
                continue
            seen = {fold(titles[row])}
            extra: list[tuple[str, str, str, int]] = []
            for term in rec.get("searchTerms", ()):
                extra.append((term["propertyId"], term["label"], term.get("fref", ""),
                              term.get("pvt", 0)))
            for term in rec.get("indexTerm", ()):
                fref = term.get("fref", "")
                extra.append(("Title" if fref else "Synonym", term["label"], fref,
                              1 if fref else 0))
            for term in rec.get("inclusion", ()):
                extra.append(("Synonym", term["label"], "", 0))
            for term in rec.get("synonym", ()):
                extra.append(("Synonym", term["label"], "", 0))
            if rec.get("fullySpecifiedName"):
                extra.append(("FullySpecifiedName", rec["fullySpecifiedName"], "", 0))
            for term in rec.get("exclusion", ()):
                extra.append(("Exclusion", term["label"], "", 0))
            if rec.get("definition"):
                extra.append(("Definition", rec["definition"], "", 0))
            for prop, text, fref, pvt in extra:
                if prop not in ("Exclusion", "Definition"):
                    if fold(text) in seen:
                        continue
                    seen.add(fold(text))
                self.label_fid[len(self.label_text)] = fref
                self.label_row.append(row)
                self.label_prop.append(_PROP_ID.get(prop, 1))
                self.label_pvt.append(pvt)
                self.label_text.append(text)
        with no_gc():
            self._build()

    # -- building ----------------------------------------------------------------------------
    def _build(self) -> None:
        tokens_of = _tokenize_all(self.label_text)
        df = Counter(t for toks in tokens_of for t in set(toks))
        self.vocab: list[str] = sorted(df)
        tok_id = self.tok_id = {t: i for i, t in enumerate(self.vocab)}
        n = len(tokens_of)
        log = math.log
        idf = self.idf = array("d", [log((n + 1) / (df[t] + 0.5)) for t in self.vocab])
        self.stems: dict[str, list[int]] = {}
        for i, t in enumerate(self.vocab):
            self.stems.setdefault(stem(t), []).append(i)
        postings: list[list[int]] = [[] for _ in self.vocab]
        offsets = [0]
        flat: list[int] = []
        weights = []
        for label, toks in enumerate(tokens_of):
            ids = [tok_id[t] for t in toks]
            flat.extend(ids)
            offsets.append(len(flat))
            weights.append(sum([idf[i] for i in ids]) or 1.0)
            for i in set(ids):
                postings[i].append(label)
        self.tokens = array("i", flat)
        self.offsets = array("i", offsets)
        self.weights = array("d", weights)
        self.postings = [array("i", p) for p in postings]

    # -- matching -----------------------------------------------------------------------------
    def word_tokens(self, word: str) -> dict[int, float]:
        """Vocabulary ids matching ``word`` with their quality (exact, prefix, stem)."""
        out: dict[int, float] = {}
        lo = bisect_left(self.vocab, word)
        vocab = self.vocab
        hi = lo
        while hi < len(vocab) and vocab[hi].startswith(word) and hi - lo < MAX_PREFIX_TOKENS:
            out[hi] = EXACT if vocab[hi] == word else PREFIX
            hi += 1
        for i in self.stems.get(stem(word), ()):
            out.setdefault(i, STEMMED)
        return out

    def search(self, q: str, *, flexible: bool = False, props: set[str] | None = None,
               in_scope: RowFilter | None = None,
               returned: RowFilter | None = None) -> list[Hit]:
        """Matching entities, best first.

        ``in_scope(row) -> bool``: the part of the classification searched (chapter and
        subtree filters); ``returned(row) -> bool``: which of those may be returned (e.g.
        only coded entities). Concepts are looked for in the whole scope.
        """
        words = query_words(q)
        if not words:
            return []
        per_word: list[dict[int, float]] = []
        required: list[bool] = []
        matched_tokens: set[int] = set()
        for word, req in words:
            toks = self.word_tokens(word)
            matched_tokens.update(toks)
            labels: dict[int, float] = {}
            postings = self.postings
            for tid, quality in toks.items():
                for label in postings[tid]:
                    if labels.get(label, 0.0) < quality:
                        labels[label] = quality
            per_word.append(labels)
            required.append(req)
        n_req = sum(required) or 1
        req_words = [pw for pw, r in zip(per_word, required, strict=True) if r]
        if flexible:
            candidates = set().union(*per_word)
        else:
            req_sets = sorted(req_words, key=len)
            if not req_sets:
                return []
            candidates = set(req_sets[0])
            for other in req_sets[1:]:
                candidates.intersection_update(other)
        allowed_props = None
        if props:
            allowed_props = {_PROP_ID[p] for p in props if p in _PROP_ID}
            if "IndexTerm" in props:
                allowed_props |= {_PROP_ID["Synonym"], _PROP_ID["NarrowerTerm"],
                                  _PROP_ID["Inclusion"]}
        label_score: dict[int, float] = {}
        tokens, offsets, idf, weights = self.tokens, self.offsets, self.idf, self.weights
        label_prop, label_pvt = self.label_prop, self.label_pvt
        for label in candidates:
            prop = label_prop[label]
            if allowed_props is not None and not (
                    prop in allowed_props or (label_pvt[label] and "IndexTerm" in props)):
                continue
            cover = sum(pw.get(label, 0.0) for pw in req_words) / n_req
            if flexible and not cover:
                continue
            hit_weight = 0.0
            for tid in set(tokens[offsets[label]:offsets[label + 1]]):
                if tid in matched_tokens:
                    hit_weight += idf[tid]
            tight = min(1.0, hit_weight / weights[label])
            label_score[label] = cover * (0.35 + 0.65 * tight) * _PROP_WEIGHT[PROPS[prop]]
        return self._rank(label_score, in_scope, returned)

    def _rank(self, label_score: dict[int, float], in_scope: RowFilter | None,
              returned: RowFilter | None) -> list[Hit]:
        rel, label_row = self.rel, self.label_row
        hits: dict[int, Hit] = {}
        for label, score in label_score.items():
            row = label_row[label]
            if in_scope is not None and not in_scope(row):
                continue
            hit = hits.get(row)
            if hit is None:
                hit = hits[row] = Hit(row, 0.0, 0.0)
            hit.labels.append(LabelHit(label, score))
            if score > hit.own:
                hit.own = score
        # concept: the entity (not a chapter) whose own labels match best, weighted by how
        # many matches lie in its subtree
        count: dict[int, int] = {}
        for row in hits:
            count[row] = count.get(row, 0) + 1
            for anc in rel.ancestors(row):
                if anc in hits:
                    count[anc] = count.get(anc, 0) + 1
        strength = {row: hit.own * (1.0 + 0.5 * math.log(1 + count[row]))
                    for row, hit in hits.items() if rel.kinds[row] != CHAPTER}
        top = max(strength.values(), default=0.0)
        out = []
        for row, hit in hits.items():
            if returned is not None and not returned(row):
                continue
            bonus = 0.0
            if top > 0:
                # the best concept at or above the entity; 0.8 per level below it
                bonus = CONCEPT_BONUS * (strength.get(row, 0.0) / top) ** 8
                for distance, anc in enumerate(rel.ancestors(row), 1):
                    g = strength.get(anc)
                    if g is not None:
                        bonus = max(bonus, CONCEPT_BONUS * (g / top) ** 8 * 0.8 ** distance)
            hit.score = hit.own + bonus
            hit.labels.sort(key=lambda lh: (-lh.score, lh.label))
            out.append(hit)
        out.sort(key=lambda h: (-h.score, -h.own, rel.kinds[h.row] == BLOCK, h.row))
        return out

    def has_words(self, q: str) -> bool:
        return bool(query_words(q))

    def best_label(self, text: str, *, in_scope: RowFilter | None = None,
                   returned: RowFilter | None = None) -> tuple[int, float] | None:
        """Autocode: the label best matching a whole phrase, as ``(label, score)``.

        Score = (share of the phrase's words matched, weighted by inverse document frequency;
        unknown words weigh most) x (share of the label's words matched): 1 for an exact
        label, ~0.75 for "Patient with cerebrovascular accident" -> "Cerebrovascular accident".
        """
        words = [w for w, req in query_words(text) if req]
        if not words:
            return None
        unknown = math.log(len(self.label_text) + 1)
        weights, per_word, matched = [], [], set()
        for word in words:
            toks = self.word_tokens(word)
            exact = [t for t, qual in toks.items() if qual == EXACT]
            weights.append(self.idf[exact[0]] if exact else unknown)
            labels: dict[int, float] = {}
            for tid, quality in toks.items():
                matched.add(tid)
                for label in self.postings[tid]:
                    if labels.get(label, 0.0) < quality:
                        labels[label] = quality
            per_word.append(labels)
        total = sum(weights)
        pairs = list(zip(weights, per_word, strict=True))
        best: tuple[int, float] | None = None
        label_row = self.label_row
        for label in set().union(*per_word):
            row = label_row[label]
            if self.label_prop[label] in (_PROP_ID["Definition"], _PROP_ID["Exclusion"]):
                continue
            if (in_scope is not None and not in_scope(row)) or (
                    returned is not None and not returned(row)):
                continue
            cover = sum(w * pw.get(label, 0.0) for w, pw in pairs) / total
            hit_weight = sum(self.idf[t] for t in set(
                self.tokens[self.offsets[label]:self.offsets[label + 1]]) if t in matched)
            score = cover * min(1.0, hit_weight / self.weights[label])
            if best is None or score > best[1] + 1e-12 or (
                    abs(score - best[1]) <= 1e-12 and label < best[0]):
                best = (label, score)
        return best

    # -- helpers for payloads ------------------------------------------------------------------
    def matched_spans(self, text: str, q: str) -> list[tuple[int, int]]:
        """Character spans of ``text``'s words that the query matches (for highlighting)."""
        matched: set[int] = set()
        for word, _ in query_words(q):
            matched.update(self.word_tokens(word))
        spans = []
        for m in TOKEN.finditer(text):
            tid = self.tok_id.get(fold(m.group(0)))
            if tid is not None and tid in matched:
                spans.append((m.start(), m.end()))
        return spans

    def completions(self, q: str, limit: int = 10,
                    in_scope: RowFilter | None = None) -> list[str]:
        """Words completing the query's last word, most frequent first (only words found in
        labels of entities ``in_scope``)."""
        words = query_words(q)
        if not words:
            return []
        last = words[-1][0]
        lo = bisect_left(self.vocab, last)
        found = []
        for i in range(lo, min(len(self.vocab), lo + MAX_PREFIX_TOKENS)):
            token = self.vocab[i]
            if not token.startswith(last):
                break
            if token == last or not token.isalpha():
                continue
            labels = self.postings[i]
            if in_scope is not None:
                n = sum(1 for label in labels if in_scope(self.label_row[label]))
            else:
                n = len(labels)
            if n:
                found.append((n, token))
        found.sort(key=lambda f: (-f[0], f[1]))
        return [t for _, t in found[:limit]]
