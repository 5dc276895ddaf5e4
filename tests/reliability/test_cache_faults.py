"""Cache faults: the payload store the ICD session opens at ``connect()`` (issue item 16).

Every fault is a real file on disk, a real lock held by another process, and a session talking
to the sandbox over 127.0.0.1. What is promised: a damaged file or a path that cannot hold a
database is a :class:`~explorer.errors.ConfigurationError` naming the path with a hint (never a
raw ``sqlite3`` error, never the user's file overwritten); a file locked by another process is
a visible warning within about a second and a session that keeps its answers in memory.
"""

from __future__ import annotations

import os
import select
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import explorer
from explorer import ConfigurationError, sandbox
from explorer.session import store as store_module

API = "/id.who.int/icd"
#: codes of chapter 1 the sandbox knows (each one is several answers to store)
CODES = ["1A01", "1A02", "1A03", "1A04", "1A05", "1A06"]


@pytest.fixture(scope="module")
def box() -> Iterator[sandbox.Sandbox]:
    with sandbox.start() as s:
        yield s


def _connect(box: sandbox.Sandbox, cache: Any) -> Any:
    return explorer.connect("icd", sandbox=box, cache=cache, progress=False)


def _assert_names(exc: ConfigurationError, path: Path) -> None:
    text = str(exc)
    assert str(path) in text, text
    assert exc.hint, "a hint says what to do"
    assert "cache=" in exc.hint


def _store(session: Any) -> Any:
    return session._ctx.payloads.store


def _works(box: sandbox.Sandbox, session: Any) -> None:
    """The session answers, and a repeated answer comes from its store (no request)."""
    assert session.code("1A00")["title"] == "Cholera"
    box.reset_counters()
    assert session.code("1A00")["title"] == "Cholera"
    assert box.count(API) == 0


# -- damaged files ------------------------------------------------------------------------------
DAMAGED = {
    "text": b"this is not a database, it is somebody's notes\n" * 200,
    "zeros": b"\0" * 8192,
    "sqlite-header-then-garbage": b"SQLite format 3\0" + os.urandom(8192),
}


@pytest.mark.parametrize("content", DAMAGED.values(), ids=DAMAGED)
def test_a_damaged_cache_file_is_a_configuration_error_naming_it(box, tmp_path, content):
    path = tmp_path / "payloads.sqlite"
    path.write_bytes(content)
    with pytest.raises(ConfigurationError) as caught:
        _connect(box, path)
    _assert_names(caught.value, path)
    assert not isinstance(caught.value.__cause__ or caught.value.__context__,
                          sqlite3.DatabaseError) or caught.value.__suppress_context__
    assert path.read_bytes() == content  # the file is left as it was


def test_a_cache_file_damaged_after_its_header_is_a_configuration_error(box, tmp_path):
    """A real store whose schema page is overwritten: SQLite reads it as malformed."""
    path = tmp_path / "payloads.sqlite"
    _connect(box, path).close()
    data = bytearray(path.read_bytes())
    data[100:1024] = os.urandom(924)  # page 1 after the 100-byte header: the schema
    path.write_bytes(bytes(data))
    for suffix in ("-wal", "-shm"):
        Path(str(path) + suffix).unlink(missing_ok=True)
    with pytest.raises(ConfigurationError) as caught:
        _connect(box, path)
    _assert_names(caught.value, path)


def test_an_empty_file_becomes_the_store(box, tmp_path):
    path = tmp_path / "payloads.sqlite"
    path.touch()
    _works(box, _connect(box, path))
    assert path.stat().st_size > 0


# -- locked by another process --------------------------------------------------------------------
LOCKER = """
import sqlite3, sys
con = sqlite3.connect(sys.argv[1], isolation_level=None)
con.execute("CREATE TABLE IF NOT EXISTS held (x)")
con.execute("BEGIN EXCLUSIVE")
con.execute("INSERT INTO held VALUES (1)")
print("locked", flush=True)
sys.stdin.read()
con.execute("ROLLBACK")
"""


