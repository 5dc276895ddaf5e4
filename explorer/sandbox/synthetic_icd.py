"""Synthetic ICD-11-shaped tree for crawling and DataFrame benchmarks.

Everything here is SYNTHETIC (not WHO content): one extra chapter with code ``S1`` (no real
ICD-11 code starts with ``S`` followed by a digit), ids from 3,000,000,001 upwards (real WHO
entity ids are below 2**31), titles ``"Synthetic ..."``. The SHAPES are those of real MMS
linearization entities: blocks with ``"code": ""``, ``blockId`` and ``codeRange``; categories
``S1A0``; sub-categories ``S1A0.1``; residuals ``S1A0.Y`` (``/other``) and ``S1A0.Z``
(``/unspecified``); block residuals ``S1AY`` / ``S1AZ``.

API::

    tree = generate(n_entities=30000, seed=0)      # SyntheticTree, exactly n_entities entities
    tree.payload(key, release="2025-01", lang="en") # what GET .../mms/{key} returns
    payloads(n_entities=30000, seed=0, release="2025-01", lang="en") -> list[dict]
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

__all__ = [
    "CATEGORIES_PER_BLOCK",
    "CHAPTER_CODE",
    "CHAPTER_ID",
    "CTX",
    "FIRST_ID",
    "FOUND",
    "LETTERS",
    "LIN",
    "SUB_CHOICES",
    "SyntheticTree",
    "generate",
    "payloads",
]

LIN = "http://id.who.int/icd/release/11"
FOUND = "http://id.who.int/icd/entity"
CTX = "http://id.who.int/icd/contexts/contextForLinearizationEntity.json"
FIRST_ID = 3_000_000_000
CHAPTER_ID = str(FIRST_ID)
CHAPTER_CODE = "S1"
LETTERS = "ABCDEFGHJKLMNPQRSTUVWXYZ"  # no I / O, as in ICD-11 codes
SUB_CHOICES = (0, 0, 2, 3, 4)
CATEGORIES_PER_BLOCK = 10


def _stem(index: int) -> str:
    out = ""
    index += 1
    while index:
        index, rem = divmod(index - 1, len(LETTERS))
        out = LETTERS[rem] + out
    return out


@dataclass
class SyntheticTree:
    """Records keyed like real entities (``id`` or ``id/other`` / ``id/unspecified``)."""

    seed: int
    records: dict[str, dict] = field(default_factory=dict)
    children: dict[str, list[str]] = field(default_factory=dict)
    by_code: dict[str, str] = field(default_factory=dict)

    chapter_key = CHAPTER_ID

    def __len__(self) -> int:
        return len(self.records)

    def __contains__(self, key: str) -> bool:
        return key in self.records

    def payload(self, key: str, release: str = "2025-01", lang: str = "en", include=()) -> dict:
        rec = self.records[key]
        base = f"{LIN}/{release}/mms/"
        out = {"@context": CTX, "@id": base + key}
        parent = rec["parent"]
        out["parent"] = [base + parent if parent else base[:-1]]
        kids = self.children.get(key)
        if kids:
            out["child"] = [base + k for k in kids]
        out["browserUrl"] = f"https://icd.who.int/browse/{release}/mms/{lang}#{key}"
        out["code"] = rec["code"]
        if "/" not in key:
            out["source"] = FOUND + "/" + key
        out["classKind"] = rec["kind"]
        if rec["kind"] == "block":
            out["blockId"] = rec["blockId"]
            out["codeRange"] = rec["codeRange"]
        out["title"] = {"@language": lang, "@value": rec["title"]}
        if "definition" in rec:
            out["definition"] = {"@language": lang, "@value": rec["definition"]}
        if rec["kind"] == "category":
            out["indexTerm"] = [{"label": {"@language": lang, "@value": rec["title"]}}]
        if "ancestor" in include:
            anc, p = [], parent
            while p:
                anc.append(base + p)
                p = self.records[p]["parent"]
            if anc:
                out["ancestor"] = anc
        if "descendant" in include:
            desc, stack = [], list(reversed(kids or []))
            while stack:
                k = stack.pop()
                desc.append(base + k)
                stack.extend(reversed(self.children.get(k, [])))
            if desc:
                out["descendant"] = desc
        return out

    def payloads(self, release: str = "2025-01", lang: str = "en") -> list[dict]:
        return [self.payload(k, release, lang) for k in self.records]


def generate(n_entities: int = 30000, seed: int = 0) -> SyntheticTree:
    """Build a synthetic chapter ``S1`` with exactly ``n_entities`` entities (>= 1)."""
    rng = random.Random(seed)
    tree = SyntheticTree(seed=seed)
    records, children, by_code = tree.records, tree.children, tree.by_code
    next_id = FIRST_ID
    budget = max(1, int(n_entities))

    def add(key, parent, **rec):
        records[key] = {"parent": parent, **rec}
        if parent:
            children.setdefault(parent, []).append(key)
        if rec["code"]:
            by_code[rec["code"]] = key
        return len(records) < budget

    def new_id() -> str:
        nonlocal next_id
        next_id += 1
        return str(next_id)

    if not add(CHAPTER_ID, None, code=CHAPTER_CODE, kind="chapter",
               title="Synthetic chapter S1 (not WHO content)"):
        return tree
    block = 0
    while True:
        stem = "S1" + _stem(block)
        bid = new_id()
        if not add(bid, CHAPTER_ID, code="", kind="block", blockId=f"BlockL1-{stem}",
                   codeRange=f"{stem}0-{stem}Z", title=f"Synthetic block {stem}"):
            return tree
        for c in range(CATEGORIES_PER_BLOCK):
            code = f"{stem}{c}"
            cid = new_id()
            rec = {"code": code, "kind": "category", "title": f"Synthetic category {code}"}
            if c % 3 == 0:
                rec["definition"] = f"Synthetic definition of {code} (not WHO content)."
            if not add(cid, bid, **rec):
                return tree
            n_sub = rng.choice(SUB_CHOICES)
            for s in range(n_sub):
                sub = f"{code}.{s}"
                if not add(new_id(), cid, code=sub, kind="category",
                           title=f"Synthetic sub-category {sub}"):
                    return tree
            if n_sub:
                if not add(cid + "/other", cid, code=code + ".Y", kind="category",
                           title=f"Synthetic category {code}, other specified"):
                    return tree
                if not add(cid + "/unspecified", cid, code=code + ".Z", kind="category",
                           title=f"Synthetic category {code}, unspecified"):
                    return tree
        if not add(bid + "/other", bid, code=stem + "Y", kind="category",
                   title=f"Other specified synthetic block {stem}"):
            return tree
        if not add(bid + "/unspecified", bid, code=stem + "Z", kind="category",
                   title=f"Synthetic block {stem}, unspecified"):
            return tree
        block += 1


def payloads(n_entities: int = 30000, seed: int = 0, release: str = "2025-01",
             lang: str = "en") -> list[dict]:
    """Raw payload dicts, exactly what the emulator returns for every synthetic entity."""
    return generate(n_entities, seed).payloads(release, lang)
