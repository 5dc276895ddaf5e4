"""Fixtures of the ITCare / GOPACS / Jindexe DataFrame tests: one sandbox, knobs restored."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

import explorer
from explorer import sandbox


@pytest.fixture(scope="session")
def sb() -> Iterator[sandbox.Sandbox]:
    """The sandbox of these tests; every test leaves its knobs as it found them."""
    with sandbox.start() as s:
        yield s


@pytest.fixture(autouse=True)
def _restore(request) -> Iterator[None]:
    yield
    if "sb" in request.fixturenames:
        box = request.getfixturevalue("sb")
        box.faults = None
        box.latency = 0.0
        box.action_seconds = 1.0


@pytest.fixture(scope="session")
def itcare(sb):
    return explorer.connect("itcare", **sb.credentials("itcare"))


@pytest.fixture(scope="session")
def gopacs(sb):
    return explorer.connect("gopacs", **sb.credentials("gopacs"))


@pytest.fixture(scope="session")
def jx(sb):
    return explorer.connect("jindexe", **sb.credentials("jindexe"))
