"""WHO's release files: shipped unmodified, parsed completely, served from any path."""

from __future__ import annotations

import gzip
import hashlib
import json
import subprocess
import sys
import zipfile
from pathlib import Path

import requests

from explorer import sandbox
from explorer.sandbox import icd
from explorer.sandbox._icd_release import DATA_DIR, load_release, read_header, shipped_files
from explorer.sandbox.icd_data import IcdStore

ROOT = Path(__file__).resolve().parents[2]
H = {"Accept": "application/json", "API-Version": "v2", "Accept-Language": "en"}
SHA256 = {  # WHO's files as published (data/icd11/README.md)
    "2024-01/SimpleTabulation-ICD-11-MMS-en.zip":
        "b92212138c67738aa4770f5fae5bbdf43ebb98632086df3fd47b5bed954d9216",
    "2025-01/SimpleTabulation-ICD-11-MMS-en.txt.gz":
        "a8e176c84cac5a729196772c64ee38fea5a3c14c4ca05494e938ab5313d9970b",
}
TXT_2025 = "7bc6b566394b8763efccda81f99f5ff0242b8c59d9cd230a90c3f38cba36992c"
TXT_2024 = "4900fecc56f8d520fe3500ea362de534ffcc454fec5e60ade7bc98dd6899cf03"


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def test_shipped_files_are_whos_unmodified():
    for name, digest in SHA256.items():
        assert _sha((DATA_DIR / name).read_bytes()) == digest, name
    assert _sha(gzip.decompress((DATA_DIR / "2025-01/SimpleTabulation-ICD-11-MMS-en.txt.gz")
                                .read_bytes())) == TXT_2025
    with zipfile.ZipFile(DATA_DIR / "2024-01/SimpleTabulation-ICD-11-MMS-en.zip") as zf:
        assert _sha(zf.read("SimpleTabulation-ICD-11-MMS-en.txt")) == TXT_2024
    readme = (DATA_DIR / "README.md").read_text()
    assert icd.CITATION.split(" https")[0] in readme.replace("\n", " ")
    assert "CC BY-ND 3.0 IGO" in icd.CITATION


def test_every_row_of_both_releases_is_read():
    files = {f.release_id: f for f in shipped_files()}
    assert list(files) == ["2025-01", "2024-01"]
    store = IcdStore()  # parsed releases are shared in the process (with the sandbox tests)
    expected = {"2025-01": {"chapter": 28, "block": 1415, "category": 35339, "residual": 5355,
                            "leaf": 30981},
                "2024-01": {"chapter": 28, "block": 1353, "category": 34663, "residual": 5217,
                            "leaf": 30313}}
    for rid, counts in expected.items():
        rel = store.release(rid)
        assert rel.files == [files[rid]]
        assert rel.counts() == counts
        assert rel.leaf_mismatches == 0  # the file's isLeaf agrees with the derived children
        assert len(rel.by_code) == counts["category"] + counts["chapter"]
        assert rel.release_date == {"2025-01": "2025-01-24", "2024-01": "2024-01-21"}[rid]


