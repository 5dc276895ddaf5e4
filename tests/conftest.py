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


@pytest.fixture
def clean_env(monkeypatch, tmp_path):
    """No provider credentials from the developer's environment or .env leak into a test."""
    for name in list(os.environ):
        if name.startswith(("ICD_", "ITCARE_", "GOPACS_", "JINDEXE_")):
            monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    return monkeypatch
