"""Shared fixtures: keep every test's traffic on loopback and its files in tmp dirs."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

# Progress bars would only add noise to test output.
os.environ.setdefault("TQDM_DISABLE", "1")
# Payload stores of sessions that do not name one stay out of the developer's cache folder.
if "EXPLORER_CACHE_DIR" not in os.environ:
    import tempfile

    os.environ["EXPLORER_CACHE_DIR"] = tempfile.mkdtemp(prefix="explorer-test-cache-")


@pytest.fixture
def clean_env(monkeypatch, tmp_path):
    """No provider credentials from the developer's environment or .env leak into a test."""
    from explorer import apis

    for name in apis.environment_variables():
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    return monkeypatch


# The Keycloak-like server of the transport, auth, connect and CLI tests (tests/keycloak.py).
from tests.keycloak import keycloak, server  # noqa: E402, F401, F811


@pytest.fixture
def plain(server):  # noqa: F811
    """A session without authentication to the local test server."""
    import explorer

    return explorer.connect(base_url=server.url, auth=None, retries=2)
