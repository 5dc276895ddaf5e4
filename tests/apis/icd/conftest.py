"""ICD fixtures: one sandbox for the module set, and a local server of real WHO payloads."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from werkzeug.wrappers import Request, Response

import explorer
from explorer import sandbox
from tests.apis.icd import real_payloads as RP
from tests.localserver import LocalServer


@pytest.fixture(scope="session")
def sb() -> Iterator[sandbox.Sandbox]:
    with sandbox.start() as box:
        yield box


@pytest.fixture(params=["auth", "container"])
def icd(request, sb, tmp_path):
    """An ICD session on the sandbox: with OAuth, and on the no-auth container mount."""
    creds = sb.credentials("icd", auth=request.param == "auth")
    return explorer.connect("icd", **creds, cache=tmp_path / "cache.sqlite", progress=False)


@pytest.fixture
def icd_auth(sb, tmp_path):
    return explorer.connect("icd", **sb.credentials("icd"), cache=tmp_path / "cache.sqlite",
                            progress=False)


LANGUAGES_2025 = RP.TOP_2025["availableLanguages"]


def _json(payload, status: int = 200) -> Response:
    return Response(json.dumps(payload), status=status, mimetype="application/json")


class RealServer(LocalServer):
    """Serves the real payloads of icd-api.md §5 at their real paths (release 2025-01).

    Like WHO: an unknown path or a language the release lacks → 404 with an empty body.
    """

    def __init__(self) -> None:
        super().__init__()
        r = "/icd/release/11/2025-01/mms"
        pages = {
            "/icd/release/11/mms": RP.MULTIVERSION,
            r: RP.TOP_2025,
            f"{r}/1435254666": RP.CHAPTER_01,
            f"{r}/588616678": RP.BLOCK_L1,
            f"{r}/135352227": RP.BLOCK_L2,
            f"{r}/257068234": RP.CHOLERA,
            f"{r}/codeinfo/1A00": RP.CODEINFO_1A00,
            "/icd/entity/1435254666": RP.FOUNDATION_01,
        }
        for path, payload in pages.items():
            self.route("GET", path)(self._page(payload))
        self.route("GET", f"{r}/search")(self._search)
        self.route("GET", f"{r}/autocode")(self._autocode)

    @staticmethod
    def _language_ok(request: Request) -> bool:
        return request.headers.get("Accept-Language") in LANGUAGES_2025

    def _page(self, payload):
        def handler(request: Request) -> Response:
            if not self._language_ok(request):
                return Response(b"", status=404)
            return _json(payload)
        return handler

    def _search(self, request: Request) -> Response:
        q = request.args.get("q", "")
        if q == "fever":
            return _json(RP.SEARCH_FEVER)
        if q == "nothing":
            return _json({**RP.SEARCH_FEVER, "destinationEntities": [], "resultChopped": False})
        return _json({"error": True, "errorMessage": f"Search failed for '{q}'",
                      "destinationEntities": None})

    def _autocode(self, request: Request) -> Response:
        text = request.args.get("searchText", "")
        if text.lower() == "cerebrovascular accident":
            return _json(RP.AUTOCODE_CVA)
        return _json({**RP.AUTOCODE_NONE, "searchText": text})


@pytest.fixture
def real() -> Iterator[RealServer]:
    server = RealServer()
    yield server
    server.stop()


@pytest.fixture
def real_icd(real, tmp_path: Path):
    """A no-auth session (like WHO's container) on the real-payload server."""
    return explorer.connect("icd", base_url=real.url, auth=None, release="2025-01",
                            cache=tmp_path / "real.sqlite", progress=False)
