"""The payload store: zero requests on reruns, no secrets stored, keys that never mix, resume,
expiry, damaged files and rows."""

from __future__ import annotations

import sqlite3

import pytest

import explorer
from explorer.errors import ApiError
from explorer.sandbox import Faults
from explorer.session.store import SQLiteStore, default_store_path, open_store

API = "/id.who.int/icd"


def _session(sb, path, **kw):
    return explorer.connect("icd", **sb.credentials("icd"), cache=path, progress=False, **kw)


def test_repeated_tree_makes_zero_requests(sb, tmp_path):
    path = tmp_path / "c.sqlite"
    icd = _session(sb, path)
    first = icd.tree("01")
    sb.reset_counters()
    again = icd.tree("01")
    assert sb.count(API) == 0
    assert again.equals(first)
    # a new session (new process, say) over the same file: still no request, no token either
    tokens = sb.token_requests()
    fresh = _session(sb, path)
    assert fresh.tree("01").equals(first)
    assert sb.count(API) == 0 and sb.token_requests() == tokens


def test_no_secret_in_the_cache_file(sb, tmp_path):
    path = tmp_path / "c.sqlite"
    icd = _session(sb, path)
    icd.code("1A00")
    token = icd.token.access_token
    secret = sb.credentials("icd")["client_secret"]
    icd.close()
    blob = b"".join(p.read_bytes() for p in tmp_path.iterdir())
    assert token.encode() not in blob and secret.encode() not in blob
    assert b"Bearer" not in blob
    con = sqlite3.connect(path)
    rows = con.execute("select count(*) from payloads").fetchone()[0]
    columns = [r[1] for r in con.execute("pragma table_info(payloads)")]
    assert rows >= 3 and columns == ["key", "body", "expires"]  # bodies only: no headers


def test_language_release_and_deployment_never_mix(sb, real, tmp_path):
    path = tmp_path / "c.sqlite"
    en = _session(sb, path)
    en.code("1A00")
    sb.reset_counters()
    older = _session(sb, path, release="2024-01")
    assert older.code("1A00")["release"] == "2024-01"
    assert sb.count(API) > 0
    # languages (the sandbox serves English only; this server answers any of its languages)
    kw = dict(base_url=real.url, auth=None, release="2025-01", cache=path, progress=False)
    explorer.connect("icd", **kw).code("1A00")
    before = real.count()
    explorer.connect("icd", **kw).code("1A00")
    assert real.count() == before  # same language: read from the store
    fr = explorer.connect("icd", language="fr", **kw)
    fr.code("1A00")
    assert real.count() > before and fr.headers["Accept-Language"] == "fr"
    assert {s.headers.get("Accept-Language") for s in real.seen[before:]} == {"fr"}
    sb.reset_counters()
    container = explorer.connect("icd", **sb.credentials("icd", auth=False), cache=path,
                                 progress=False)
    container.code("1A00")
    assert sb.count("/icd-container/") > 0


def test_interrupted_crawl_resumes_with_nothing_lost(sb, tmp_path):
    clean = _session(sb, tmp_path / "clean.sqlite")
    sb.reset_counters()
    total = len(clean.tree("01"))
    needed = sb.count(API)
    path = tmp_path / "c.sqlite"
    icd = _session(sb, path)
    assert icd.release == "2025-01"  # the release list and top level: 2 requests, cached
    sb.reset_counters()
    sb.faults = Faults(script=[None] * 40 + [500], match=API + "/release/11/2025-01/mms/")
    try:
        with pytest.raises(ApiError):
            icd.tree("01")
    finally:
        sb.faults = None
    first = sb.count(API)
    sb.reset_counters()
    resumed = _session(sb, path).tree("01")  # a new session: only the disk cache helps
    assert len(resumed) == total
    # every answer received before the failure was kept: only the rest was asked again
    assert 0 < sb.count(API) == needed - 2 - (first - 1)


