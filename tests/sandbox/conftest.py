"""Fixtures of the sandbox tests: one session sandbox, fresh ones for destructive tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from explorer import sandbox


@pytest.fixture(scope="session")
def sb() -> Iterator[sandbox.Sandbox]:
    """The session-wide sandbox (do not change its knobs without restoring them)."""
    with sandbox.start() as s:
        yield s


@pytest.fixture
def fresh() -> Iterator[sandbox.Sandbox]:
    """A private sandbox for tests that expire, revoke or reconfigure."""
    with sandbox.start() as s:
        yield s