class Locker:
    """Another process holding ``BEGIN EXCLUSIVE`` on ``path`` until :meth:`release`."""

    def __init__(self, path: Path) -> None:
        self.proc = subprocess.Popen([sys.executable, "-c", LOCKER, str(path)],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        ready, _, _ = select.select([self.proc.stdout], [], [], 10)
        assert ready and self.proc.stdout.readline().strip() == "locked"

    def release(self) -> None:
        if self.proc.stdin and not self.proc.stdin.closed:
            self.proc.stdin.close()
        try:
            self.proc.wait(5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(5)


@pytest.mark.parametrize("made_by", ["explorer", "another-program"])
def test_a_cache_file_locked_by_another_process_is_a_warning_and_memory(box, tmp_path,
                                                                          made_by):
    path = tmp_path / "payloads.sqlite"
    if made_by == "explorer":  # a store in WAL mode, with answers in it
        first = _connect(box, path)
        first.code("1A00")
        first.close()
    locker = Locker(path)
    try:
        t0 = time.monotonic()
        with pytest.warns(UserWarning) as seen:
            session = _connect(box, path)
        took = time.monotonic() - t0
        assert took < 2.5, f"connect waited {took:.1f}s for the lock"
        message = " ".join(str(w.message) for w in seen)
        assert str(path) in message and "memory" in message
        assert type(_store(session)).__name__ == "MemoryStore"
        _works(box, session)  # the session works, its answers kept in memory
    finally:
        locker.release()


def test_a_store_locked_after_opening_keeps_answering(box, tmp_path, monkeypatch):
    """Locked between two calls: a write that cannot land is skipped with one warning, never
    an error; the session keeps answering."""
    monkeypatch.setattr(store_module, "WRITE_TIMEOUT", 0.3)  # the wait per write, shortened
    path = tmp_path / "payloads.sqlite"
    session = _connect(box, path)
    session.code("1A00")
    locker = Locker(path)
    try:
        with warnings.catch_warnings(record=True) as seen:
            warnings.simplefilter("always")
            assert session.code("1A01")["code"] == "1A01"
        notes = [str(w.message) for w in seen if str(path) in str(w.message)]
        assert len(notes) == 1, notes
    finally:
        locker.release()
    _works(box, session)


def test_a_store_locked_after_opening_waits_once_not_once_per_write(box, tmp_path,
                                                                     monkeypatch):
    """A crawl under a lock another process holds: after the first write that times out, the
    others are skipped at once (else 1,000 answers wait 1,000 x 5 s)."""
    monkeypatch.setattr(store_module, "WRITE_TIMEOUT", 0.3)
    path = tmp_path / "payloads.sqlite"
    session = _connect(box, path)
    session.code("1A00")
    locker = Locker(path)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            t0 = time.monotonic()
            for code in CODES:
                session.code(code)
            took = time.monotonic() - t0
    finally:
        locker.release()
    assert took < 3 * store_module.WRITE_TIMEOUT + 1, f"{took:.1f}s for {len(CODES)} codes"


# -- paths that cannot hold a database ------------------------------------------------------------
def test_a_directory_holds_the_store_file(box, tmp_path):
    folder = tmp_path / "cache-folder"
    folder.mkdir()
    session = _connect(box, folder)
    _works(box, session)
    assert (folder / "payloads.sqlite").is_file()
    assert _store(session).location == str(folder / "payloads.sqlite")


def test_a_folder_to_be_made_holds_the_store_file(box, tmp_path):
    folder = tmp_path / "new" / "deeper"
    _works(box, _connect(box, str(folder) + os.sep))
    assert (folder / "payloads.sqlite").is_file()


@pytest.mark.parametrize("depth", [1, 2])
def test_a_path_under_a_regular_file_is_a_configuration_error(box, tmp_path, depth):
    blocker = tmp_path / "notes.txt"
    blocker.write_text("keep me")
    path = blocker.joinpath(*["sub"] * (depth - 1), "payloads.sqlite")
    with pytest.raises(ConfigurationError) as caught:
        _connect(box, path)
    assert str(path.parent) in str(caught.value) or str(path) in str(caught.value)
    assert caught.value.hint
    assert blocker.read_text() == "keep me"


def test_a_folder_whose_store_file_is_a_folder_is_a_configuration_error(box, tmp_path):
    (tmp_path / "payloads.sqlite").mkdir()  # cache=tmp_path means tmp_path/payloads.sqlite
    with pytest.raises(ConfigurationError) as caught:
        _connect(box, tmp_path)
    _assert_names(caught.value, tmp_path / "payloads.sqlite")


def test_a_path_with_a_nul_byte_is_a_configuration_error(box, tmp_path):
    with pytest.raises(ConfigurationError):
        _connect(box, str(tmp_path / "a\0b.sqlite"))


def test_a_fifo_is_a_configuration_error_not_a_hang(box, tmp_path):
    """A path that is not a regular file (here a named pipe) must not block connect()."""
    path = tmp_path / "payloads.sqlite"
    os.mkfifo(path)
    outcome: dict[str, Any] = {}

    def attempt() -> None:
        try:
            outcome["session"] = _connect(box, path)
        except BaseException as exc:  # noqa: BLE001 - reported below
            outcome["error"] = exc

    worker = threading.Thread(target=attempt, daemon=True)
    worker.start()
    worker.join(5)
    if worker.is_alive():
        # unblock the reader so the thread can end: open the other side and write a header
        with open(path, "wb") as unblock:
            unblock.write(b"\0" * 4096)
        worker.join(5)
        pytest.fail("connect() blocked on a named pipe given as the cache file")
    assert isinstance(outcome.get("error"), ConfigurationError), outcome
    assert str(path) in str(outcome["error"])


# -- read-only locations -------------------------------------------------------------------------
def _read_only_folder() -> Path:
    """A folder anyone may enter and nobody but root may write (root: see below)."""
    folder = Path(tempfile.mkdtemp(prefix="explorer-ro-", dir="/tmp" if os.name == "posix"
                                   else None))
    return folder


def _as_unprivileged(call: Any) -> tuple[str, str]:
    """Run ``call()`` in a forked child that has dropped root (uid/gid 65534: root writes
    everywhere, so a read-only folder is read-only only for someone else). Returns the type
    name and text of what it raised (``("", "")`` if nothing). Bounded: 20 s."""
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: no pytest, no threads; report through the pipe, then _exit
        code = 0
        try:
            os.close(read)
            os.setgroups([])
            os.setgid(65534)
            os.setuid(65534)
            try:
                call()
                result = "\n"
            except BaseException as exc:  # noqa: BLE001 - reported to the parent
                result = f"{type(exc).__name__}\n{exc}"
            os.write(write, result.encode("utf-8", "replace"))
        except BaseException:  # noqa: BLE001
            code = 1
        finally:
            os._exit(code)
    os.close(write)
    chunks = []
    deadline = time.monotonic() + 20
    with os.fdopen(read, "rb") as pipe:
        while (left := deadline - time.monotonic()) > 0:
            ready, _, _ = select.select([pipe], [], [], left)
            if not ready:
                break
            chunk = os.read(pipe.fileno(), 65536)
            if not chunk:
                break
            chunks.append(chunk)
    for _ in range(100):
        done, _ = os.waitpid(pid, os.WNOHANG)
        if done:
            break
        time.sleep(0.05)
    else:
        os.kill(pid, 9)
        os.waitpid(pid, 0)
    kind, _, text = b"".join(chunks).decode().partition("\n")
    return kind, text


@pytest.mark.skipif(not hasattr(os, "fork"), reason="POSIX only")
@pytest.mark.parametrize("what", ["new-file", "folder", "existing-file"])
def test_a_read_only_location_is_a_configuration_error(box, what):
    folder = _read_only_folder()
    try:
        if what == "existing-file":
            _connect(box, folder / "payloads.sqlite").close()
            os.chmod(folder / "payloads.sqlite", 0o444)
        for extra in folder.iterdir():  # no WAL leftovers a reader could lean on
            if extra.name != "payloads.sqlite":
                extra.unlink()
        os.chmod(folder, 0o555)
        target = folder if what == "folder" else folder / "payloads.sqlite"
        expected = folder / "payloads.sqlite"
        if os.geteuid() == 0:
            # load everything the child needs while it can still read the install
            _connect(box, "memory").close()
            kind, text = _as_unprivileged(lambda: _connect(box, target))
        else:
            kind, text = "", ""
            try:
                _connect(box, target)
            except BaseException as exc:  # noqa: BLE001
                kind, text = type(exc).__name__, str(exc)
        assert kind == "ConfigurationError", (kind, text)
        assert str(expected) in text or str(folder) in text, text
    finally:
        os.chmod(folder, 0o755)
        shutil.rmtree(folder, ignore_errors=True)