def test_cache_false_and_default_location(sb, real, tmp_path, monkeypatch):
    monkeypatch.setenv("EXPLORER_CACHE_DIR", str(tmp_path / "user"))
    assert default_store_path() == tmp_path / "user" / "payloads.sqlite"
    # a local container (not the sandbox): the default store is the file under the user dir
    icd = explorer.connect("icd", base_url=real.url, auth=None, release="2025-01",
                           progress=False)
    icd.code("1A00")
    assert default_store_path().exists()
    # connect(sandbox=…) asks the emulator, which keeps answers in memory: nothing on disk
    box = explorer.connect("icd", sandbox=sb, progress=False)
    assert box.cache == "memory"
    off = explorer.connect("icd", sandbox=sb, cache=False, progress=False)
    assert off._ctx.payloads.store is None
    off.code("1A00")
    sb.reset_counters()
    off.code("1A00")
    assert sb.count(API) > 0  # no cache at all, not even in memory


def test_new_session_reads_a_level_from_disk_and_respects_expiry(sb, tmp_path):
    path = tmp_path / "c.sqlite"
    first = _session(sb, path).tree("01")
    # answers past their expiry are not read from disk: they are asked again
    con = sqlite3.connect(path)
    con.execute("UPDATE payloads SET expires = 1")  # every stored answer expired long ago
    con.commit()
    con.close()
    sb.reset_counters()
    again = _session(sb, path).tree("01")
    assert again.equals(first) and sb.count(API) >= len(first)
    # and once asked again, they are fresh on disk: 0 requests
    sb.reset_counters()
    assert _session(sb, path).tree("01").equals(first)
    assert sb.count(API) == 0


def test_expiry_rules(sb, tmp_path):
    """Pinned answers live ``cache_expire`` (30 days), the unversioned lists a day,
    ``cache_expire=None`` never expires."""
    import time

    path = tmp_path / "c.sqlite"
    icd = _session(sb, path)
    icd.code("1A00")
    icd.close()
    rows = dict(sqlite3.connect(path).execute("select key, expires from payloads"))
    now = time.time()
    lists = [k for k in rows if k.endswith("|/icd/release/11/mms")]
    pinned = [k for k in rows if "/mms/" in k and "codeinfo" not in k]
    assert lists and pinned
    assert all(abs(rows[k] - (now + 86400)) < 120 for k in lists)
    assert all(abs(rows[k] - (now + 30 * 86400)) < 120 for k in pinned)
    never = _session(sb, tmp_path / "never.sqlite", cache_expire=None)
    never.code("1A00")
    never.close()
    rows = dict(sqlite3.connect(tmp_path / "never.sqlite").execute(
        "select key, expires from payloads where key not like '%|/icd/release/11/mms'"))
    assert rows and all(v is None for v in rows.values())


def test_damaged_cache_rows_are_misses_not_errors(sb, tmp_path):
    path = tmp_path / "c.sqlite"
    first = _session(sb, path).tree("01")
    con = sqlite3.connect(path)
    con.execute("UPDATE payloads SET body = x'00ff'")  # not a compressed body
    con.commit()
    con.close()
    sb.reset_counters()
    assert _session(sb, path).tree("01").equals(first)  # asked again, stored again
    assert sb.count(API) >= len(first)
    sb.reset_counters()
    assert _session(sb, path).tree("01").equals(first)
    assert sb.count(API) == 0


def test_store_batches_and_memory(tmp_path):
    store = open_store(tmp_path / "s.sqlite")
    assert isinstance(store, SQLiteStore)
    keys = [f"k{i}" for i in range(1200)]  # more than one query's worth
    for i, key in enumerate(keys):
        store.put(key, f'{{"i": {i}}}'.encode(), expires=None)
    got = store.get_many([*keys, "absent"])
    assert got[:3] == [b'{"i": 0}', b'{"i": 1}', b'{"i": 2}'] and got[-1] is None
    assert len([g for g in got if g]) == 1200 and store.count() == 1200
    store.put("old", b"x", expires=1.0)
    assert store.get("old") is None
    store.close()
    memory = open_store("memory")
    memory.put("a", b"1", expires=None)
    memory.put("b", b"2", expires=1.0)
    assert memory.get_many(["a", "b"]) == [b"1", None]
