"""The ICD session: WHO ICD-11 (MMS, foundation) and ICD-10 as pandas DataFrames.

Works the same against WHO's API (OAuth2), WHO's local ICD-API container
(``connect("icd", base_url="http://localhost:8382", auth=None)``) and the sandbox.

>>> import explorer
>>> icd = explorer.connect("icd", sandbox=True, language="en", cache=False, progress=False)
>>> icd.search("cholera")["code"].tolist()[:2]
['1A00', 'QC90.00']
>>> icd.code("1A00")["title"]
'Cholera'
>>> len(icd.tree("01"))
1064
>>> icd10 = explorer.connect("icd", sandbox=True, revision=10, cache=False)  # or icd.icd10()
>>> icd10.code("A00")["title"]
'Cholera'

Choosing ICD-10: pass ``revision=10`` to :func:`explorer.connect` (release defaults to the
latest ICD-10 release, 2019), or call :meth:`IcdSession.icd10` on an ICD-11 session to get an
ICD-10 view sharing its connection, token and payloads. ICD-10 has ``releases``, ``chapters``,
``code``/``codes``, ``entity``, ``children``, ``ancestors``, ``tree`` and ``terms``; search and
autocode exist only for ICD-11 (WHO's API offers them only there).

How it is built: an :class:`IcdSession` is a facade over a :class:`~._context.Context` —
the deployment's shared :class:`~._source.Payloads` (memory → payload store → network) and
this facade's own release value. :meth:`IcdSession.icd10` and :meth:`IcdSession.icd11` make new
facades over the same payloads. The helpers live in ``entities.py`` and ``search.py``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any

import pandas as pd

from ...errors import ConfigurationError
from ...session import Session
from ...session.store import open_store
from . import diff, entities, search
from ._args import checked
from ._context import Context, release_arg
from ._source import DEFAULT_EXPIRE, Payloads
from .tree import MAX_ENTITIES

__all__ = ["IcdSession"]

_LANGUAGE = re.compile(r"[A-Za-z]{2,3}(?:-[A-Za-z0-9]{2,8})*")


class IcdSession(Session):
    """A session to the WHO ICD API (or WHO's local container, or the sandbox).

    Options (keyword arguments of :func:`explorer.connect`):

    * ``language`` (default ``"en"``) goes out as ``Accept-Language``; a language the release
      does not have raises :class:`~explorer.errors.NotFound` listing the ones it has;
    * ``release`` (default: the latest the server lists, resolved on first use);
    * ``revision`` 11 (default) or 10; ``linearization`` (default ``"mms"``);
    * ``cache``: True (a SQLite payload store under the user cache directory), a file path,
      ``"memory"``, or False; ``cache_expire`` (default 30 days);
    * ``memory_cache``: how many decoded answers stay in memory besides the store (default
      10,000; 0 = none; off when ``cache=False``);
    * ``workers``: pin a fixed pool of that many threads for concurrent calls (default: none —
      they adapt to the server, up to ``connect(max_workers=…)`` requests in flight, see
      :mod:`explorer.session.parallel`); ``progress`` (default True) shows a bar;
    * ``max_entities`` (default 200,000): the most entities one crawl may meet (a whole
      release has about 37,000) — a server inventing links is stopped there.

    >>> import explorer
    >>> icd = explorer.connect("icd", sandbox=True, language="en", cache=False)
    >>> icd.release
    '2025-01'
    """

    def __init__(
        self,
        api: Any,
        *,
        language: str = "en",
        release: str | None = None,
        revision: int | str = 11,
        linearization: str = "mms",
        cache: Any = True,
        cache_expire: timedelta | int | None = DEFAULT_EXPIRE,
        workers: int | None = None,
        progress: bool = True,
        memory_cache: int = 10_000,
        max_entities: int = MAX_ENTITIES,
        **kwargs: Any,
    ) -> None:
        super().__init__(api, **kwargs)
        if not isinstance(language, str) or not _LANGUAGE.fullmatch(language.strip()):
            raise ConfigurationError(f"invalid language {language!r}", provider=self.provider,
                                     hint="pass a language code such as language='en'")
        if str(revision) not in ("10", "11"):
            raise ConfigurationError(f"unknown ICD revision {revision!r}",
                                     provider=self.provider, hint="pass revision=11 or 10")
        if not isinstance(linearization, str) or not linearization.isalnum():
            raise ConfigurationError(f"invalid linearization {linearization!r}",
                                     provider=self.provider, hint="pass linearization='mms'")
        if workers is not None and (not isinstance(workers, int) or workers < 1):
            raise ConfigurationError("workers must be >= 1", provider=self.provider,
                                     hint="pass workers=8 for a fixed pool, or leave it out "
                                          "for an adaptive one")
        language = language.strip()
        self.headers["Accept-Language"] = language
        self.cache = cache
        store = open_store(cache, provider=self.provider)
        payloads = Payloads(self, store, memo=memory_cache,
                            namespace=self.base_url,
                            expire=cache_expire)
        self._ctx = Context(payloads, language=language, revision=int(revision),
                            linearization=linearization,
                            release=release_arg(release, self.provider), workers=workers,
                            progress=progress, max_entities=max_entities)

    # -- facades --------------------------------------------------------------------------------
    def _facade(self, *, revision: int, release: str | None) -> IcdSession:
        view = type(self).__new__(type(self))
        Session.__init__(view, self.api, urls=self.urls, auth=self.auth, flow=self.flow,
                         headers=self.headers, http=self.http, redact=self.redact,
                         deployment=self.deployment)
        view.cache = self.cache
        view._ctx = self._ctx.with_release(revision=revision,
                                           release=release_arg(release, self.provider))
        return view

    @checked
    def icd10(self, release: str | None = None) -> IcdSession:
        """An ICD-10 view of this session (same connection, token and payloads).

        >>> import explorer
        >>> icd = explorer.connect("icd", sandbox=True, cache=False, progress=False)
        >>> icd.icd10().code("A00")["title"]
        'Cholera'
        """
        return self._facade(revision=10, release=release)

    @checked
    def icd11(self, release: str | None = None) -> IcdSession:
        """An ICD-11 MMS view of this session (same connection, token and payloads)."""
        return self._facade(revision=11, release=release)

    # -- what the facade speaks -----------------------------------------------------------------
    @property
    def language(self) -> str:
        """The language of every answer (``Accept-Language``)."""
        return self._ctx.language

    @property
    def revision(self) -> int:
        """11 (ICD-11) or 10 (ICD-10)."""
        return self._ctx.revision

    @property
    def linearization(self) -> str:
        """The ICD-11 linearization (``"mms"``)."""
        return self._ctx.linearization

    @property
    def workers(self) -> int | None:
        """A pinned pool size for concurrent calls (``None``: adaptive)."""
        return self._ctx.workers

    @property
    def progress(self) -> bool:
        """Whether concurrent calls show a progress bar."""
        return self._ctx.progress

    @property
    def release(self) -> str:
        """The release id in use (``"2025-01"``, ``"2019"`` for ICD-10); resolved on first use.

        >>> import explorer
        >>> icd = explorer.connect("icd", sandbox=True, cache=False, progress=False)
        >>> icd.release
        '2025-01'
        """
        return self._ctx.release

    @checked
    def releases(self) -> pd.DataFrame:
        """The releases the server lists, newest first.

        Columns: ``release, date, languages, prerelease_languages, latest, title, uri``.

        >>> import explorer
        >>> icd = explorer.connect("icd", sandbox=True, cache=False, progress=False)
        >>> icd.releases()["release"].head(2).tolist()
        ['2025-01', '2024-01']
        """
        return entities.releases(self._ctx)

    # -- entities -------------------------------------------------------------------------------
    @checked
    def chapters(self, *, workers: int | None = None,
                 progress: bool | None = None) -> pd.DataFrame:
        """The chapters of the release (entity columns, ``depth`` 1).

        >>> import explorer
        >>> icd = explorer.connect("icd", sandbox=True, cache=False, progress=False)
        >>> icd.chapters()["code"].head(3).tolist()
        ['01', '02', '03']
        """
        return entities.chapters(self._ctx, workers=workers, progress=progress)

    @checked
    def entity(self, ref: str, *, foundation: bool | None = None) -> pd.Series:
        """One entity by id (``"257068234"``, ``"1646490591/other"``), URI or code.

        A bare id is looked up in the linearization (MMS) first and in the foundation when the
        MMS does not have it; ``foundation=True`` asks the foundation directly. Foundation
        entities keep every parent (``parent_ids``).

        >>> import explorer
        >>> icd = explorer.connect("icd", sandbox=True, cache=False, progress=False)
        >>> icd.entity("257068234")["code"]
        '1A00'
        """
        return entities.entity(self._ctx, ref, foundation=foundation)

    @checked
    def code(self, code: str) -> pd.Series:
        """One code as a Series (:data:`~explorer.apis.icd.frames.CODE_COLUMNS`).

        Residual codes (``1F0Y``) and postcoordinated clusters (``2C25.Z&XK8G``) work; for a
        cluster the row describes the stem entity, ``code`` is the whole cluster, ``stem_code``
        the stem and ``postcoordination`` maps each axis to its codes.

        >>> import explorer
        >>> icd = explorer.connect("icd", sandbox=True, cache=False, progress=False)
        >>> icd.code("1A00")["title"]
        'Cholera'
        """
        return entities.code(self._ctx, code)

    @checked
    def codes(self, codes: Iterable[str], *, errors: str = "raise", workers: int | None = None,
              progress: bool | None = None) -> pd.DataFrame:
        """Many codes, fetched concurrently; one row per code, in the order given.

        ``errors="ignore"`` gives an unknown code a row with only ``query`` filled instead of
        raising :class:`~explorer.errors.NotFound`.

        >>> import explorer
        >>> icd = explorer.connect("icd", sandbox=True, cache=False, progress=False)
        >>> icd.codes(["1A00", "8B20"])["title"].tolist()
        ['Cholera', 'Stroke not known if ischaemic or haemorrhagic']
        """
        return entities.codes(self._ctx, codes, errors=errors, workers=workers,
                              progress=progress)

    @checked
    def children(self, ref: str, *, workers: int | None = None,
                 progress: bool | None = None) -> pd.DataFrame:
        """The direct children of a code, id or URI (entity columns), in WHO's order.

        >>> import explorer
        >>> icd = explorer.connect("icd", sandbox=True, cache=False, progress=False)
        >>> icd.children("01")["title"].head(1).tolist()
        ['Gastroenteritis or colitis of infectious origin']
        """
        return entities.children(self._ctx, ref, workers=workers, progress=progress)

    @checked
    def ancestors(self, ref: str) -> pd.DataFrame:
        """The ancestors of a code, id or URI: chapter first, direct parent last.

        >>> import explorer
        >>> icd = explorer.connect("icd", sandbox=True, cache=False, progress=False)
        >>> icd.ancestors("1A00")["class_kind"].tolist()
        ['chapter', 'block', 'block']
        """
        return entities.ancestors(self._ctx, ref)

    @checked
    def tree(self, ref: str | None = None, *, max_depth: int | None = None,
             workers: int | None = None, progress: bool | None = None) -> pd.DataFrame:
        """The whole subtree of a chapter, block or category (root included), in tree order —
        or, with no ``ref``, every entity of the release (:meth:`classification`).

        Entities are fetched concurrently as soon as they are discovered, paced by the host's
        adaptive limiter (``workers=N`` pins a fixed pool); a bar shows entities/s and an ETA.
        Every answer is kept in the payload store as it arrives, so a repeated call makes no
        request and an interrupted one resumes where it stopped (stored levels are read in one
        query each). ``max_depth`` limits the levels below the root.

        >>> import explorer
        >>> icd = explorer.connect("icd", sandbox=True, cache=False, progress=False)
        >>> icd.tree("01", max_depth=1).shape
        (24, 29)
        """
        return entities.tree(self._ctx, ref, max_depth=max_depth, workers=workers,
                             progress=progress)

    @checked
    def classification(self, *, workers: int | None = None,
                       progress: bool | None = None) -> pd.DataFrame:
        """Every entity of the release (chapters, blocks, categories) as one DataFrame, in
        tree order: ``tree()`` of the whole release. With a payload store (``cache=True`` or a
        path) an interrupted run resumes and a rerun makes no request.

        >>> import explorer
        >>> icd = explorer.connect("icd", sandbox=True, cache=False, progress=False)
        >>> df = icd.classification()                       # doctest: +SKIP
        >>> df["class_kind"].value_counts().to_dict()       # doctest: +SKIP
        {'category': 35339, 'block': 1415, 'chapter': 28}
        """
        return self.tree(workers=workers, progress=progress)

    @checked
    def terms(self, ref: str) -> pd.DataFrame:
        """Every term of an entity as long rows: ``kind`` (``synonym``, ``narrower_term``,
        ``inclusion``, ``exclusion``, ``index_term``, ``child_elsewhere``,
        ``fully_specified_name``), ``label``, ``reference``…

        >>> import explorer
        >>> icd = explorer.connect("icd", sandbox=True, cache=False, progress=False)
        >>> icd.terms("1A00").query("kind == 'inclusion'")["label"].tolist()
        ['cholera syndrome']
        """
        return entities.terms(self._ctx, ref)

    @checked
    def compare(self, old: str, new: str | None = None, *,
                chapters: Iterable[str] | str | None = None, workers: int | None = None,
                progress: bool | None = None) -> pd.DataFrame:
        """What changed from release ``old`` to release ``new`` (default: this session's
        release): one row per entity that changed, ``change`` one of ``added``, ``removed``,
        ``recoded``, ``moved``, ``retitled``, ``residual-changed`` (see
        :func:`explorer.apis.icd.compare` for keys, kinds and columns).

        Both releases are crawled at once (:meth:`classification` of each: concurrent,
        paced by the host's adaptive limiter, kept in the payload store — a rerun makes no
        request, an interrupted one resumes), then compared. ``chapters=["01"]`` crawls
        only those chapters (an entity moved to another chapter then shows as removed and
        added).

        >>> import explorer
        >>> icd = explorer.connect("icd", sandbox=True, cache=False, progress=False)
        >>> df = icd.compare("2024-01", "2025-01", chapters=["04"])
        >>> df[["new_code", "change"]].values.tolist()
        [['4A85.1', 'retitled'], ['4B00.0', 'retitled']]
        """
        search._icd11_only(self._ctx, "compare")
        if isinstance(chapters, str):
            chapters = [chapters]
        chapters = [str(c).strip().upper() for c in chapters] if chapters else None
        views = [self._ctx.with_release(revision=11, release=release_arg(r, self.provider))
                 for r in (old, new or self.release)]
        for ctx in views:
            ctx.ensure()  # an unknown release fails here, before any crawl
        with ThreadPoolExecutor(max_workers=2, thread_name_prefix="explorer-compare") as pool:
            futures = [pool.submit(entities.release_frame, ctx, chapters, workers=workers,
                                   progress=progress) for ctx in views]
            frames = [f.result() for f in futures]
        return diff.compare(frames[0], frames[1])

    # -- words → codes --------------------------------------------------------------------------
    @checked
    def search(self, q: str, *, chapters: Iterable[str] | str | None = None,
               subtrees: Iterable[str] | str | None = None, flexible: bool = False,
               medical_coding: bool = True, properties: Iterable[str] | str | None = None,
               foundation: bool = False) -> pd.DataFrame:
        """Search the release (or the foundation), best first (:data:`SEARCH_COLUMNS`).

        ``chapters`` filters by chapter codes (``["01", "21"]``), ``subtrees`` by entity ids or
        URIs; ``flexible`` turns on WHO's flexisearch; ``properties`` (with
        ``medical_coding=False``) picks what is searched (``Title``, ``Definition``…).
        ``q`` may end a word with ``%`` (wildcard). ``df.attrs["result_chopped"]`` tells when
        WHO cut the list.

        >>> import explorer
        >>> icd = explorer.connect("icd", sandbox=True, cache=False, progress=False)
        >>> icd.search("cholera")[["code", "title"]].values.tolist()[:2]
        [['1A00', 'Cholera'], ['QC90.00', 'Exposure to cholera']]
        """
        return search.search(self._ctx, q, chapters=chapters, subtrees=subtrees,
                             flexible=flexible, medical_coding=medical_coding,
                             properties=properties, foundation=foundation)

    @checked
    def autocode(self, texts: Iterable[str] | str, *, threshold: float | None = None,
                 subtrees: Iterable[str] | str | None = None, workers: int | None = None,
                 progress: bool | None = None) -> pd.DataFrame:
        """The best code for each diagnostic text, one row per text (:data:`AUTOCODE_COLUMNS`).

        A text without a match (below WHO's threshold, or ``threshold=``) has no ``code``.

        >>> import explorer
        >>> icd = explorer.connect("icd", sandbox=True, cache=False, progress=False)
        >>> icd.autocode(["cerebrovascular accident", "cholera"])["code"].tolist()
        ['8B20', '1A00']
        """
        return search.autocode(self._ctx, texts, threshold=threshold, subtrees=subtrees,
                               workers=workers, progress=progress)

    # -- display and life cycle -----------------------------------------------------------------
    def status(self) -> dict[str, Any]:
        out = super().status()
        out["classification"] = self._ctx.what
        out["release"] = self._ctx.release_id or "latest (resolved on first use)"
        out["language"] = self.language
        cache = self.cache
        out["cache"] = "off" if cache is False or cache is None else (
            "on disk" if cache is True else str(cache))
        return out

    def close(self) -> None:
        self._ctx.payloads.close()
        super().close()
