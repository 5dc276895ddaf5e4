"""Fixtures of the real-browser tests (helpers in ``_lab.py``): one JupyterLab and one
headless Chromium for the whole run, a fresh 1280×800 page for each test, that page's
kernels stopped after it. A test fails if its page raised an uncaught error or asked for
anything but 127.0.0.1; its last view is saved as ``test-artifacts/<test>-last.png``.
"""

from __future__ import annotations

import pytest

from ._lab import CHROMIUM_ARGS, VIEWPORT, chromium, is_local, jupyter_lab, playwright, shot


@pytest.fixture(scope="session")
def browser():
    """Debian's chromium driven by Playwright (real scrollbars: the layout must allow them)."""
    executable = chromium()
    sync_api = playwright()
    with sync_api.sync_playwright() as pw:
        launched = pw.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS,
                                      ignore_default_args=["--hide-scrollbars"])
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture(scope="session")
def lab(tmp_path_factory):
    """A JupyterLab over a temporary folder, for the throwaway notebooks of all the tests."""
    with jupyter_lab(tmp_path_factory.mktemp("lab"), tmp_path_factory.mktemp("home")) as server:
        yield server


@pytest.fixture
def page(browser, request):
    """A new page at 1280×800 (clipboard allowed), every action bounded to 30 s."""
    context = browser.new_context(viewport=VIEWPORT)
    context.grant_permissions(["clipboard-read", "clipboard-write"])
    tab = context.new_page()
    tab.set_default_timeout(30_000)
    errors: list[str] = []
    elsewhere: list[str] = []
    tab.on("pageerror", lambda exc: errors.append(str(exc)))
    tab.on("request", lambda r: None if is_local(r.url) else elsewhere.append(r.url))
    try:
        yield tab
    finally:
        try:
            shot(tab, f"{request.node.name}-last")
        finally:
            context.close()
    assert not errors, f"uncaught errors in the page: {errors}"
    assert not elsewhere, f"the page asked for more than 127.0.0.1: {elsewhere}"


@pytest.fixture
def notebook(lab, page):
    """``notebook(name, cells)``: write a throwaway notebook of these code cells, open it in
    ``page`` and Run All Cells; its kernel is stopped after the test."""

    def run(name: str, cells: list[str] | None = None) -> None:
        if cells is not None:
            lab.write(name, cells)
        lab.run_all(page, name)

    try:
        yield run
    finally:
        lab.shutdown_kernels()
