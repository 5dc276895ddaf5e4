"""The whole release in one call: rows and ids of a full crawl, a crawl killed half-way that
resumes from the payload store (nothing fetched twice, nothing lost), politeness under a rate
limit, and the bounds a hostile server meets."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

import explorer
from explorer import sandbox
from explorer.errors import ApiError

pytestmark = pytest.mark.timeout(300)
API = "/id.who.int/icd"
ROOT = Path(__file__).resolve().parents[3]

CHILD = """
import sys, explorer
creds = dict(arg.split("=", 1) for arg in sys.argv[1:])
icd = explorer.connect("icd", cache=creds.pop("cache"), progress=False, max_workers=4,
                       **creds)
icd.tree("02")
"""


def test_a_killed_crawl_resumes_with_nothing_fetched_twice_or_lost(tmp_path):
    path = tmp_path / "c.sqlite"
    with sandbox.start(latency=0.01) as box:
        clean = explorer.connect("icd", sandbox=box, progress=False)  # memory: a clean crawl
        expected = clean.tree("02")
        total = len(expected)
        creds = {k: v for k, v in box.credentials("icd").items()
                 if k in ("client_id", "client_secret", "base_url", "token_url")}
        box.reset_counters()
        child = subprocess.Popen([sys.executable, "-c", CHILD, f"cache={path}",
                                  *(f"{k}={v}" for k, v in creds.items())],
                                 cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)})
        deadline = time.monotonic() + 120
        while box.count(API) < total // 3 and time.monotonic() < deadline:
            time.sleep(0.05)
        child.send_signal(signal.SIGKILL)  # no goodbye: whatever was stored stays
        child.wait(10)
        assert child.returncode == -signal.SIGKILL
        import sqlite3

        stored = sqlite3.connect(path).execute(
            "select count(*) from payloads where key like '%/mms/%'").fetchone()[0]
        assert 0 < stored < total
        box.reset_counters()
        resumed = explorer.connect("icd", sandbox=box, cache=path, progress=False)
        df = resumed.tree("02")
        assert len(df) == total and df["id"].tolist() == expected["id"].tolist()
        assert df["id"].is_unique
        fetched = box.count(API + "/release/11/2025-01/mms/")
        # every stored entity came from the store; only the others went to the network
        # (the release list, top level and the codeinfo of "02" aside)
        assert fetched <= total - stored + 5
        box.reset_counters()
        again = explorer.connect("icd", sandbox=box, cache=path, progress=False)
        assert again.tree("02")["id"].tolist() == expected["id"].tolist()
        assert box.count(API + "/release/11/2025-01/mms/") == 0  # a rerun: no request


def test_a_rate_limited_crawl_is_polite(tmp_path):
    with sandbox.start(rate_limit=200, burst=50) as box:
        icd = explorer.connect("icd", sandbox=box, progress=False, max_workers=16)
        df = icd.tree("01")
        assert len(df) == 1064
        limited = box.rate_limited()
        assert limited <= 0.02 * len(df)  # it found the limit and kept under it
        assert icd.limiter().rate is None or icd.limiter().rate < 250


def test_a_server_inventing_children_is_stopped(tmp_path):
    import itertools
    import json
    import threading

    from werkzeug.serving import make_server
    from werkzeug.wrappers import Request, Response

    ids = itertools.count(10_000)
    release = "http://id.who.int/icd/release/11/2025-01/mms"

    def app(environ, start):
        path = Request(environ).path
        if path == "/icd/release/11/mms":
            body = {"latestRelease": release, "release": [release]}
        elif path == "/icd/release/11/2025-01/mms":
            body = {"@id": release, "child": [f"{release}/1"], "availableLanguages": ["en"]}
        else:
            key = path.rsplit("/", 1)[-1]
            body = {"@id": f"{release}/{key}", "classKind": "block", "code": "",
                    "child": [f"{release}/{next(ids)}" for _ in range(3)]}
        return Response(json.dumps(body), mimetype="application/json")(environ, start)

    srv = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    try:
        icd = explorer.connect("icd", base_url=f"http://127.0.0.1:{srv.server_port}",
                               auth=None, cache=False, progress=False, max_entities=500)
        with pytest.raises(ApiError, match="max_entities=500") as err:
            icd.classification()
        assert "max_entities=" in err.value.hint
    finally:
        srv.shutdown()


def test_a_finished_crawl_is_kept_whole_and_reread_in_a_new_session(tmp_path):
    """A finished crawl's rows are kept beside its answers: a new session on the same store
    reads them back (no request, the same frame); damaged or foreign rows are recomputed from
    the answers; a crawl stopped by a bound keeps no rows."""
    import sqlite3
    import zlib

    import pandas as pd

    path = tmp_path / "c.sqlite"
    with sandbox.start() as box:
        first = explorer.connect("icd", sandbox=box, cache=path, progress=False)
        expected = first.tree("01")
        whole = first.tree(None, max_depth=1)  # chapters and their blocks
        first.close()
        kept = sqlite3.connect(path).execute(
            "select count(*) from payloads where key like '%|derived:tree/%'").fetchone()[0]
        assert kept == 2
        box.reset_counters()
        again = explorer.connect("icd", sandbox=box, cache=path, progress=False)
        pd.testing.assert_frame_equal(again.tree("01"), expected)
        pd.testing.assert_frame_equal(again.tree(None, max_depth=1), whole)
        assert box.count(API + "/release/11/2025-01/mms/") == 0
        again.close()
        with sqlite3.connect(path) as db:  # the kept rows damaged: rebuilt from the answers
            db.execute("update payloads set body = ? where key like '%|derived:tree/%'",
                       (zlib.compress(b'{"id": [1]}'),))
        third = explorer.connect("icd", sandbox=box, cache=path, progress=False)
        pd.testing.assert_frame_equal(third.tree("01"), expected)
        assert box.count(API + "/release/11/2025-01/mms/") == 0  # answers still stored
        bounded = explorer.connect("icd", sandbox=box, cache=tmp_path / "b.sqlite",
                                   progress=False, max_entities=100)
        with pytest.raises(ApiError, match="max_entities=100"):
            bounded.tree("01")
        bounded.close()
        assert sqlite3.connect(tmp_path / "b.sqlite").execute(
            "select count(*) from payloads where key like '%|derived:%'").fetchone()[0] == 0