def test_user_files_any_path_and_format(tmp_path):
    """A downloaded .txt and a .zip (here: the shipped English files) served as a local API."""
    with zipfile.ZipFile(DATA_DIR / "2024-01/SimpleTabulation-ICD-11-MMS-en.zip") as zf:
        txt = tmp_path / "SimpleTabulation-ICD-11-MMS-en.txt"
        txt.write_bytes(zf.read("SimpleTabulation-ICD-11-MMS-en.txt"))
    header = read_header(txt)
    assert (header.release_id, header.language) == ("2024-01", "en")
    zipped = tmp_path / "downloads" / "mms-2025.zip"  # no language in the name: from content
    zipped.parent.mkdir()
    with zipfile.ZipFile(zipped, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("SimpleTabulation-ICD-11-MMS-en.txt", gzip.decompress(
            (DATA_DIR / "2025-01/SimpleTabulation-ICD-11-MMS-en.txt.gz").read_bytes()))
    assert read_header(zipped).release_id == "2025-01"
    with sandbox.start(icd_release_files=[str(txt)]) as sb:
        base = sb.credentials("icd", auth=False)["base_url"]
        multi = requests.get(f"{base}/icd/release/11/mms", headers=H, timeout=20).json()
        assert multi["release"] == ["http://id.who.int/icd/release/11/2024-01/mms"]
        r = requests.get(f"{base}/icd/release/11/2024-01/mms/codeinfo/CA23", headers=H,
                         timeout=20)
        assert r.json()["stemId"].endswith("/1656445230")
        assert requests.get(f"{base}/icd/release/11/2025-01/mms", headers=H,
                            timeout=20).status_code == 404
    with sandbox.start(icd_release_files=[zipped, txt]) as sb:
        base = sb.credentials("icd", auth=False)["base_url"]
        multi = requests.get(f"{base}/icd/release/11/mms", headers=H, timeout=20).json()
        assert multi["latestRelease"].endswith("/2025-01/mms") and len(multi["release"]) == 2
        search = requests.get(f"{base}/icd/release/11/2025-01/mms/search?q=asthma", headers=H,
                              timeout=20).json()
        assert search["destinationEntities"][0]["theCode"] == "CA23"


def test_gzip_and_missing_columns_are_handled(tmp_path):
    src = (DATA_DIR / "2025-01/SimpleTabulation-ICD-11-MMS-en.txt.gz").read_bytes()
    lines = gzip.decompress(src).decode("utf-8-sig").splitlines()[:40]
    cols = lines[0].split("\t")
    keep = [i for i, c in enumerate(cols) if c.lower() not in ("browserlink", "isleaf")]
    rows = [line.split("\t") for line in lines]
    small = "\r\n".join("\t".join(row[i] for i in keep if i < len(row)) for row in rows)
    path = tmp_path / "SimpleTabulation-ICD-11-MMS-en.txt"
    path.write_text(small, encoding="utf-8")
    rel = load_release([read_header(path)])
    assert rel.title(rel.by_code["1A00"]) == "Cholera"
    assert rel.browser[rel.by_code["1A00"]] == ""  # payloads fall back to the API pattern


STARTUP = r"""
import json, time
import requests
from explorer import sandbox
H = {"Accept": "application/json", "API-Version": "v2", "Accept-Language": "en"}
def rss():
    return int(open("/proc/self/status").read().split("VmRSS:")[1].split()[0]) / 1024
started = time.perf_counter()
sb = sandbox.start()
base = sb.credentials("icd", auth=False)["base_url"]
r = requests.get(base + "/icd/release/11/2025-01/mms/257068234", headers=H, timeout=30)
first = time.perf_counter() - started
assert r.status_code == 200
for rel in ("2025-01", "2024-01"):  # both releases and both search indexes loaded
    requests.get(base + f"/icd/release/11/{rel}/mms/search?q=asthma", headers=H, timeout=30)
print(json.dumps({"first": first, "rss_mb": rss()}))
sb.stop()
"""


def test_startup_time_and_memory_with_both_releases():
    """A fresh process: first answer within 1 s of start(), RSS < 300 MB once both releases and
    their search indexes are loaded."""
    out = subprocess.run([sys.executable, "-c", STARTUP], capture_output=True, text=True,
                         timeout=120, cwd=ROOT, env={**_env(), "PYTHONPATH": str(ROOT)})
    assert out.returncode == 0, out.stderr[-2000:]
    figures = json.loads(out.stdout.strip().splitlines()[-1])
    assert figures["first"] < 1.0, figures
    assert figures["rss_mb"] < 300, figures


def _env() -> dict[str, str]:
    import os

    return {k: v for k, v in os.environ.items() if not k.startswith("PYTHONPATH")}


def test_no_translation_in_the_shipped_data():
    data = json.loads((Path(icd.__file__).parent / "data" / "icd_data.json").read_text())
    text = json.dumps(data, ensure_ascii=False)
    assert all(ord(c) < 0x250 or c in "…" for c in text)  # Latin script only
    assert '"ar"' not in text and '"en":' not in text  # no per-language maps left
