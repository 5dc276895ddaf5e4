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


# -- known misses (the crawl's network path): stored as requests-cache stores them ---------------

def _rows(path):
    con = sqlite3.connect(path)
    try:
        return dict(con.execute("SELECT key, expires FROM responses").fetchall())
    finally:
        con.close()


def test_crawl_answers_are_read_back_by_requests_cache_and_by_a_new_session(sb, tmp_path):
    path = tmp_path / "c.sqlite"
    icd = _session(sb, path)
    icd.release  # noqa: B018 - the release list and top level, through the normal path
    before = set(_rows(path))
    first = icd.tree("01")
    assert icd.http._lean is True  # the crawl wrote its own rows (checked against requests-cache)
    crawled = set(_rows(path)) - before
    assert len(crawled) >= len(first) - 1  # every entity below the root (and its lookup)
    # requests-cache itself reads every one of them: a CachedResponse, 200, fresh, same body
    for key in crawled:
        cached = icd.http.cache.get_response(key)
        assert cached is not None and cached.status_code == 200 and not cached.is_expired
        assert cached.json()["@id"].startswith("http://id.who.int/icd/release/11/")
    # the normal request path (requests-cache's lookup) is served from them: 0 requests
    uri = first["uri"].iloc[-1]
    sb.reset_counters()
    path_of = uri.replace("http://id.who.int", "")
    fresh = _session(sb, path)
    resp = fresh.http.request("GET", fresh.url(path_of), headers=fresh.headers)
    assert resp.from_cache and resp.status_code == 200
    assert fresh.get(path_of)["@id"] == uri  # Session.get: requests-cache's lookup
    assert fresh.tree("01").equals(first)
    assert sb.count(API) == 0


def test_known_misses_keep_requests_cache_expiry_rules(sb, tmp_path):
    from datetime import datetime, timedelta, timezone

    from explorer.session.cache import DEFAULT_EXPIRE, LIST_EXPIRE

    path = tmp_path / "c.sqlite"
    icd = _session(sb, path, release="2026-01")
    top = icd.url("/icd/release/11/mms")  # the unversioned release list: URLS_EXPIRE, 1 day
    entity = icd.url("/icd/release/11/2026-01/mms/257068234")  # pinned: 30 days
    now = datetime.now(timezone.utc)
    with icd.http.known_misses():
        for url in (top, entity):
            assert icd.request("GET", url).status_code == 200
        missing = icd.request("GET", icd.url("/icd/release/11/2026-01/mms/0"))
        assert missing.status_code == 404
    keys = {url: icd.http.cache.create_key(
        icd.http.prepare_request(__import__("requests").Request(
            "GET", url, headers=icd.headers)), verify=icd.http.verify) for url in (top, entity)}
    rows = _rows(path)
    for url, life in ((top, LIST_EXPIRE), (entity, DEFAULT_EXPIRE)):
        cached = icd.http.cache.get_response(keys[url])
        assert abs(cached.expires - (now + life)) < timedelta(minutes=1)
        assert rows[keys[url]] == round(cached.expires.timestamp())
    assert len(rows) == 2  # the 404 is not stored
    # expire_after=None: never expires (no expiry stored), as requests-cache does
    never = _session(sb, tmp_path / "never.sqlite", cache_expire=None)
    with never.http.known_misses():
        never.request("GET", entity)
    (value,) = _rows(tmp_path / "never.sqlite").values()
    assert value is None
    # expired rows are misses for every reader, and the crawl stores fresh ones again
    first = _session(sb, path).tree("01")
    stale = _session(sb, path)
    stale.http.cache.reset_expiration(0)
    stale.close()
    sb.reset_counters()
    assert _session(sb, path).tree("01").equals(first) and sb.count(API) >= len(first)
    assert all(e is None or e > now.timestamp() + 86000 for e in _rows(path).values())


def test_known_misses_store_no_credential_and_fall_back_when_the_format_differs(
        sb, tmp_path, monkeypatch):
    from explorer.session import cache as C

    path = tmp_path / "c.sqlite"
    creds = sb.credentials("icd", auth=False)  # the container mount: any header is accepted
    icd = explorer.connect("icd", **creds, cache=path, release="2026-01", progress=False)
    url = icd.url("/icd/release/11/2026-01/mms/257068234")
    secret = "k3y-" + "9" * 30
    with icd.http.known_misses():
        resp = icd.http.request("GET", url, headers={
            **icd.headers, "Authorization": f"Bearer {secret}", "X-API-KEY": secret,
            "API_KEY": secret, "Cookie": f"s={secret}"})
    assert resp.status_code == 200 and icd.http._lean is True
    # requests-cache's reading of the row: the credentials are redacted
    (key,) = _rows(path)
    stored = icd.http.cache.get_response(key)
    for name in ("Authorization", "X-API-KEY", "API_KEY", "Cookie"):
        assert stored.request.headers[name] == "REDACTED"
    # another requests-cache format: this transport falls back to requests-cache's own writer
    other = explorer.connect("icd", **creds, cache=tmp_path / "other.sqlite", release="2026-01",
                             progress=False)
    monkeypatch.setattr(C, "_same_record", lambda *a, **k: False)
    with other.http.known_misses():
        other.http.request("GET", url, headers={**other.headers, "X-API-KEY": secret})
        other.http.request("GET", icd.url("/icd/release/11/2026-01/mms"), headers=other.headers)
    assert other.http._lean is False and len(_rows(tmp_path / "other.sqlite")) == 2
    for session in (icd, other):
        session.close()
    blob = b"".join(p.read_bytes() for p in tmp_path.iterdir())
    assert secret.encode() not in blob and b"Bearer k3y" not in blob
