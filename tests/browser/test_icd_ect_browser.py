"""WHO's own Embedded Classification Tool (vendored ``@whoicd/icd11ect`` 1.8.0) against the
sandbox, cross-origin, in headless Chromium (Playwright).

A tiny page server on 127.0.0.1 (one origin) serves a page loading the vendored ECT, pointed
at the sandbox's authenticated ``id.who.int`` mount (another origin); the page gets its bearer
token through the ECT's ``getNewTokenFunction`` from this server's ``/token`` route (fetched
server-side from the sandbox's token endpoint). Chromium types a term, sees WHO-shaped results,
clicks one; the selected-entity callback must receive its code. A screenshot goes to
``test-artifacts/``. Skipped, saying why, without chromium or Playwright.

The same page runs offline too: pointed at ``connect("icd", release_file=…)``'s private
sandbox (WHO's 2024-01 file, no authentication: ``apiSecured: false``, as on WHO's container).
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterator
from urllib.parse import quote_plus

import pytest
import requests
from werkzeug.serving import WSGIRequestHandler, make_server
from werkzeug.wrappers import Request, Response

import explorer
from explorer import sandbox
from explorer.sandbox._icd_release import DATA_DIR

from ._lab import ROOT, shot

pytestmark = [pytest.mark.browser, pytest.mark.timeout(120)]

ECT_DIR = ROOT / "explorer" / "_vendor" / "icd11ect"

PAGE = """<!doctype html><html><head><meta charset="utf-8"><title>ECT on the sandbox</title>
<link rel="stylesheet" href="/ect/style.css"><script src="/ect/index.js"></script></head>
<body style="font-family: sans-serif">
<p>WHO ICD-11 Embedded Coding Tool &rarr; explorer sandbox (<span id="api"></span>)</p>
<input type="text" class="ctw-input" autocomplete="off" data-ctw-ino="1" style="width: 600px">
<div class="ctw-window" data-ctw-ino="1"></div>
<p>selected: <code id="selected">-</code></p>
<script>
  window.selected = null;
  window.tokenCalls = 0;
  const apiServerUrl = "__API__";
  document.getElementById("api").textContent = apiServerUrl;
  ECT.Handler.configure({apiServerUrl: apiServerUrl, apiSecured: __SECURED__, autoBind: false}, {
    getNewTokenFunction: async () => {
      window.tokenCalls += 1;
      const r = await fetch("/token");
      return await r.text();
    },
    selectedEntityFunction: (entity) => {
      window.selected = entity;
      document.getElementById("selected").textContent = entity.code + " " + entity.title;
    },
  });
  ECT.Handler.bind("1");
</script></body></html>"""


class _Quiet(WSGIRequestHandler):
    def log_request(self, *args, **kwargs):
        pass


@contextlib.contextmanager
def serve_page(api: str, token: Callable[[], str] | None) -> Iterator[tuple[str, list[str]]]:
    """The ECT's page on its own origin, pointed at ``api`` (secured when ``token`` is given,
    which answers the page's ``/token``); yields (page URL, paths the page server answered)."""
    served: list[str] = []

    def app(environ, start_response):
        request = Request(environ)
        served.append(request.path)
        if request.path == "/":
            html = PAGE.replace("__API__", api).replace(
                "__SECURED__", "true" if token else "false")
            response = Response(html, content_type="text/html; charset=utf-8")
        elif request.path in ("/ect/index.js", "/ect/style.css"):
            path = ECT_DIR / request.path.rsplit("/", 1)[1]
            kind = "text/css" if path.suffix == ".css" else "text/javascript"
            response = Response(path.read_bytes(), content_type=kind)
        elif request.path == "/token" and token is not None:
            response = Response(token(), content_type="text/plain",
                                headers={"Cache-Control": "no-store"})
        else:
            response = Response(b"", status=404)
        return response(environ, start_response)

    server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=_Quiet)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                              daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/", served
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


@pytest.fixture
def page_server():
    """(sandbox, page URL, paths the page server answered)."""
    with sandbox.start() as sb:
        creds = sb.credentials("icd")

        def token() -> str:
            r = requests.post(creds["token_url"], timeout=10,
                              auth=(quote_plus(creds["client_id"]),
                                    quote_plus(creds["client_secret"])),
                              data={"grant_type": "client_credentials",
                                    "scope": "icdapi_access"})
            r.raise_for_status()
            return r.json()["access_token"]

        with serve_page(creds["base_url"], token) as (url, served):
            yield sb, url, served


def pick_cholera(page, url: str, name: str) -> dict:
    """Type "cholera" in the ECT at ``url``, check the results, click the first; the entity
    the selected-entity callback got."""
    page.goto(url)
    box = page.locator("input.ctw-input")
    page.wait_for_selector("input.ctw-input.apiInitializationCompleted:not([disabled])")
    box.press_sequentially("cholera", delay=40)
    first = page.locator(".ctw-window li[data-entityindex='0']")
    first.locator(".entityTheCode", has_text="1A00").wait_for()
    assert "Cholera" in first.inner_text()
    shown = page.locator(".ctw-window .entityTheCode").all_inner_texts()
    assert shown[0].strip() == "1A00" and len(shown) >= 3
    shot(page, f"{name}-results")
    first.locator(".entityTitlePointer").first.click()
    page.wait_for_function("() => window.selected !== null")
    selected = page.evaluate("() => window.selected")
    assert selected["code"] == "1A00" and selected["title"] == "Cholera"
    shot(page, f"{name}-selected")
    return selected


def test_whos_ect_codes_against_the_sandbox_cross_origin(page_server, page):
    sb, url, served = page_server
    assert url.split(":")[2] != sb.url.split(":")[2]  # two origins: page and API
    selected = pick_cholera(page, url, "icd-ect")
    assert selected["linearizationUri"] == (
        "http://id.who.int/icd/release/11/2025-01/mms/257068234")
    assert selected["foundationUri"] == "http://id.who.int/icd/entity/257068234"
    assert page.evaluate("() => window.tokenCalls") >= 1
    assert "/token" in served
    assert sb.count("/id.who.int/icd/release/11/2025-01/mms/search") >= 1
    assert sb.count("/id.who.int/analytics/clientanalytics") >= 2  # preflight + POST


def test_whos_ect_codes_offline_on_a_downloaded_release(page):
    """Issue #12 §5: WHO's ECT on ``connect("icd", release_file=…)`` — WHO's 2024-01 zip served
    on loopback without authentication; the tool finds and codes from that release."""
    zip_2024 = DATA_DIR / "2024-01" / "SimpleTabulation-ICD-11-MMS-en.zip"
    with explorer.connect("icd", release_file=zip_2024, progress=False) as icd, \
            serve_page(icd.base_url, None) as (url, served):
        assert icd.flow is None and url.split(":")[2] != icd.base_url.split(":")[2]
        selected = pick_cholera(page, url, "icd-ect-offline")
        assert selected["linearizationUri"].startswith(
            "http://id.who.int/icd/release/11/2024-01/mms/")
        assert page.evaluate("() => window.tokenCalls") == 0
        assert "/token" not in served
