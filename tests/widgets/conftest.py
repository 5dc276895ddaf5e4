"""Widget tests: one sandbox per module, no credentials from the developer's environment."""

from __future__ import annotations

import json
import os

import pytest

from explorer import sandbox
from explorer.widgets._util import all_widgets


@pytest.fixture(scope="module")
def sb():
    """A private sandbox (its secrets are random per start)."""
    box = sandbox.start()
    yield box
    box.stop()


@pytest.fixture(autouse=True)
def _no_provider_env(monkeypatch, tmp_path):
    for name in list(os.environ):
        if name.startswith(("ICD_", "ITCARE_", "GOPACS_", "JINDEXE_")):
            monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)


def widget_state(root) -> str:
    """The synced state of ``root`` and every widget below it, as one JSON string."""
    return json.dumps([x.get_state() for x in all_widgets(root)], default=str)


def assert_no_secret(root, *secrets: str | None) -> None:
    """No secret in the synced state (a failure says how many, never which)."""
    state = widget_state(root)
    leaked = sum(1 for secret in secrets if secret and secret in state)
    assert leaked == 0, f"{leaked} secret(s) in the synced widget state"
