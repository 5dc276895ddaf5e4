"""IcdBrowser and CodingTool in a real JupyterLab at 1280×800, driven by headless Chromium.

A notebook connects to the sandbox and shows an ``IcdBrowser`` and a ``CodingTool`` (WHO's
Embedded Coding Tool, loaded from the kernel's vendored copy, authenticated through the
session). The test searches, opens a result with a click, follows the arrow keys, walks the
hierarchy, fills the basket, copies and saves it; then types into the coding tool and picks a
result, which must reach Python. It checks the layout (no widget wider than its cell, grid rows
≤ 40 px, the key controls in view) and that no token shows in the page. Screenshots and the
measured figures go to ``test-artifacts/``. Skipped, saying why, without chromium, Playwright
or JupyterLab.
"""

from __future__ import annotations

import time

import pytest

from ._lab import ROOT, layout, output_of, save_figures, shot, wait_output, wait_text

pytestmark = [pytest.mark.browser, pytest.mark.timeout(240)]

CELLS = [
    '''\
import ipywidgets as w
import explorer

icd = explorer.connect("icd", sandbox=True, cache=False, progress=False)
print("EXPLORER FROM", explorer.__file__)''',
    '''\
browser = explorer.widgets.IcdBrowser(icd)
browser''',
    '''\
tool = explorer.widgets.CodingTool(icd)
log = w.Output()
tool.on_select(lambda row: log.append_stdout(f"PICKED {row['code']} {row['title']}\\n"))
w.VBox([tool, log])''',
]


