"""No secret or token in any notebook (outputs and widget state) or tracked file.

The sandbox's secrets are random per start, so besides the values of a fresh sandbox (its
client secrets, passwords, API keys and the tokens it issues) every file is scanned for
JWT-shaped strings and for JSON fields holding a secret-looking value.
"""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest

import explorer
from explorer import sandbox

ROOT = Path(__file__).resolve().parent.parent
JWT = re.compile(r"eyJ[A-Za-z0-9_-]{12,}\.eyJ")
SECRET_FIELD = re.compile(
    r"\"(client_secret|password|access_token|refresh_token)\"\s*:\s*\"[^\"<.]{12,}\"")
SECRET_KEYS = ("client_secret", "password", "api_key")
#: Obviously fake values that tests use on purpose (tests/keycloak.py: a test server's token,
#: a password).
FAKE_VALUES = {"opaque-token-value-123", "right-password"}
#: This file's own patterns would match themselves.
SELF = Path(__file__).resolve()


def _secret_fields(text: str) -> list[str]:
    """Secret-looking JSON fields, leaving out environment variable names
    (``"client_secret": "ICD_CLIENT_SECRET"``), labels with spaces and known fakes."""
    out = []
    for match in SECRET_FIELD.finditer(text):
        value = match.group(0).rsplit(":", 1)[1].strip().strip('"')
        if re.fullmatch(r"[A-Z][A-Z0-9_]*", value) or " " in value or value in FAKE_VALUES:
            continue
        out.append(match.group(1))
    return out


def _tracked() -> list[Path]:
    try:
        out = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True,
                             check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        pytest.skip("not a git checkout: no tracked files to scan")
    return [ROOT / p for p in out.decode().split("\0") if p]


def _notebooks() -> list[Path]:
    return sorted(ROOT.glob("notebooks/**/*.ipynb"))


def _text(path: Path) -> str | None:
    try:
        data = path.read_bytes()
    except OSError:
        return None
    if b"\0" in data[:4096]:
        return None  # binary
    return data.decode("utf-8", errors="replace")


@pytest.fixture(scope="module")
def known_secrets() -> list[str]:
    """A fresh sandbox's secrets and the tokens it issues (values of ≥ 8 characters)."""
    values: list[str] = []
    with sandbox.start() as box:
        for api in ("icd", "itcare", "gopacs", "jindexe"):
            creds = box.credentials(api)
            values += [str(creds[k]) for k in SECRET_KEYS if creds.get(k)]
            session = explorer.connect(api, sandbox=True, **creds)
            if session.flow is not None:
                token = session.token
                values += [token.access_token, token.refresh_token or ""]
            session.close()
    return [v for v in values if len(v) >= 8]


def test_the_patterns_catch_leaks():
    leak = '{"access_token": "abcdefghijklmnop", "client_secret": "s3cr3t-s3cr3t-x"}'
    assert _secret_fields(leak) == ["access_token", "client_secret"]
    assert JWT.search("Bearer eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiIxIn0.sig")
    assert not _secret_fields('{"client_secret": "ICD_CLIENT_SECRET"}')


def test_scans_something():
    assert _notebooks(), "no notebook found"
    assert len(_tracked()) > 10


@pytest.mark.parametrize("path", _notebooks(), ids=lambda p: p.name)
def test_notebook_outputs_and_widget_state(path, known_secrets):
    book = json.loads(path.read_text(encoding="utf-8"))
    parts = [json.dumps(book.get("metadata", {}))]  # widget state lives here
    for cell in book["cells"]:
        parts.append(json.dumps(cell.get("outputs", [])))
        parts.append(json.dumps(cell.get("metadata", {})))
        parts.append("".join(cell.get("source", "")))
    text = "\n".join(parts)
    assert not JWT.search(text), f"JWT-shaped string in {path.name}"
    assert not _secret_fields(text), f"secret-looking JSON field in {path.name}"
    for value in known_secrets:
        assert value not in text, f"a sandbox secret or token in {path.name}"


def test_tracked_files(known_secrets):
    found = []
    for path in _tracked():
        if path.resolve() == SELF:
            continue
        text = _text(path)
        if text is None:
            continue
        rel = path.relative_to(ROOT)
        if JWT.search(text):
            found.append(f"{rel}: JWT-shaped string")
        found += [f"{rel}: {name} field with a value" for name in _secret_fields(text)]
        found += [f"{rel}: a sandbox secret or token" for v in known_secrets if v in text]
    assert not found, "\n".join(found)
