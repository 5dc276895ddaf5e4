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

import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.timeout(240)]

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                 "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]

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


def _chromium() -> str:
    for candidate in ("/usr/bin/chromium", shutil.which("chromium") or ""):
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    pytest.skip("chromium is not installed (Debian: apt-get install -y chromium); "
                "Playwright cannot download its own browser here")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _notebook() -> dict:
    cells = [{"cell_type": "code", "metadata": {}, "execution_count": None, "outputs": [],
              "source": source} for source in CELLS]
    return {"cells": cells, "nbformat": 4, "nbformat_minor": 5,
            "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3",
                                        "language": "python"}}}


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    """A JupyterLab server on 127.0.0.1 over a folder with the notebook; yields
    (url, token, folder). Its kernels import ``explorer`` from this checkout."""
    pytest.importorskip("jupyterlab", reason="JupyterLab is not installed (pip extra 'browser')")
    pytest.importorskip("anywidget", reason="anywidget is not installed")
    root = tmp_path_factory.mktemp("lab")
    (root / "icd.ipynb").write_text(json.dumps(_notebook()))
    port, token = _free_port(), secrets.token_hex(16)
    home = tmp_path_factory.mktemp("home")
    settings = home / "settings" / "@jupyterlab" / "apputils-extension"
    settings.mkdir(parents=True)  # no "news?" toast over the widgets
    (settings / "notification.jupyterlab-settings").write_text('{"fetchNews": "false"}')
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("ICD_", "ITCARE_", "GOPACS_", "JINDEXE_"))}
    env.update(TQDM_DISABLE="1", JUPYTER_CONFIG_DIR=str(home / "config"),
               JUPYTER_RUNTIME_DIR=str(home / "runtime"),
               JUPYTERLAB_SETTINGS_DIR=str(home / "settings"),
               JUPYTERLAB_WORKSPACES_DIR=str(home / "workspaces"),
               PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")])))
    log = open(root / "lab.log", "wb")  # noqa: SIM115 - closed below
    proc = subprocess.Popen(
        [sys.executable, "-m", "jupyter", "lab", "--no-browser", "--ip=127.0.0.1",
         f"--port={port}", "--port-retries=0", f"--IdentityProvider.token={token}",
         f"--ServerApp.root_dir={root}", "--LabApp.news_url=None",
         "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
         "--LabApp.extension_manager=readonly", "--allow-root"],
        cwd=root, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.time() + 60
        while True:
            try:
                with urllib.request.urlopen(f"{url}/api/status?token={token}", timeout=2):
                    break
            except OSError:
                if proc.poll() is not None or time.time() > deadline:
                    log.flush()
                    pytest.fail("JupyterLab did not start:\n"
                                + (root / "lab.log").read_text(errors="replace")[-3000:])
                time.sleep(0.3)
        yield url, token, root
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


# Figures of the widgets in one output against their notebook cell.
MEASURE = """(selector) => {
  const widget = document.querySelector(selector);
  const cell = widget.closest('.jp-Cell');
  const output = widget.closest('.jp-OutputArea-output');
  const box = (e) => e.getBoundingClientRect();
  const parts = [...output.querySelectorAll('.jupyter-widgets, .xg, .xib-pane, .xct')]
    .filter((e) => box(e).width > 0);
  const rows = [...output.querySelectorAll('.xg-row')].map((r) => box(r).height);
  const panel = cell.closest('.jp-WindowedPanel-outer') || cell.parentElement;
  return {
    cellLeft: box(cell).left, cellRight: box(cell).right, cellWidth: box(cell).width,
    widestRight: Math.max(...parts.map((e) => box(e).right)),
    narrowestLeft: Math.min(...parts.map((e) => box(e).left)),
    widest: parts.map((e) => [e.className.slice(0, 60), Math.round(box(e).right)])
      .sort((a, b) => b[1] - a[1]).slice(0, 3),
    rowHeights: rows,
    notebookOverflow: panel.scrollWidth - panel.clientWidth,
  };
}"""


def _wait_text(page, selector: str, text: str, timeout: float = 20_000) -> None:
    page.wait_for_function(
        "([s, t]) => [...document.querySelectorAll(s)].some(e => e.innerText.includes(t))",
        arg=[selector, text], timeout=timeout)


def _check_layout(page, selector: str, figures: dict, name: str) -> None:
    m = page.evaluate(MEASURE, selector)
    figures[f"{name}_layout"] = m
    assert m["widestRight"] <= m["cellRight"] + 1, m
    assert m["narrowestLeft"] >= m["cellLeft"] - 1, m
    assert m["notebookOverflow"] <= 1, m
    assert all(0 < h <= 40 for h in m["rowHeights"]), m["rowHeights"]


def test_icd_browser_and_coding_tool_in_jupyterlab(lab):
    executable = _chromium()
    sync_api = pytest.importorskip("playwright.sync_api",
                                   reason="Playwright is not installed (pip extra 'browser')")
    url, token, folder = lab
    ARTIFACTS.mkdir(exist_ok=True)
    figures: dict[str, object] = {}
    started_at = time.monotonic()
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS,
                                     ignore_default_args=["--hide-scrollbars"])
        context = browser.new_context(viewport={"width": 1280, "height": 800})
        context.grant_permissions(["clipboard-read", "clipboard-write"], origin=url)
        page = context.new_page()
        page.set_default_timeout(30_000)
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        try:
            page.goto(f"{url}/lab/tree/icd.ipynb?token={token}")
            page.wait_for_selector(".jp-Notebook .jp-Cell")
            select = page.locator(".jp-Dialog button:has-text('Select')")
            try:
                select.wait_for(timeout=5_000)
                select.click()
            except sync_api.TimeoutError:
                pass
            page.locator(".jp-Notebook-ExecutionIndicator[data-status='idle']").last.wait_for()
            page.click("div.lm-MenuBar-itemLabel:text-is('Run')")
            page.click("li.lm-Menu-item:has-text('Run All Cells')")
            _wait_text(page, ".jp-OutputArea-output", "EXPLORER FROM", 60_000)
            said = page.locator(".jp-OutputArea-output", has_text="EXPLORER FROM").inner_text()
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
            page.screenshot(path=str(ARTIFACTS / "icd-widgets-1-results.png"))

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
            page.screenshot(path=str(ARTIFACTS / "icd-widgets-2-entity.png"))
            _check_layout(page, ".xib", figures, "browser")
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
            _wait_text(page, ".xib", "Copied 1 basket row")
            clip = page.evaluate("() => navigator.clipboard.readText()")
            assert clip.splitlines()[:2] == [
                "code\ttitle\tchapter\turi",
                "1A00\tCholera\t01\thttp://id.who.int/icd/release/11/2025-01/mms/257068234"]
            xib.locator("button:has-text('Save CSV')").click()
            _wait_text(page, ".xib", "Saved 1 row to")
            assert (folder / "icd-basket.csv").read_text().startswith("code,title,")
            # a breadcrumb link opens that entity
            entity.locator(".xib-crumbs a", has_text="1A00-1A0Z").click()
            entity.locator("h3", has_text="Bacterial intestinal infections").wait_for()
            xib.scroll_into_view_if_needed()
            page.screenshot(path=str(ARTIFACTS / "icd-widgets-3-basket.png"))
            _check_layout(page, ".xib", figures, "browser_after")

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
            page.screenshot(path=str(ARTIFACTS / "icd-widgets-4-coding-tool.png"))
            _check_layout(page, ".xct", figures, "coding_tool")
            first.locator(".entityTitlePointer").first.click()
            _wait_text(page, ".jp-OutputArea-output", "PICKED 1A00 Cholera")
            page.screenshot(path=str(ARTIFACTS / "icd-widgets-5-picked.png"))

            # no token anywhere in the page (WHO's and the sandbox's tokens are JWTs)
            html = page.content()
            assert "eyJhbGciOi" not in html and "Bearer " not in html
        finally:
            figures["seconds_total"] = round(time.monotonic() - started_at, 1)
            page.screenshot(path=str(ARTIFACTS / "icd-widgets-last.png"))
            (ARTIFACTS / "icd-widgets-browser.json").write_text(json.dumps(figures, indent=2))
            browser.close()
    assert not errors, errors
