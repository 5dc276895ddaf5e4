"""The quickstart notebook in a real JupyterLab at 1280×800, driven by headless Chromium.

A copy of ``notebooks/00-quickstart.ipynb`` runs top to bottom; Chromium fills the ICD form (Use
sandbox), clicks Connect, searches in the ICD browser widget, checks the results grid, opens a
result and sees WHO's coding tool ready; each widget inside its cell (``_lab.layout``).
Screenshots go to ``test-artifacts/``. Fixtures and helpers: ``conftest.py``, ``_lab.py``.
"""

from __future__ import annotations

import shutil

import pytest

from ._lab import NOTEBOOKS, layout, shot

pytestmark = [pytest.mark.browser, pytest.mark.timeout(180)]


def test_quickstart_form_connect_search(lab, page, notebook):
    shutil.copy(NOTEBOOKS / "00-quickstart.ipynb", lab.root)
    notebook("00-quickstart.ipynb")

    # the credential form: Use sandbox is on (no credentials here); click Connect
    form = page.locator(".widget-vbox", has=page.locator("button:has-text('Connect')")).last
    connect = form.locator("button:has-text('Connect')")
    connect.wait_for(timeout=60_000)
    checkbox = form.locator(".widget-checkbox input[type=checkbox]")
    if not checkbox.is_checked():
        checkbox.check()
    # the form redraws after the kernel has seen the switch: wait for it, don't peek
    form.get_by_text("Using the embedded sandbox").wait_for()
    connect.click()
    form.locator(".explorer-connected", has_text="expires in").wait_for()
    status = form.inner_text()
    assert "Connected to WHO ICD API [sandbox]" in status and "expires in" in status
    layout(form)

    # the ICD browser: type a query, press Enter, read the results grid
    xib = page.locator(".xib").last
    query = xib.locator(".xib-query input")
    query.wait_for()
    page.wait_for_function(
        "() => [...document.querySelectorAll('.xib .xib-query input')].some(e => !e.disabled)")
    query.fill("congenital tuberculosis")  # the grid draws only the rows in view
    query.press("Enter")
    row = xib.locator(".xib-results .xg-row[data-v='0']", has_text="KA61.0")
    row.wait_for()
    assert "Congenital tuberculosis" in row.inner_text()
    headers = xib.locator(".xib-results .xg-hcell").all_inner_texts()
    assert [h.strip() for h in headers[:2]] == ["code", "title"]
    # a click on the result opens it
    row.click()
    xib.locator(".xib-entity h3", has_text="Congenital tuberculosis").wait_for()
    xib.locator(".xib-tree .xib-node.xib-current", has_text="KA61.0").wait_for()
    layout(xib)
    xib.scroll_into_view_if_needed()
    shot(page, "quickstart-browser-widget")
    # WHO's coding tool, further down, is ready to type in
    tool = page.locator(".xct input.ctw-input.apiInitializationCompleted")
    tool.wait_for(timeout=60_000)
    tool.scroll_into_view_if_needed()
    layout(page.locator(".xct"))
    shot(page, "quickstart-coding-tool")
