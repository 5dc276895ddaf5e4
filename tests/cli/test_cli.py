"""The command line: token, get, and clear one-line errors (real subprocesses)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from tests.keycloak import CLIENT_ID, SECRET


def run(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    base = {k: v for k, v in os.environ.items()
            if not k.startswith(("ICD_", "ITCARE_", "GOPACS_", "JINDEXE_"))}
    return subprocess.run([sys.executable, "-m", "explorer", *args], capture_output=True,
                          text=True, timeout=60, env={**base, **(env or {})})


def test_token_and_get_against_a_local_server(keycloak):
    env = {"ITCARE_CLIENT_ID": CLIENT_ID, "ITCARE_CLIENT_SECRET": SECRET}
    urls = ["--token-url", keycloak.url + "/token", "--base-url", keycloak.url + "/api"]
    token = run("token", "itcare", *urls, env=env)
    assert token.returncode == 0, token.stderr
    assert token.stdout.strip() in keycloak.issuer.valid  # the token itself is its job
    got = run("get", "itcare", "/items", *urls, env=env)
    assert got.returncode == 0, got.stderr
    assert json.loads(got.stdout)[0] == {"id": 1, "name": "a"}
    assert SECRET not in got.stdout + got.stderr
    assert token.stdout.strip() not in got.stdout + got.stderr


def test_missing_credentials_give_one_clear_line(tmp_path):
    result = run("get", "icd", "/icd/entity")
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert "ICD_CLIENT_ID" in result.stderr and "ICD_CLIENT_SECRET" in result.stderr


def test_wrong_secret_is_reported_without_the_secret(keycloak):
    env = {"ITCARE_CLIENT_ID": CLIENT_ID, "ITCARE_CLIENT_SECRET": "wrong-secret-xyz"}
    result = run("token", "itcare", "--token-url", keycloak.url + "/token",
                 "--base-url", keycloak.url + "/api", env=env)
    assert result.returncode == 1 and "invalid_client" in result.stderr
    assert "wrong-secret-xyz" not in result.stderr and "Traceback" not in result.stderr


@pytest.mark.parametrize("api", ["icd", "itcare", "jindexe"])
def test_get_on_the_sandbox(api):
    path = {"icd": "/icd/entity", "itcare": "/compute/environments",
            "jindexe": "/ext/health"}[api]
    result = run("get", api, path, "--sandbox")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)


def test_console_script_is_installed():
    import shutil
    from pathlib import Path

    script = shutil.which("explorer") or str(Path(sys.executable).parent / "explorer")
    if not Path(script).exists():
        pytest.skip("package not installed with its scripts (pip install -e .)")
    result = subprocess.run([script, "get", "jindexe", "/ext/health", "--sandbox"],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {"status": "ok"}


@pytest.mark.parametrize("lines", [0, 1])
def test_a_reader_that_stops_early_ends_quietly(tmp_path, lines):
    """``explorer get … | head -1``: the reader closes the pipe while the JSON (megabytes:
    far more than a pipe holds) is still being written. No traceback, exit code 0."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("ICD_", "ITCARE_", "GOPACS_", "JINDEXE_"))}
    proc = subprocess.Popen(
        [sys.executable, "-m", "explorer", "get", "itcare", "/compute/instances",
         "-q", "size=2000", "--sandbox"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=tmp_path, env=env)
    try:
        got = [proc.stdout.readline() for _ in range(lines)]
        proc.stdout.close()  # what head does after its line
        code = proc.wait(timeout=120)
        err = proc.stderr.read().decode(errors="replace")
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=10)
        proc.stderr.close()
    assert got == [b"{\n"] * lines
    assert code == 0, err
    assert err == "", err  # no "BrokenPipeError", no "Exception ignored"
