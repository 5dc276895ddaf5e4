"""connect("icd", release_file=…): a release downloaded from WHO becomes a local ICD API.

The files are WHO's real English SimpleTabulation files shipped with the sandbox (2024-01 as
WHO's zip, 2025-01 as a gzipped .txt); the .txt case unpacks the zip's own .txt.
"""

from __future__ import annotations

import csv
import shutil
import socket
import threading
import zipfile
from pathlib import Path

import pytest
import requests

import explorer
from explorer.sandbox._icd_release import DATA_DIR

ZIP_2024 = DATA_DIR / "2024-01" / "SimpleTabulation-ICD-11-MMS-en.zip"
GZ_2025 = DATA_DIR / "2025-01" / "SimpleTabulation-ICD-11-MMS-en.txt.gz"


def _sandbox_threads() -> list[str]:
    return [t.name for t in threading.enumerate() if t.name.startswith("explorer-sandbox")]


def _refused(url: str) -> bool:
    host, port = url.split("//", 1)[1].split("/", 1)[0].split(":")
    try:
        socket.create_connection((host, int(port)), timeout=2).close()
    except OSError:
        return True
    return False


def _chapter_01_children_in_the_file() -> list[str]:
    """Titles one level below chapter 01, read straight from WHO's file (``- `` per level)."""
    with zipfile.ZipFile(ZIP_2024) as zf:
        member = next(n for n in zf.namelist() if n.endswith(".txt") and "readme" not in n)
        lines = zf.read(member).decode("utf-8-sig").splitlines()
    rows = list(csv.reader(lines, delimiter="\t"))
    col = {name: i for i, name in enumerate(rows[0])}
    return [r[col["Title"]][2:] for r in rows[1:] if r[col["ChapterNo"]] == "01"
            and r[col["Title"]].startswith("- ") and not r[col["Title"]].startswith("- - ")]


@pytest.fixture(scope="module")
def offline():
    icd = explorer.connect("icd", release_file=ZIP_2024, progress=False)
    yield icd
    icd.close()


def test_a_downloaded_zip_is_served_on_loopback_without_auth(offline):
    assert offline.deployment == "offline" and offline.flow is None
    assert offline.base_url.startswith("http://127.0.0.1:")
    assert offline.status()["authentication"] == "none"
    releases = offline.releases()
    assert list(releases["release"]) == ["2024-01"]  # exactly the file, not the shipped set
    assert offline.language == "en"


def test_the_whole_release_answers_offline(offline):
    assert offline.search("asthma")["code"].iloc[0] == "CA23"
    assert offline.search("cholera")["code"].iloc[0] == "1A00"
    cholera = offline.code("1A00")
    assert cholera["title"] == "Cholera" and cholera["release"] == "2024-01"
    chapters = offline.chapters()
    assert len(chapters) == 28
    kids = offline.children(chapters["id"].iloc[0])
    assert list(kids["title"]) == _chapter_01_children_in_the_file()
    ancestors = offline.ancestors("1A00")
    assert list(ancestors["class_kind"]) == ["chapter", "block", "block"]  # chapter first
    assert ancestors["id"].iloc[-1] == cholera["parent_id"]
    block = offline.tree(ancestors["id"].iloc[-1])
    assert "1A00" in set(block["code"])


def test_a_gzipped_txt_and_a_plain_txt_are_served(tmp_path: Path):
    with explorer.connect("icd", release_file=GZ_2025, progress=False) as icd:
        assert list(icd.releases()["release"]) == ["2025-01"]
        assert icd.code("1A00")["release"] == "2025-01"
    with zipfile.ZipFile(ZIP_2024) as zf:
        member = next(n for n in zf.namelist() if n.endswith(".txt") and "readme" not in n)
        plain = tmp_path / "SimpleTabulation-ICD-11-MMS-en.txt"
        plain.write_bytes(zf.read(member))
    with explorer.connect("icd", release_file=str(plain), progress=False) as icd:
        assert icd.code("CA23")["title"] == "Asthma"


