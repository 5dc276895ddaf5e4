"""The ICD content the emulator serves: WHO's release files, the real-payload excerpts, ICD-10.

* :class:`IcdStore` - the ICD-11 MMS releases served, read from WHO's SimpleTabulation files
  (the ones shipped in ``data/icd11/`` by default, or the files a user downloaded); each
  release is parsed on first use (or by :meth:`IcdStore.warm` in the background) and its
  search index is built after it.
* :func:`load_enrichment` - ``data/icd_data.json``: English excerpts of REAL WHO API payloads
  (definitions, index terms, inclusions, exclusions, postcoordination axes of a few entities,
  see ``data/NOTICE-ICD.md``), layered on the entities of the files where their ids match,
  and a verbatim ICD-10 2019 subset.
* :data:`CITATION` - WHO's required citation (ICD-11 Terms of Use section 1.3), for banners
  and docs.

Example:
    >>> store = IcdStore()
    >>> store.release_ids, store.latest
    (['2025-01', '2024-01'], '2025-01')
    >>> rel = store.release("2024-01")
    >>> rel.title(rel.by_code["CA23"])
    'Asthma'

Emulator choices: the real-payload excerpts (taken from 2024-01 and 2025-01 payloads) are
layered on every served release whose file holds the entity, in English only; a release is
identified by the release stamp in its file's header (``Version:2025 Jan 24`` -> ``2025-01``).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path
from typing import Any

from ._icd_release import Release, ReleaseFile, load_release, read_header, shipped_files

__all__ = [
    "CITATION",
    "ROOT",
    "LIN",
    "FOUND",
    "FOUNDATION_ROOT",
    "DATA_FILE",
    "IcdStore",
    "load_enrichment",
]

#: WHO's required citation of ICD-11 (ICD-11 Terms of Use and License Agreement, section 1.3).
CITATION = (
    "International Classification of Diseases, Eleventh Revision (ICD-11), World Health "
    "Organization (WHO) 2019/2021 https://icd.who.int/browse11. Licensed under Creative "
    "Commons Attribution-NoDerivatives 3.0 IGO licence (CC BY-ND 3.0 IGO)."
)

DATA_FILE = Path(__file__).parent / "data" / "icd_data.json"
ROOT = "http://id.who.int"
LIN = ROOT + "/icd/release/11"
FOUND = ROOT + "/icd/entity"
FOUNDATION_ROOT = "455013390"


@lru_cache(maxsize=1)
def load_enrichment() -> dict[str, Any]:
    """``data/icd_data.json`` (real-payload excerpts keyed by linearization key, ICD-10).

    >>> load_enrichment()["entities"]["257068234"]["fullySpecifiedName"]
    'Intestinal infection due to Vibrio cholerae'
    """
    with DATA_FILE.open(encoding="utf-8") as fh:
        return json.load(fh)


class IcdStore:
    """The releases served (newest first) and, per release, its data and search index.

    ``files``: SimpleTabulation files (paths or :class:`ReleaseFile`); ``None`` = the files
    shipped with the sandbox. Several files of one release (one per language) make one
    release served in those languages.
    """

    def __init__(self, files: Iterable[str | Path | ReleaseFile] | None = None) -> None:
        if files is None:
            found = shipped_files()
        else:
            found = [f if isinstance(f, ReleaseFile) else read_header(f) for f in files]
        if not found:
            raise ValueError("no ICD-11 release file to serve")
        self.files: dict[str, list[ReleaseFile]] = {}
        for f in sorted(found, key=lambda f: f.release_id, reverse=True):
            self.files.setdefault(f.release_id, []).append(f)
        self.release_ids: list[str] = list(self.files)
        self.latest: str = self.release_ids[0]
        self._releases: dict[str, Release] = {}
        self._indexes: dict[tuple[str, str], Any] = {}
        self._locks = {rid: threading.Lock() for rid in self.release_ids}
        self._index_lock = threading.Lock()
        self._index_locks: dict[tuple[str, str], threading.Lock] = {}
        self._warming: threading.Thread | None = None
        enrichment = load_enrichment()
        self.enrichment: dict[str, dict] = enrichment["entities"]
        self.icd10: dict = enrichment["icd10"]
        # under-shoreline foundation ids -> linearization key of the entity aggregating them
        self.aggregated: dict[str, str] = {}
        # foundation id -> ids of the entities listing it in foundationChildElsewhere (real
        # foundation parents that the tabulation does not show)
        self.elsewhere_parents: dict[str, list[str]] = {}
        for key, rec in self.enrichment.items():
            for term in [*rec.get("indexTerm", ()), *rec.get("searchTerms", ())]:
                if term.get("fref"):
                    self.aggregated.setdefault(term["fref"], key)
            for term in rec.get("foundationChildElsewhere", ()):
                if "ref" in term and "/" not in key:
                    self.elsewhere_parents.setdefault(term["ref"], []).append(key)

    def languages(self, release_id: str) -> list[str]:
        """Languages served for ``release_id`` (from its files), sorted."""
        return sorted({f.language for f in self.files.get(release_id, ())})

    def release_date(self, release_id: str) -> str | None:
        return self.files[release_id][0].release_date

    def is_loaded(self, release_id: str) -> bool:
        return release_id in self._releases

    def release(self, release_id: str) -> Release:
        """The parsed release (parsed on first call; concurrent callers wait for it).

        Parsed releases are shared by every store of the process that serves the same
        files (the arrays are read-only once built).
        """
        rel = self._releases.get(release_id)
        if rel is not None:
            return rel
        with self._locks[release_id]:
            rel = self._releases.get(release_id)
            if rel is None:
                rel = _shared(("release", _identity(self.files[release_id])),
                              lambda: load_release(self.files[release_id]))
                self._releases[release_id] = rel
        return rel

    def enrich(self, lang: str, key: str) -> dict:
        """Real-payload excerpts for ``key`` (English only; ``{}`` when none)."""
        return self.enrichment.get(key, {}) if lang == "en" else {}

    def index(self, release_id: str, lang: str):
        """The search index of a release in one language (built on first call)."""
        from ._icd_index import SearchIndex

        ident = (release_id, lang)
        idx = self._indexes.get(ident)
        if idx is not None:
            return idx
        with self._index_lock:
            lock = self._index_locks.setdefault(ident, threading.Lock())
        with lock:
            idx = self._indexes.get(ident)
            if idx is None:
                rel = self.release(release_id)
                enrichment = self.enrichment if lang == "en" else {}
                idx = _shared(("index", lang, _identity(self.files[release_id])),
                              lambda: SearchIndex(rel, lang, enrichment))
                self._indexes[ident] = idx
        return idx

    def warm_once(self) -> None:
        """Start :meth:`warm` in a daemon thread, once per store."""
        with self._index_lock:
            if self._warming is not None:
                return
            self._warming = threading.Thread(target=self.warm, name="explorer-icd-warm",
                                             daemon=True)
        self._warming.start()

    def warm(self, stop: threading.Event | None = None) -> None:
        """Load every release and build its search indexes, newest release first (a request
        for the newest release waits for this thread instead of competing with it)."""
        for rid in self.release_ids:
            for lang in self.languages(rid):
                if stop is not None and stop.is_set():
                    return
                self.index(rid, lang)  # parses the release first

_SHARED: dict[tuple, Any] = {}
_SHARED_LOCKS: dict[tuple, threading.Lock] = {}
_SHARED_GUARD = threading.Lock()


def _identity(files: list[ReleaseFile]) -> tuple:
    out = []
    for f in files:
        try:
            st = f.path.stat()
            out.append((str(f.path.resolve()), st.st_size, st.st_mtime_ns, f.language))
        except OSError:
            out.append((str(f.path), 0, 0, f.language))
    return tuple(sorted(out))


def _shared(key: tuple, build):
    """Process-wide memo of parsed releases and indexes (one build per key)."""
    value = _SHARED.get(key)
    if value is not None:
        return value
    with _SHARED_GUARD:
        lock = _SHARED_LOCKS.setdefault(key, threading.Lock())
    with lock:
        value = _SHARED.get(key)
        if value is None:
            value = build()
            _SHARED[key] = value
    return value