def test_icd_browser_and_coding_tool_in_jupyterlab(lab, page, notebook):
    figures: dict[str, object] = {}
    started_at = time.monotonic()
    try:
        notebook("icd.ipynb", CELLS)
        said = wait_output(page, "EXPLORER FROM", 60_000)
        assert str(ROOT / "explorer") in said, said  # the kernel imports this checkout

        # -- IcdBrowser: Enter searches, the results grid fills ----------------------------
        xib = page.locator(".xib").first
        query = xib.locator(".xib-query input")
        page.wait_for_function(
            "() => { const q = document.querySelector('.xib .xib-query input');"
            " return q && !q.disabled; }", timeout=60_000)
        query.fill("cholera")
        t0 = time.monotonic()
        query.press("Enter")
        xib.locator(".xib-results .xg-row[data-v='0']", has_text="1A00").wait_for()
        figures["seconds_enter_to_results"] = round(time.monotonic() - t0, 2)
        assert "Cholera" in xib.locator(".xib-results .xg-row[data-v='0']").inner_text()
        headers = xib.locator(".xib-results .xg-hcell").all_inner_texts()
        assert [h.strip() for h in headers] == ["code", "title", "chapter", "score"]
        cut = page.evaluate(  # codes and titles whole: the title column takes the room
            "() => [...document.querySelectorAll('.xib-results .xg-row .xg-cell')]"
            ".filter(c => c.scrollWidth > c.clientWidth + 1).map(c => c.innerText)")
        assert cut == [], cut
        xib.scroll_into_view_if_needed()
        shot(page, "icd-widgets-1-results")

        # a click on a result opens it: the entity, the hierarchy, (no children)
        t0 = time.monotonic()
        xib.locator(".xib-results .xg-row[data-v='0']").click()
        entity = xib.locator(".xib-entity")
        entity.locator("h3", has_text="Cholera").wait_for()
        figures["seconds_click_to_entity"] = round(time.monotonic() - t0, 2)
        text = entity.inner_text()
        for part in ("1A00", "Inclusions", "cholera syndrome", "Postcoordination axes",
                     "Infectious agent", "Open in WHO's ICD-11 browser"):
            assert part in text, part
        current = xib.locator(".xib-tree .xib-node.xib-current")
        current.wait_for()
        assert "1A00" in current.inner_text() and "Cholera" in current.inner_text()
        assert xib.locator(".xib-tree .xib-none", has_text="(no children)").is_visible()
        tree_text = xib.locator(".xib-tree").inner_text()
        assert "Certain infectious or parasitic diseases" in tree_text  # the chapter
        assert "1A00-1A0Z" in tree_text                                  # a block between
        shot(page, "icd-widgets-2-entity")
        figures["browser_layout"] = layout(xib)
        for control in (".xib-query input", ".xib-bar button:has-text('Search')",
                        ".xib-results .xg-head", ".xib-tree", ".xib-entity",
                        "button:has-text('Add 1A00 to basket')",
                        "button:has-text('Save CSV')", ".xib-copy-button"):
            assert xib.locator(control).first.is_visible(), control

        # arrow keys move through the results; the entity follows
        page.keyboard.press("ArrowDown")
        entity.locator("h3", has_text="QC90.00").wait_for()
        assert "xg-selected" in xib.locator(
            ".xib-results .xg-row[data-v='1']").get_attribute("class")
        page.keyboard.press("ArrowUp")
        entity.locator("h3", has_text="1A00").wait_for()

        # the hierarchy: collapse the open branch's block, expand it again
        block = xib.locator(".xib-tree .xib-node", has_text="1A00-1A0Z").first
        assert block.get_attribute("aria-expanded") == "true"
        block.locator("[data-action='toggle']").click()
        page.wait_for_function(
            "() => [...document.querySelectorAll('.xib-tree .xib-node')].some(n => "
            "n.innerText.includes('1A00-1A0Z') && n.getAttribute('aria-expanded') === "
            "'false')")
        assert xib.locator(".xib-tree .xib-node", has_text="Cholera").count() == 0
        xib.locator(".xib-tree .xib-node", has_text="1A00-1A0Z").first.locator(
            "[data-action='toggle']").click()
        xib.locator(".xib-tree .xib-node", has_text="Cholera").first.wait_for()

        # the basket: add, copy (clipboard), save CSV
        xib.locator("button:has-text('Add 1A00 to basket')").click()
        xib.locator(".xib-basket .xg-row", has_text="1A00").wait_for()
        widths = page.evaluate(
            "() => Object.fromEntries([...document.querySelectorAll('.xib-basket .xg-hcell')]"
            ".map(h => [h.dataset.label, h.getBoundingClientRect().width]))")
        assert widths["title"] == max(widths.values()), widths
        xib.locator(".xib-copy-button").click()
        wait_text(page, ".xib", "Copied 1 basket row")
        clip = page.evaluate("() => navigator.clipboard.readText()")
        assert clip.splitlines()[:2] == [
            "code\ttitle\tchapter\turi",
            "1A00\tCholera\t01\thttp://id.who.int/icd/release/11/2025-01/mms/257068234"]
        shot(xib, "readme/icd-browser")
        xib.locator("button:has-text('Save CSV')").click()
        wait_text(page, ".xib", "Saved 1 row to")
        assert (lab.root / "icd-basket.csv").read_text().startswith("code,title,")
        # a breadcrumb link opens that entity
        entity.locator(".xib-crumbs a", has_text="1A00-1A0Z").click()
        entity.locator("h3", has_text="Bacterial intestinal infections").wait_for()
        xib.scroll_into_view_if_needed()
        shot(page, "icd-widgets-3-basket")
        figures["browser_after_layout"] = layout(xib)

        # -- CodingTool: WHO's ECT, on the sandbox, through the session's token -------------
        tool = page.locator(".xct").first
        tool.scroll_into_view_if_needed()
        box = tool.locator("input.ctw-input")
        t0 = time.monotonic()
        page.wait_for_selector(".xct input.ctw-input.apiInitializationCompleted"
                               ":not([disabled])", timeout=60_000)
        figures["seconds_ect_ready"] = round(time.monotonic() - t0, 2)
        box.click()
        t0 = time.monotonic()
        box.press_sequentially("cholera", delay=30)
        first = tool.locator(".ctw-window li[data-entityindex='0']")
        first.locator(".entityTheCode", has_text="1A00").wait_for()
        figures["seconds_ect_typed_to_results"] = round(time.monotonic() - t0, 2)
        assert "Cholera" in first.inner_text()
        assert len(tool.locator(".ctw-window .entityTheCode").all_inner_texts()) >= 3
        tool.scroll_into_view_if_needed()
        shot(page, "icd-widgets-4-coding-tool")
        shot(output_of(tool), "readme/coding-tool")
        figures["coding_tool_layout"] = layout(tool)
        first.locator(".entityTitlePointer").first.click()
        wait_text(page, ".jp-OutputArea-output", "PICKED 1A00 Cholera")
        shot(page, "icd-widgets-5-picked")

        # no token anywhere in the page (WHO's and the sandbox's tokens are JWTs)
        html = page.content()
        assert "eyJhbGciOi" not in html and "Bearer " not in html
    finally:
        figures["seconds_total"] = round(time.monotonic() - started_at, 1)
        save_figures("icd-widgets-browser", figures)