def test_the_language_comes_from_the_file(tmp_path: Path):
    """WHO names each language's file ``…-MMS-<lang>.zip``; the session then asks for that
    language. (The mechanism is shown with the English text under another language's name:
    translations are not ours to ship.)"""
    renamed = tmp_path / "SimpleTabulation-ICD-11-MMS-fr.zip"
    shutil.copy(ZIP_2024, renamed)
    with explorer.connect("icd", release_file=renamed, progress=False) as icd:
        assert icd.language == "fr" and icd.headers["Accept-Language"] == "fr"
        assert icd.code("1A00")["title"] == "Cholera"
        r = requests.get(icd.url("/icd/release/11/2024-01/mms/codeinfo/1A00"), timeout=10,
                         headers={"Accept": "application/json", "API-Version": "v2",
                                  "Accept-Language": "en"})
        assert r.status_code == 404  # the file's language is the only one served


def test_closing_the_session_stops_its_sandbox():
    before = set(_sandbox_threads())
    icd = explorer.connect("icd", release_file=ZIP_2024, progress=False)
    base = icd.base_url
    assert set(_sandbox_threads()) - before
    assert icd.code("1A00")["code"] == "1A00"
    icd.close()
    assert _refused(base) and set(_sandbox_threads()) <= before


def test_a_failing_connect_leaves_no_sandbox_running():
    before = set(_sandbox_threads())
    with pytest.raises(explorer.ConfigurationError, match="invalid language"):
        explorer.connect("icd", release_file=ZIP_2024, language="not a language!")
    assert set(_sandbox_threads()) <= before


@pytest.mark.parametrize("bad,said", [
    ("no-such-file.zip", "no such file"),
    (Path(__file__), "is not a readable WHO SimpleTabulation file"),
])
def test_an_unusable_file_is_a_clear_error(bad, said):
    before = set(_sandbox_threads())
    with pytest.raises(explorer.ConfigurationError) as caught:
        explorer.connect("icd", release_file=bad)
    text = str(caught.value)
    assert "[icd]" in text and said in text and "https://icd.who.int/browse" in text
    assert set(_sandbox_threads()) <= before


def test_release_file_and_sandbox_together_are_refused():
    with pytest.raises(explorer.ConfigurationError, match="drop sandbox="):
        explorer.connect("icd", release_file=ZIP_2024, sandbox=True)


def test_a_misspelt_file_option_is_suggested():
    with pytest.raises(explorer.ConfigurationError) as caught:
        explorer.connect("icd", releas_file=ZIP_2024)
    assert "did you mean 'release_file'?" in caught.value.hint


def test_the_widgets_work_on_a_downloaded_release(offline):
    """IcdBrowser and WHO's coding tool on the offline session: no token anywhere, the file's
    release, the private sandbox's URL; the ECT's cross-origin calls answer without auth."""
    pytest.importorskip("anywidget")
    from explorer.widgets import CodingTool, IcdBrowser

    browser = IcdBrowser(offline)
    browser.search("cholera")
    assert browser.results["code"].iloc[0] == "1A00"
    browser.select("1A00")
    assert browser.entity["title"] == "Cholera"
    assert browser.hierarchy.iloc[0]["code"] == "01"

    tool = CodingTool(offline)
    assert (tool.api_server_url, tool.api_secured, tool.release) == \
        (offline.base_url, False, "2024-01")
    tool._give_token(1)  # an ECT that asks anyway is told why, not given a token
    assert tool.tokens_given == 0
    # what the ECT in a notebook page (another origin) sends: a preflight, then the search
    search = f"{offline.base_url}/icd/release/11/2024-01/mms/search"
    origin = {"Origin": "http://127.0.0.1:8888"}
    pre = requests.options(search, timeout=10, headers={
        **origin, "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "api-version, accept-language, content-type"})
    assert pre.status_code == 204 and pre.headers["Access-Control-Allow-Origin"] == "*"
    found = requests.post(search, timeout=10, data={"q": "cholera"},
                          headers={**origin, "API-Version": "v2", "Accept-Language": "en"})
    assert found.status_code == 200 and found.headers["Access-Control-Allow-Origin"] == "*"
    assert found.json()["destinationEntities"][0]["theCode"] == "1A00"
