"""The on-disk cache: zero requests on reruns, no secrets stored, keys that never mix, resume."""

from __future__ import annotations

import sqlite3

import pytest

import explorer
from explorer.errors import ApiError
from explorer.sandbox import Faults
from explorer.session.cache import CachedTransport, default_cache_path

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
    assert isinstance(icd.http, CachedTransport)
    icd.http.cache.close()
    blob = b"".join(p.read_bytes() for p in tmp_path.iterdir())
    assert token.encode() not in blob and secret.encode() not in blob
    assert b"Bearer" not in blob
    rows = sqlite3.connect(path).execute("select count(*) from responses").fetchone()[0]
    assert rows >= 3


def test_language_release_and_deployment_never_mix(sb, tmp_path):
    path = tmp_path / "c.sqlite"
    en = _session(sb, path)
    en.code("1A00")
    sb.reset_counters()
    fr = _session(sb, path, language="fr")
    fr.code("1A00")
    assert sb.count(API) > 0
    assert all(req == "fr" for req in [fr.headers["Accept-Language"]])
    sb.reset_counters()
    older = _session(sb, path, release="2025-01")
    assert older.code("1A00")["release"] == "2025-01"
    assert sb.count(API) > 0
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
    assert icd.release == "2026-01"  # the release list and top level: 2 requests, cached
    sb.reset_counters()
    sb.faults = Faults(script=[None] * 40 + [500], match=API + "/release/11/2026-01/mms/")
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
    assert default_cache_path() == tmp_path / "user" / "http-cache.sqlite"
    # a local container (not the sandbox): the default cache is the file under the user dir
    icd = explorer.connect("icd", base_url=real.url, auth=None, release="2025-01",
                           progress=False)
    icd.code("1A00")
    assert default_cache_path().exists()
    # the sandbox (recognised by its URL): in memory, nothing on disk
    box = explorer.connect("icd", **sb.credentials("icd"), progress=False)
    assert box.cache == "memory"
    off = explorer.connect("icd", **sb.credentials("icd"), cache=False, progress=False)
    assert not isinstance(off.http, CachedTransport)
    off.code("1A00")
    sb.reset_counters()
    off.code("1A00")
    assert sb.count(API) > 0  # no cache at all, not even in memory


@pytest.mark.parametrize("url,params", [
    ("http://127.0.0.1:8382/icd/release/11/2026-01/mms/257068234", None),
    ("http://127.0.0.1:8382/icd/release/11/2026-01/mms/1646490591/other", None),
    ("https://id.who.int/icd/release/10/2019/A00.0", None),
    ("http://127.0.0.1:1/icd/release/11/2026-01/mms/codeinfo/2C25.Z%26XK8G", None),
    ("http://HOST:1/icd/entity/1", None),
    ("http://[::1]:1/icd/entity/1", None),
    ("http://h/a b/é", None),
    ("http://h/icd/entity/1", {"releaseId": "2026-01", "include": "ancestor"}),
    ("http://h/icd/release/11/2026-01/mms/search", {"q": "chol%", "flatResults": "true"}),
])
def test_cache_keys_read_directly_are_those_requests_would_send(url, params):
    import requests

    from explorer.session.cache import prepared_url

    prepared = requests.PreparedRequest()
    prepared.prepare_url(url, params)
    assert prepared_url(url, params) == prepared.url


def test_new_session_reads_a_level_from_disk_and_respects_expiry_and_language(sb, tmp_path):
    path = tmp_path / "c.sqlite"
    first = _session(sb, path).tree("01")
    # another language over the same file: nothing of the English answers is read
    sb.reset_counters()
    fr = _session(sb, path, language="fr").tree("01")
    assert sb.count(API) >= len(first) and len(fr) == len(first)
    # answers past their expiry are not read from disk: they are asked again
    expiring = _session(sb, path)
    expiring.http.cache.reset_expiration(0)  # every stored answer expires now
    expiring.close()
    sb.reset_counters()
    again = _session(sb, path).tree("01")
    assert again.equals(first) and sb.count(API) >= len(first)
    # and once asked again, they are fresh on disk: 0 requests
    sb.reset_counters()
    assert _session(sb, path).tree("01").equals(first)
    assert sb.count(API) == 0


def test_damaged_cache_rows_are_misses_not_errors(sb, tmp_path):
    path = tmp_path / "c.sqlite"
    first = _session(sb, path).tree("01")
    con = sqlite3.connect(path)
    con.execute("UPDATE responses SET value = x'00ff'")  # not requests-cache's format
    con.commit()
    con.close()
    sb.reset_counters()
    assert _session(sb, path).tree("01").equals(first)  # asked again, stored again
    assert sb.count(API) >= len(first)
    sb.reset_counters()
    assert _session(sb, path).tree("01").equals(first)
    assert sb.count(API) == 0
