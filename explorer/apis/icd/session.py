"""The ICD session: WHO ICD-11 (MMS, foundation) and ICD-10 as pandas DataFrames.

Works the same against WHO's API (OAuth2), WHO's local ICD-API container
(``connect("icd", base_url="http://localhost:8382", auth=None)``) and the sandbox.

>>> import explorer
>>> icd = explorer.connect("icd", sandbox=True, language="en", cache=False, progress=False)
>>> icd.search("cholera")["code"].tolist()
['1A00']
>>> icd.code("1A00")["title"]
'Cholera'
>>> len(icd.tree("01"))
137
>>> icd10 = explorer.connect("icd", sandbox=True, revision=10, cache=False)  # or icd.icd10()
>>> icd10.code("A00")["title"]
'Cholera'

Choosing ICD-10: pass ``revision=10`` to :func:`explorer.connect` (release defaults to the
latest ICD-10 release, 2019), or call :meth:`IcdSession.icd10` on an ICD-11 session to get an
ICD-10 view sharing its connection, token and cache. ICD-10 has ``releases``, ``chapters``,
``code``/``codes``, ``entity``, ``children``, ``ancestors``, ``tree`` and ``terms``; search and
autocode exist only for ICD-11 (WHO's API offers them only there).

Where things live: this module composes the class (options, ICD-10/11 views, status);
``entities.py`` has entity/code/codes/chapters/children/ancestors/tree/terms, ``search.py``
search and autocode, ``_release.py`` the release and language checks and ``releases()``,
``_fetch.py`` how a payload is obtained (memory → disk cache → network).
"""

from __future__ import annotations

import copy
import re
import threading
from datetime import timedelta
from typing import Any

from ...errors import ConfigurationError
from ...session import Session
from ...session.cache import DEFAULT_EXPIRE, cached_transport
from ...session.parallel import DEFAULT_WORKERS
from ._fetch import FetchMixin, Memo
from ._release import ICD10_LANGUAGES, ReleaseMixin
from .entities import EntitiesMixin
from .search import SearchMixin

__all__ = ["ICD10_LANGUAGES", "IcdSession"]

_LANGUAGE = re.compile(r"[A-Za-z]{2,3}(?:-[A-Za-z0-9]{2,8})*")


class IcdSession(SearchMixin, EntitiesMixin, ReleaseMixin, FetchMixin, Session):
    """A session to the WHO ICD API (or WHO's local container, or the sandbox).

    Options (keyword arguments of :func:`explorer.connect`):

    * ``language`` (default ``"en"``) goes out as ``Accept-Language``; a language the release
      does not have raises :class:`~explorer.errors.NotFound` listing the ones it has;
    * ``release`` (default: the latest the server lists, resolved on first use);
    * ``revision`` 11 (default) or 10; ``linearization`` (default ``"mms"``);
    * ``cache``: True (SQLite file under the user cache directory; in memory for the sandbox),
      a file path, ``"memory"``, or False; ``cache_expire`` (default 30 days);
    * ``memory_cache``: how many decoded answers stay in memory besides the disk cache
      (default 10,000; 0 = none; off when ``cache=False``);
    * ``workers`` (default 8) and ``progress`` (default True) for concurrent calls.

    >>> import explorer
    >>> icd = explorer.connect("icd", sandbox=True, language="en", cache=False)
    >>> icd.release
    '2026-01'
    """

    def __init__(
        self,
        profile: Any,
        *,
        language: str = "en",
        release: str | None = None,
        revision: int | str = 11,
        linearization: str = "mms",
        cache: Any = True,
        cache_expire: timedelta | int | None = DEFAULT_EXPIRE,
        workers: int = DEFAULT_WORKERS,
        progress: bool = True,
        memory_cache: int = 10_000,
        **kwargs: Any,
    ) -> None:
        super().__init__(profile, **kwargs)
        if not isinstance(language, str) or not _LANGUAGE.fullmatch(language.strip()):
            raise ConfigurationError(f"invalid language {language!r}", provider=self.provider,
                                     hint="pass a language code such as language='en'")
        if str(revision) not in ("10", "11"):
            raise ConfigurationError(f"unknown ICD revision {revision!r}",
                                     provider=self.provider, hint="pass revision=11 or 10")
        if not isinstance(linearization, str) or not linearization.isalnum():
            raise ConfigurationError(f"invalid linearization {linearization!r}",
                                     provider=self.provider, hint="pass linearization='mms'")
        if workers < 1:
            raise ConfigurationError("workers must be >= 1", provider=self.provider,
                                     hint="pass workers=8 (the default) or another count")
        self.language = language.strip()
        self.revision = int(revision)
        self.linearization = linearization
        self.workers = workers
        self.progress = progress
        self.headers["Accept-Language"] = self.language
        self._release = self._release_arg(release)
        self._top: dict[str, Any] | None = None
        self._lock = threading.RLock()
        if cache is True and self.deployment == "sandbox":
            cache = "memory"  # sandbox data never lands in the user's cache
        self.cache = cache
        self.http = cached_transport(self.http, cache, namespace=f"{self.deployment}|"
                                     f"{self.base_url}", expire_after=cache_expire)
        on = cache is not False and cache is not None
        self._memo = Memo(memory_cache if on else 0)

    def icd10(self, release: str | None = None) -> IcdSession:
        """An ICD-10 view of this session (same connection, token and cache).

        >>> import explorer
        >>> icd = explorer.connect("icd", sandbox=True, cache=False, progress=False)
        >>> icd.icd10().code("A00")["title"]
        'Cholera'
        """
        return self._view(revision=10, release=release)

    def icd11(self, release: str | None = None) -> IcdSession:
        """An ICD-11 MMS view of this session (same connection, token and cache)."""
        return self._view(revision=11, release=release)

    def _view(self, *, revision: int, release: str | None) -> IcdSession:
        view = copy.copy(self)
        view.headers = dict(self.headers)
        view.revision = revision
        view._release = self._release_arg(release) if release else (
            self._release if revision == self.revision else None)
        view._top = None if (revision != self.revision or release) else self._top
        view._lock = threading.RLock()
        return view

    def _release_arg(self, release: Any) -> str | None:
        """``release=`` as given (``None``: the latest); one that no URL can hold is refused."""
        if not release:
            return None
        text = str(release).strip()
        if text in ("", ".", "..") or "/" in text:
            raise ConfigurationError(f"invalid release {release!r}", provider=self.provider,
                                     hint="pass a release id such as release='2026-01', or "
                                          "omit it for the latest")
        return text

    # -- display ------------------------------------------------------------------------------
    def status(self) -> dict[str, Any]:
        out = super().status()
        out["classification"] = self._what
        out["release"] = self._release or "latest (resolved on first use)"
        out["language"] = self.language
        cache = self.cache
        out["cache"] = "off" if cache is False or cache is None else (
            "on disk" if cache is True else str(cache))
        return out
