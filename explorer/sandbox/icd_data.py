"""Loading and indexing of the shipped ICD data subset (``data/icd_data.json``).

The data file is a verbatim subset of WHO's ICD-11 MMS and ICD-10 2019 content (see
``data/NOTICE-ICD.md``); every record carries a ``prov`` key naming its source or marking
what the explorer project inferred or invented.
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

__all__ = [
    "DATA_FILE",
    "FOUND",
    "FOUNDATION_ROOT",
    "LIN",
    "NO_TRANSLATION",
    "RESIDUAL_SUFFIXES",
    "ROOT",
    "IcdData",
    "load",
    "plain",
    "text",
]

DATA_FILE = Path(__file__).parent / "data" / "icd_data.json"
ROOT = "http://id.who.int"
LIN = ROOT + "/icd/release/11"
FOUND = ROOT + "/icd/entity"
FOUNDATION_ROOT = "455013390"
NO_TRANSLATION = " [No translation available]"
RESIDUAL_SUFFIXES = ("other", "unspecified")


class IcdData:
    """Indexed view of the shipped ICD-11 subset (shared by all served releases)."""

    def __init__(self, raw: dict):
        self.raw = raw
        self.releases: dict = raw["releases"]
        self.latest = next(iter(self.releases))
        self.all_releases: list[str] = raw["allReleases"]
        self.chapters: list[str] = raw["chapters"]
        self.entities: dict[str, dict] = raw["entities"]
        self.foundation_only: dict[str, dict] = raw["foundationOnly"]
        self.icd10: dict = raw["icd10"]
        self.children: dict[str, list[str]] = {}
        for key, rec in self.entities.items():
            if rec.get("parent"):
                self.children.setdefault(rec["parent"], []).append(key)
        for key, kids in self.children.items():
            kids.sort(key=self._order_key(self.entities.get(key, {})))
        self.by_code: dict[str, str] = {
            rec["code"]: key for key, rec in self.entities.items() if rec.get("code")
        }
        self.chapter_of: dict[str, str] = {}
        for key in self.entities:
            self.chapter_of[key] = self._find_chapter(key)
        # under-shoreline foundation ids -> the linearization entity aggregating them
        self.aggregated: dict[str, str] = {}
        for key, rec in self.entities.items():
            for term in rec.get("indexTerm", []):
                if "fref" in term:
                    self.aggregated.setdefault(term["fref"], key)

    def _order_key(self, parent: dict):
        real = parent.get("realChildOrder") or []
        pos = {k: i for i, k in enumerate(real)}
        entities = self.entities

        def key(k: str):
            rec = entities[k]
            residual = k.rsplit("/", 1)[-1] if "/" in k else ""
            rank = {"": 0, "other": 1, "unspecified": 2}[residual]
            sort_code = rec.get("code") or rec.get("codeRange") or "~" + k
            return (rank, pos.get(k, len(pos)), sort_code)

        return key

    def _find_chapter(self, key: str) -> str:
        seen = 0
        while key and seen < 50:
            rec = self.entities.get(key)
            if rec is None:
                return ""
            if rec["kind"] == "chapter":
                return key
            key = rec.get("parent")
            seen += 1
        return ""

    def ancestors(self, key: str) -> list[str]:
        out = []
        rec = self.entities.get(key)
        while rec and rec.get("parent"):
            out.append(rec["parent"])
            rec = self.entities.get(rec["parent"])
        return out

    def descendants(self, key: str) -> list[str]:
        out: list[str] = []
        stack = list(reversed(self.children.get(key, [])))
        while stack:
            k = stack.pop()
            out.append(k)
            stack.extend(reversed(self.children.get(k, [])))
        return out


@lru_cache(maxsize=1)
def load() -> IcdData:
    with DATA_FILE.open(encoding="utf-8") as fh:
        return IcdData(json.load(fh))


def text(values: dict | None, lang: str, fallback: bool = True) -> dict | None:
    """JSON-LD language-tagged value in ``lang``.

    Strings not translated fall back to English with WHO's " [No translation available]" marker
    (observed in real Arabic payloads for titles/labels); with ``fallback=False`` the property is
    omitted instead (real payloads omit untranslated definitions).
    """
    if not values:
        return None
    if lang in values:
        return {"@language": lang, "@value": values[lang]}
    if fallback and "en" in values:
        suffix = "" if lang == "en" else NO_TRANSLATION
        return {"@language": lang, "@value": values["en"] + suffix}
    return None


def plain(values: dict | None, lang: str) -> str | None:
    lt = text(values, lang)
    return lt["@value"] if lt else None
