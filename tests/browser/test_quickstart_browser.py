"""The quickstart notebook in a real JupyterLab, driven by headless Chromium (Playwright).

JupyterLab serves a temporary copy of ``notebooks/`` on 127.0.0.1 (a free port, a known token);
Debian's ``chromium`` runs the cells, fills the ICD form (Use sandbox), clicks Connect, searches
in the ICD browser widget, checks the results grid, opens a result and sees WHO's coding tool
ready. Screenshots go to
``test-artifacts/``. Without chromium, Playwright or JupyterLab the test is skipped, saying why.
"""

from __future__ import annotations

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

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                 "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]


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


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    """A JupyterLab server on 127.0.0.1 over a copy of the notebooks; yields (url, token)."""
    pytest.importorskip("jupyterlab", reason="JupyterLab is not installed (pip extra 'browser')")
    root = tmp_path_factory.mktemp("lab")
    shutil.copy(ROOT / "notebooks" / "00-quickstart.ipynb", root)
    port, token = _free_port(), secrets.token_hex(16)
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("ICD_", "ITCARE_", "GOPACS_", "JINDEXE_"))}
    home = tmp_path_factory.mktemp("home")
    settings = home / "settings" / "@jupyterlab" / "apputils-extension"
    settings.mkdir(parents=True)  # no "news?" toast over the widgets
    (settings / "notification.jupyterlab-settings").write_text('{"fetchNews": "false"}')
    env.update(TQDM_DISABLE="1", JUPYTER_CONFIG_DIR=str(home / "config"),
               JUPYTER_RUNTIME_DIR=str(home / "runtime"),
               JUPYTERLAB_SETTINGS_DIR=str(home / "settings"),
               JUPYTERLAB_WORKSPACES_DIR=str(home / "workspaces"),
               # the kernels import explorer from this checkout
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
        yield url, token
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


def test_quickstart_form_connect_search(lab):
    executable = _chromium()
    sync_api = pytest.importorskip("playwright.sync_api",
                                   reason="Playwright is not installed (pip extra 'browser')")
    url, token = lab
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.set_default_timeout(60_000)
        try:
            page.goto(f"{url}/lab/tree/00-quickstart.ipynb?token={token}")
            page.wait_for_selector(".jp-Notebook .jp-Cell")
            # JupyterLab may ask which kernel to start: the notebook's own (Python 3)
            select = page.locator(".jp-Dialog button:has-text('Select')")
            try:
                select.wait_for(timeout=10_000)
                select.click()
            except sync_api.TimeoutError:
                pass
            # wait for the kernel, then Run > Run All Cells
            page.wait_for_selector(".jp-Notebook-ExecutionIndicator[data-status='idle']")
            page.click("div.lm-MenuBar-itemLabel:text-is('Run')")
            page.click("li.lm-Menu-item:has-text('Run All Cells')")

            # the credential form: Use sandbox is on (no credentials here); click Connect
            form = page.locator(".widget-vbox", has=page.locator("button:has-text('Connect')"))
            form = form.last
            connect = form.locator("button:has-text('Connect')")
            connect.wait_for()
            checkbox = form.locator(".widget-checkbox input[type=checkbox]")
            if not checkbox.is_checked():
                checkbox.check()
            # the form redraws after the kernel has seen the switch: wait for it, don't peek
            form.get_by_text("Using the embedded sandbox").wait_for()
            connect.click()
            form.locator(".explorer-connected").wait_for()
            page.wait_for_function(
                "() => [...document.querySelectorAll('.explorer-connected')]"
                ".some(e => e.innerText.includes('expires in'))")
            status = form.inner_text()
            assert "Connected to WHO ICD API [sandbox]" in status and "expires in" in status

            # the ICD browser: type a query, press Enter, read the results grid
            xib = page.locator(".xib").last
            query = xib.locator(".xib-query input")
            query.wait_for()
            page.wait_for_function(
                "() => [...document.querySelectorAll('.xib .xib-query input')]"
                ".some(e => !e.disabled)")
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
            xib.scroll_into_view_if_needed()
            page.screenshot(path=str(ARTIFACTS / "quickstart-browser-widget.png"))
            # WHO's coding tool, further down, is ready to type in
            page.locator(".xct input.ctw-input.apiInitializationCompleted").wait_for()
        finally:
            page.screenshot(path=str(ARTIFACTS / "quickstart-browser.png"), full_page=True)
            browser.close()
