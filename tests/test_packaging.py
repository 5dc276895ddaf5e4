"""Packaging: environment.yml lists the same packages as pyproject.toml; ruff is clean."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    tomllib = pytest.importorskip("tomli")

ROOT = Path(__file__).resolve().parent.parent


def _name(requirement: str) -> str:
    return re.split(r"[<>=!~\[; ]", requirement.strip(), maxsplit=1)[0].lower().replace("_", "-")


def test_environment_yml_matches_pyproject():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    wanted = {_name(r) for r in project["dependencies"]}
    for extra in project["optional-dependencies"].values():
        wanted |= {_name(r) for r in extra}
    wanted.discard(project["name"])  # extras that pull other extras ("explorer[sandbox]")
    listed = set()
    text = (ROOT / "environment.yml").read_text()
    for line in text.split("dependencies:", 1)[1].splitlines():
        item = line.strip()
        if not item.startswith("- ") or item.endswith(":"):
            continue
        name = _name(item[2:])
        if name not in ("python", "pip", "-e"):
            listed.add(name)
    assert listed == wanted, (
        f"only in pyproject: {sorted(wanted - listed)}; only in environment.yml: "
        f"{sorted(listed - wanted)}")


def test_ruff_is_clean():
    ruff = shutil.which("ruff") or str(Path(sys.executable).parent / "ruff")
    if not Path(ruff).exists():
        pytest.skip("ruff is not installed (pip install -e .[test])")
    result = subprocess.run([ruff, "check", "explorer", "tests", "benchmarks"], cwd=ROOT,
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_plain_install_needs_no_sandbox_or_widget_library(keycloak):
    """``pip install explorer`` (no extras) talks to a real API: werkzeug, cryptography and
    ipywidgets are not needed (they are blocked here, in a fresh interpreter)."""
    from tests.keycloak import CLIENT_ID, SECRET

    code = f"""
import sys
class Block:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in ("werkzeug", "cryptography", "ipywidgets", "anywidget"):
            raise ImportError("blocked: " + name)
sys.meta_path.insert(0, Block())
import explorer
s = explorer.connect(token_url={keycloak.url + '/token'!r}, client_id={CLIENT_ID!r},
                     client_secret={SECRET!r}, base_url={keycloak.url + '/api'!r})
print(len(s.frame("/items", progress=False)))
try:
    explorer.login("icd")
except ImportError as exc:
    print("widgets:", exc)
"""
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                            text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "2" and "pip install 'explorer[notebooks]'" in lines[1]


def _lower_bounds() -> dict[str, str]:
    """``name -> version`` of every ``>=`` bound of the runtime and sandbox dependencies."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    bounds = {}
    for requirement in [*project["dependencies"], *project["optional-dependencies"]["sandbox"]]:
        match = re.fullmatch(r"\s*([A-Za-z0-9_.-]+)\s*>=\s*([0-9][^,;\s]*)\s*", requirement)
        if match:
            bounds[_name(match.group(1))] = match.group(2)
    return bounds


def _lowest_pins() -> dict[str, str]:
    """``name -> version`` of the ``==`` pins of .ci/lowest.txt (the lowest-versions job)."""
    pins = {}
    for line in (ROOT / ".ci" / "lowest.txt").read_text().splitlines():
        name, sep, version = line.split("#", 1)[0].strip().partition("==")
        if sep:
            pins[_name(name)] = version.strip()
    return pins


def test_every_lower_bound_is_pinned_by_the_lowest_job():
    assert set(_lower_bounds()) - set(_lowest_pins()) == set()


def test_the_lower_bounds_are_the_versions_the_lowest_job_proves():
    from packaging.version import Version

    bounds, pins = _lower_bounds(), _lowest_pins()
    differ = {name: (bound, pins[name]) for name, bound in bounds.items()
              if name in pins and Version(bound) != Version(pins[name])}
    assert differ == {}, f"pyproject bound vs .ci/lowest.txt pin: {differ}"
