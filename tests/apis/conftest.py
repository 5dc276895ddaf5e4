"""Fixtures of the ITCare / GOPACS / Jindexe DataFrame tests: one sandbox, knobs restored."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

import explorer
from explorer import sandbox
from tests.localserver import LocalServer


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


@pytest.fixture(scope="module")
def _local() -> Iterator[LocalServer]:
    s = LocalServer()
    yield s
    s.stop()


@pytest.fixture
def server(_local: LocalServer) -> LocalServer:
    """A scriptable local HTTP server, with no routes and no history at the start of a test."""
    _local.routes.clear()
    _local.seen.clear()
    return _local


@pytest.fixture
def plain(server):
    """A session without authentication to the local test server."""
    return explorer.connect(base_url=server.url, auth=None, retries=2)
