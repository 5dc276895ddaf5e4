"""The payload store: decoded answers kept on disk (SQLite, standard library) or in memory.

A session that fetches many stable payloads (ICD entities) keeps each answer's body here under
a key it chooses, with an expiry. Nothing else is stored: no headers, no cookies, no request —
so no credential can land on disk. Reads come in batches (one query for a whole crawl level);
each write is committed as it arrives, so an interrupted crawl resumes from what it got.

* ``open_store(True)``: ``<user cache dir>/explorer/payloads.sqlite`` (``EXPLORER_CACHE_DIR``
  overrides the folder); ``open_store(path)``: that file (a folder: ``payloads.sqlite`` in it);
  ``open_store("memory")``: a dict for the session's life; ``open_store(False)``: no store.
* A damaged file, a path that cannot hold a database, or one locked by another process: a
  :class:`~explorer.errors.ConfigurationError` naming the path, or (locked) a warning and a
  memory store.

>>> store = open_store("memory")
>>> store.put("k", b'{"a": 1}', expires=None); store.get_many(["k", "x"])
[b'{"a": 1}', None]
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import threading
import time
import warnings
import zlib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ..errors import ConfigurationError

__all__ = ["DEFAULT_FILE", "MemoryStore", "SQLiteStore", "Store", "default_store_path",
           "open_store"]

DEFAULT_FILE = "payloads.sqlite"
_BATCH = 500  # keys per query (well under SQLite's variable limit)
_SCHEMA = 1
#: How long opening waits for another process's lock before falling back to memory (s).
OPEN_TIMEOUT = 1.0
#: How long a write waits for another process's lock before it is skipped (s).
WRITE_TIMEOUT = 5.0


def default_store_path() -> Path:
    """``<user cache dir>/explorer/payloads.sqlite`` (``EXPLORER_CACHE_DIR`` overrides the
    folder)."""
    root = os.environ.get("EXPLORER_CACHE_DIR")
    if not root:
        from platformdirs import user_cache_dir

        root = user_cache_dir("explorer", appauthor=False)
    return Path(root) / DEFAULT_FILE


class Store:
    """Bodies by key, with an expiry (a UNIX time, or ``None`` for never)."""

    location = "memory"

    def get_many(self, keys: Sequence[str]) -> list[bytes | None]:
        """The fresh bodies of ``keys`` (``None`` where absent or expired), in order."""
        raise NotImplementedError

    def get(self, key: str) -> bytes | None:
        return self.get_many([key])[0]

    def put(self, key: str, body: bytes, *, expires: float | None) -> None:
        raise NotImplementedError

    def count(self) -> int:
        """Entries held (fresh or not)."""
        raise NotImplementedError

    def close(self) -> None:
        pass

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.location}>"


class MemoryStore(Store):
    """A dict, for the session's life."""

    def __init__(self) -> None:
        self._data: dict[str, tuple[bytes, float | None]] = {}
        self._lock = threading.Lock()

    def get_many(self, keys: Sequence[str]) -> list[bytes | None]:
        now = time.time()
        with self._lock:
            got = [self._data.get(k) for k in keys]
        return [v[0] if v is not None and (v[1] is None or v[1] > now) else None for v in got]

    def put(self, key: str, body: bytes, *, expires: float | None) -> None:
        with self._lock:
            self._data[key] = (bytes(body), expires)

    def count(self) -> int:
        return len(self._data)


class SQLiteStore(Store):
    """One SQLite file: table ``payloads(key, body, expires)``, bodies zlib-compressed, WAL
    journal (readers never wait for the writer). Each thread reads on its own connection;
    writes go through one connection under a lock, committed one by one."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.location = str(path)
        self._local = threading.local()
        self._readers: list[sqlite3.Connection] = []
        self._lock = threading.Lock()
        self._writer = self._connect(OPEN_TIMEOUT)
        self._writer.execute("PRAGMA journal_mode=WAL")
        self._writer.execute("PRAGMA synchronous=NORMAL")
        self._writer.execute("CREATE TABLE IF NOT EXISTS payloads (key TEXT PRIMARY KEY, "
                             "body BLOB NOT NULL, expires REAL)")
        self._writer.execute("CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, "
                             "value TEXT)")
        self._writer.execute("INSERT OR IGNORE INTO meta VALUES ('schema', ?)", (str(_SCHEMA),))
        self._writer.commit()
        self._writer.execute(f"PRAGMA busy_timeout={int(WRITE_TIMEOUT * 1000)}")
        self._warned = False
        self._waiting = True

    def _connect(self, timeout: float) -> sqlite3.Connection:
        return sqlite3.connect(self.path, timeout=timeout, check_same_thread=False,
                               isolation_level="DEFERRED")

    def _reader(self) -> sqlite3.Connection:
        con = getattr(self._local, "con", None)
        if con is None:
            con = self._connect(WRITE_TIMEOUT)
            self._local.con = con
            with self._lock:
                self._readers.append(con)
        return con

    def get_many(self, keys: Sequence[str]) -> list[bytes | None]:
        con = self._reader()
        now = time.time()
        found: dict[str, bytes] = {}
        try:
            for i in range(0, len(keys), _BATCH):
                chunk = list(keys[i:i + _BATCH])
                marks = ",".join("?" * len(chunk))
                rows = con.execute(f"SELECT key, body FROM payloads WHERE key IN ({marks}) "
                                   "AND (expires IS NULL OR expires > ?)", (*chunk, now))
                for key, body in rows:
                    try:
                        found[key] = zlib.decompress(body)
                    except zlib.error:  # a damaged entry is a miss; a new answer replaces it
                        continue
        except sqlite3.Error:  # locked or damaged since opening: a miss, never a crash
            return [None] * len(keys)
        return [found.get(k) for k in keys]

    def put(self, key: str, body: bytes, *, expires: float | None) -> None:
        data = zlib.compress(body, 1)
        try:
            with self._lock:
                self._writer.execute("INSERT OR REPLACE INTO payloads VALUES (?, ?, ?)",
                                     (key, data, expires))
                self._writer.commit()
                if self._waiting is False:  # the lock is gone: wait again next time
                    self._writer.execute(f"PRAGMA busy_timeout={int(WRITE_TIMEOUT * 1000)}")
                    self._waiting = True
        except sqlite3.Error as exc:  # another process holds the file: keep going, say it once
            with self._lock:
                with contextlib.suppress(sqlite3.Error):
                    self._writer.rollback()
                    self._writer.execute("PRAGMA busy_timeout=0")  # the next ones fail fast
                self._waiting = False
            if not self._warned:
                self._warned = True
                warnings.warn(f"cache {self.path}: answers are not being saved ({exc}); "
                              "they will be fetched again next time", stacklevel=3)

    def count(self) -> int:
        return int(self._reader().execute("SELECT count(*) FROM payloads").fetchone()[0])

    def close(self) -> None:
        with self._lock:
            for con in [self._writer, *self._readers]:
                con.close()
            self._readers.clear()
        self._local = threading.local()


def open_store(cache: Any = True, *, provider: str | None = None) -> Store | None:
    """The store ``cache`` names: ``True`` (the default file), a path, ``"memory"``, or
    ``False``/``None`` (no store). See the module docstring for failures.

    >>> open_store(False) is None, type(open_store("memory")).__name__
    (True, 'MemoryStore')
    """
    if cache is False or cache is None:
        return None
    if cache == "memory":
        return MemoryStore()
    if cache is not True and not isinstance(cache, (str, os.PathLike)):
        raise ConfigurationError(f"cache={cache!r} is not a cache setting", provider=provider,
                                 hint="pass cache=True, a file path, 'memory' or False")
    path = default_store_path() if cache is True else Path(cache).expanduser()
    if path.is_dir() or str(cache).endswith(os.sep):
        path = path / DEFAULT_FILE
    hint = ("pass cache= another file, cache='memory' or cache=False; or delete the file if "
            "it is damaged")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ConfigurationError(f"cannot create the cache folder {str(path.parent)!r} "
                                 f"({exc.strerror or type(exc).__name__})", provider=provider,
                                 hint=hint) from None
    try:
        return SQLiteStore(path)
    except ValueError as exc:  # sqlite3.connect: "embedded null byte"
        raise ConfigurationError(f"cannot open the cache file {str(path)!r} ({exc})",
                                 provider=provider, hint=hint) from None
    except sqlite3.OperationalError as exc:
        if "locked" in str(exc).lower():
            warnings.warn(f"the cache file {str(path)!r} is locked by another process; "
                          "this session keeps its answers in memory instead", stacklevel=2)
            return MemoryStore()
        raise ConfigurationError(f"cannot open the cache file {str(path)!r} ({exc})",
                                 provider=provider, hint=hint) from None
    except sqlite3.DatabaseError as exc:
        raise ConfigurationError(f"the cache file {str(path)!r} is not a usable database "
                                 f"({exc})", provider=provider, hint=hint) from None

