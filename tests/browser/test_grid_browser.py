"""DataGrid in a real JupyterLab at 1280×800, driven by headless Chromium (Playwright).

A notebook shows a grid of 10,000 ITCare-like rows × 50 columns (``tags`` holds lists of
``{key, value}`` dicts) in a VBox with an output the notebook prints events into. The test
checks the layout (rows ≤ 40 px, the grid inside its cell with its own horizontal scrollbar,
the controls in view), that rows are virtualised, that a header click sorts as Python
expects, that the column chooser hides a column, that a click and Enter reach Python, that
arrow keys move the selection and that Python can highlight a row. Screenshots and the
measured figures go to ``test-artifacts/``. Without chromium, Playwright or JupyterLab the
test is skipped, saying why.
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

pytestmark = [pytest.mark.browser, pytest.mark.timeout(180)]

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                 "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]
ROWS, COLUMNS = 10_000, 50
MAX_DOM_ROWS = 80  # a virtualised grid of ~12 visible rows keeps far fewer than 10,000

SETUP = f'''\
import numpy as np, pandas as pd, ipywidgets as w
from explorer.widgets.grid import DataGrid

rng = np.random.default_rng(0)
n = {ROWS}
df = pd.DataFrame({{
    "id": np.arange(5_300_000, 5_300_000 + n),
    "name": [f"PETBLGLES{{i:05d}}" for i in range(n)],
    "environment": np.array(["PRODUCTION", "QUALIFICATION", "DEVELOPMENT"])[rng.integers(0, 3, n)],
    "cpu": rng.integers(1, 64, n),
    "ram": rng.integers(1, 256, n),
    "creationTime": pd.date_range("2023-01-01", periods=n, freq="h", tz="UTC"),
    "tags": [[{{"key": "app", "value": f"web{{i % 7}}"}}, {{"key": "env", "value": "prod"}}]
             for i in range(n)],
    "network.dns": [[{{"alias": f"h{{i}}", "domain": "production.sandbox.local"}}]
                    for i in range(n)],
    "description": [("long text " * 40 + str(i)) if i % 5 == 0 else None for i in range(n)],
}})
for k in range(df.shape[1], {COLUMNS}):
    df[f"field{{k:02d}}"] = [f"value {{k}}-{{i % 997}}" for i in range(n)]
'''

SHOW = '''\
import time
started = time.perf_counter()
grid = DataGrid(df, height="360px")
encoded = time.perf_counter() - started
log = w.Output(layout={"border": "1px solid #ccc", "min_height": "2em"})

def say(*args):
    with log:
        print(*args)

grid.on_select(lambda row: say("OPEN", row["id"]))
grid.observe(lambda c: say("MOVED", None if c["new"] is None else df["id"].iloc[c["new"]]),
             "selected")
grid.observe(lambda c: say("SORTED", grid.sort_by, grid.ascending, grid.view()["id"].iloc[0]),
             "ascending")
grid.observe(lambda c: say("COLUMNS", len(c["new"])), "visible_columns")
jump = w.Button(description="Highlight id 5309000", layout={"width": "auto"})

def highlight(_):
    grid.selected = int(np.flatnonzero(df["id"].to_numpy() == 5_309_000)[0])

jump.on_click(highlight)
say(f"ENCODED {encoded:.2f} s")
w.VBox([w.HTML("<b>ITCare-like instances</b>"), grid, jump, log])
'''


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
              "source": source} for source in (SETUP, SHOW)]
    return {"cells": cells, "nbformat": 4, "nbformat_minor": 5,
            "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3",
                                        "language": "python"}}}


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    """A JupyterLab server on 127.0.0.1 over a folder with the grid notebook; yields
    (url, token). Its kernels import ``explorer`` from this checkout."""
    pytest.importorskip("jupyterlab", reason="JupyterLab is not installed (pip extra 'browser')")
    pytest.importorskip("anywidget", reason="anywidget is not installed")
    root = tmp_path_factory.mktemp("lab")
    (root / "grid.ipynb").write_text(json.dumps(_notebook()))
    port, token = _free_port(), secrets.token_hex(16)
    home = tmp_path_factory.mktemp("home")
    settings = home / "settings" / "@jupyterlab" / "apputils-extension"
    settings.mkdir(parents=True)  # no "news?" toast over the grid
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
        yield url, token
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


# Figures of the grid and its cell, measured in the page.
MEASURE = """() => {
  const grid = document.querySelector('.xg');
  const cell = grid.closest('.jp-Cell');
  const output = grid.closest('.jp-OutputArea-output');
  const scroller = grid.querySelector('.xg-scroll');
  const rows = [...grid.querySelectorAll('.xg-row')];
  const box = (e) => e.getBoundingClientRect();
  const widgets = [...output.querySelectorAll('.jupyter-widgets, .xg')];
  return {
    domRows: rows.length,
    rowHeights: rows.map((r) => box(r).height),
    cellLeft: box(cell).left, cellRight: box(cell).right,
    widestRight: Math.max(...widgets.map((e) => box(e).right)),
    narrowestLeft: Math.min(...widgets.map((e) => box(e).left)),
    gridWidth: box(grid).width,
    scrollWidth: scroller.scrollWidth, clientWidth: scroller.clientWidth,
    notebookOverflow: (() => {
      const panel = cell.closest('.jp-WindowedPanel-outer') || cell.parentElement;
      return panel.scrollWidth - panel.clientWidth;
    })(),
    bodyHeight: box(grid.querySelector('.xg-body')).height,
  };
}"""


# Scroll 60 frames down the grid, waiting for each to paint; the mean milliseconds a frame.
SCROLL_FRAMES = """async (e) => {
  const frame = () => new Promise((r) => requestAnimationFrame(() => r()));
  const t = performance.now();
  for (let i = 1; i <= 60; i++) {
    e.scrollTop = i * 2600;
    await frame();
    await frame();
  }
  const ms = (performance.now() - t) / 60;
  e.scrollTop = 0;
  return Math.round(ms * 10) / 10;
}"""


def _cell(page, v: int, label: str):
    """The cell of column ``label`` in the row shown ``v``-th (cells exist only for the
    columns in horizontal view)."""
    return page.locator(f".xg-row[data-v='{v}'] .xg-cell"
                        f"[aria-colindex='{_header_index(page, label) + 1}']")


def _wait_log(page, text: str) -> str:
    page.wait_for_function(
        "t => [...document.querySelectorAll('.jp-OutputArea-output')]"
        ".some(e => e.innerText.includes(t))", arg=text, timeout=15_000)
    return page.locator(".jp-OutputArea-output", has_text=text).last.inner_text()


def _header_index(page, label: str) -> int:
    labels = page.eval_on_selector_all(".xg-hcell", "hs => hs.map(h => h.dataset.label)")
    return labels.index(label)


def test_grid_of_10000_rows_in_jupyterlab(lab):
    executable = _chromium()
    sync_api = pytest.importorskip("playwright.sync_api",
                                   reason="Playwright is not installed (pip extra 'browser')")
    url, token = lab
    ARTIFACTS.mkdir(exist_ok=True)
    figures: dict[str, object] = {}
    with sync_api.sync_playwright() as pw:
        # real scrollbars (Playwright hides them by default): the layout must allow for them
        browser = pw.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS,
                                     ignore_default_args=["--hide-scrollbars"])
        page = browser.new_page(viewport={"width": 1280, "height": 800})
        page.set_default_timeout(30_000)
        try:
            page.goto(f"{url}/lab/tree/grid.ipynb?token={token}")
            page.wait_for_selector(".jp-Notebook .jp-Cell")
            select = page.locator(".jp-Dialog button:has-text('Select')")
            try:
                select.wait_for(timeout=5_000)
                select.click()
            except sync_api.TimeoutError:
                pass
            page.locator(".jp-Notebook-ExecutionIndicator[data-status='idle']").last.wait_for()
            started = time.monotonic()
            page.click("div.lm-MenuBar-itemLabel:text-is('Run')")
            page.click("li.lm-Menu-item:has-text('Run All Cells')")
            grid = page.locator(".xg").last
            page.locator(".xg .xg-row").first.wait_for(timeout=60_000)
            figures["seconds_run_all_to_rows"] = round(time.monotonic() - started, 2)
            grid.scroll_into_view_if_needed()
            page.wait_for_timeout(300)
            page.screenshot(path=str(ARTIFACTS / "grid-browser-1-shown.png"))

            # layout: fixed row height, inside the cell, scrolling sideways inside the grid
            m = page.evaluate(MEASURE)
            figures.update({k: m[k] for k in ("domRows", "gridWidth", "scrollWidth",
                                              "clientWidth")})
            figures["row_height_px"] = max(m["rowHeights"])
            assert 0 < max(m["rowHeights"]) <= 40, m["rowHeights"]
            assert m["widestRight"] <= m["cellRight"] + 1, m
            assert m["narrowestLeft"] >= m["cellLeft"] - 1, m
            assert m["notebookOverflow"] <= 1, m
            assert m["scrollWidth"] > m["clientWidth"] + 500, m  # 50 columns scroll inside
            assert m["bodyHeight"] == ROWS * 26, m
            assert m["domRows"] <= MAX_DOM_ROWS, m
            # the key controls are in view
            for control in (".xg-columns-button", ".xg-head", ".xg-info"):
                assert grid.locator(control).is_visible(), control
            assert "10,000 rows" in grid.locator(".xg-info").inner_text()
            assert _cell(page, 0, "tags").inner_text() == "app:web0, env:prod"
            # only the columns in view have cells
            cells = page.locator(".xg-row[data-v='0'] .xg-cell").count()
            figures["dom_cells_per_row"] = cells
            assert 3 <= cells < COLUMNS // 2

            said = _wait_log(page, "ENCODED")
            figures["seconds_python_encode"] = float(said.split("ENCODED")[1].split()[0])

            # virtualised while scrolling: 60 frames down the grid, then the middle, the end
            scroller = grid.locator(".xg-scroll")
            figures["ms_per_scroll_frame"] = scroller.evaluate(SCROLL_FRAMES)
            assert figures["ms_per_scroll_frame"] < 200, figures  # no freezing
            for top in (ROWS * 26 // 2, ROWS * 26):
                scroller.evaluate(f"e => {{ e.scrollTop = {top}; }}")
                page.wait_for_timeout(150)
                assert page.locator(".xg-row").count() <= MAX_DOM_ROWS
            assert grid.locator(f".xg-row[data-v='{ROWS - 1}']").inner_text().startswith(
                str(5_300_000 + ROWS - 1))
            scroller.evaluate("e => { e.scrollTop = 0; e.scrollLeft = 0; }")

            # sorting: a header click sorts ascending, a second descending; Python agrees
            cpu = grid.locator(".xg-hcell[data-label='cpu']")
            figures["ms_sort_10000_rows"] = round(cpu.evaluate(
                "h => { const t = performance.now(); h.click(); return performance.now() - t; }"),
                1)
            cpu.click()
            page.wait_for_function(
                "() => document.querySelector(\".xg-hcell[data-label='cpu']\")"
                ".getAttribute('aria-sort') === 'descending'")
            assert _cell(page, 0, "cpu").inner_text() == "63"  # the largest of 1..63
            said = _wait_log(page, "SORTED cpu False")
            assert f"SORTED cpu False {_cell(page, 0, 'id').inner_text()}" in said
            name = grid.locator(".xg-hcell[data-label='name']")
            name.click()
            name.click()
            _wait_log(page, "SORTED name False")
            assert _cell(page, 0, "name").inner_text() == f"PETBLGLES{ROWS - 1:05d}"
            said = _wait_log(page, "SORTED name False")
            assert f"SORTED name False {5_300_000 + ROWS - 1}" in said

            # the column chooser: hide "environment"
            grid.locator(".xg-columns-button").click()
            item = grid.locator(".xg-menu-item", has_text="environment")
            item.wait_for()
            page.screenshot(path=str(ARTIFACTS / "grid-browser-2-sorted-chooser.png"))
            page.keyboard.type("dd")  # typed into the filter: no notebook shortcut (dd deletes)
            assert grid.locator(".xg-menu-item:visible").count() == 0
            page.keyboard.press("Backspace")
            page.keyboard.press("Backspace")
            page.keyboard.type("env")
            assert grid.locator(".xg-menu-item:visible").all_inner_texts() == ["environment"]
            assert page.locator(".jp-Notebook .jp-Cell").count() == 2
            item.locator("input").uncheck()
            page.wait_for_function(
                "() => ![...document.querySelectorAll('.xg-hcell')]"
                ".some(h => h.dataset.label === 'environment')")
            _wait_log(page, f"COLUMNS {COLUMNS - 1}")
            page.keyboard.press("Escape")
            assert grid.locator(".xg-menu").is_hidden()
            assert f"{COLUMNS - 1} of {COLUMNS} columns" in grid.locator(".xg-info").inner_text()

            # a click on a row reaches Python; arrow keys move the selection; Enter opens
            row = grid.locator(".xg-row[data-v='2']")
            clicked = row.locator(".xg-cell").first.inner_text()
            row.click()
            _wait_log(page, f"OPEN {clicked}")
            assert "xg-selected" in row.get_attribute("class")
            active = page.evaluate(
                "() => [...document.querySelectorAll('.jp-Notebook .jp-Cell')]"
                ".findIndex(c => c.classList.contains('jp-mod-active'))")
            page.keyboard.press("ArrowDown")
            page.keyboard.press("ArrowDown")
            moved_to = grid.locator(".xg-row[data-v='4']")
            assert "xg-selected" in moved_to.get_attribute("class")
            target = moved_to.locator(".xg-cell").first.inner_text()
            _wait_log(page, f"MOVED {target}")
            page.keyboard.press("Enter")
            _wait_log(page, f"OPEN {target}")
            # the notebook did not take those keys (no edit mode, same active cell)
            assert page.locator(".jp-Notebook.jp-mod-editMode").count() == 0
            assert active == page.evaluate(
                "() => [...document.querySelectorAll('.jp-Notebook .jp-Cell')]"
                ".findIndex(c => c.classList.contains('jp-mod-active'))")

            # the full value of a cut text on hover
            scroller.evaluate("e => { e.scrollTop = 0; }")
            header = grid.locator(".xg-hcell[data-label='description']")
            header.scroll_into_view_if_needed()
            header.click()  # sort: the long texts come first
            page.wait_for_timeout(200)
            cell = _cell(page, 0, "description")
            cell.hover()
            page.wait_for_function(
                "(c) => (c.title || '').length > 300", arg=cell.element_handle())
            assert cell.get_attribute("title").startswith("long text long text")

            # Python highlights a row and the grid scrolls to it
            page.locator("button:has-text('Highlight id 5309000')").click()
            highlighted = grid.locator(".xg-row.xg-selected")
            page.wait_for_function(  # id 5309000 is row 9000
                "() => document.querySelector('.xg-row.xg-selected')?.dataset.pos === '9000'")
            scroller.evaluate("e => { e.scrollLeft = 0; }")
            page.wait_for_function(
                "() => document.querySelector('.xg-row.xg-selected').innerText"
                ".startsWith('5309000')")
            box, view = highlighted.bounding_box(), scroller.bounding_box()
            assert view["y"] <= box["y"] and box["y"] + box["height"] <= view["y"] + view[
                "height"] + 1
            scroller.evaluate("e => { e.scrollLeft = 0; }")
            grid.scroll_into_view_if_needed()
            page.screenshot(path=str(ARTIFACTS / "grid-browser-3-highlighted.png"))
            figures["dom_rows_at_end"] = page.locator(".xg-row").count()
        finally:
            page.screenshot(path=str(ARTIFACTS / "grid-browser-last.png"))
            (ARTIFACTS / "grid-browser.json").write_text(json.dumps(figures, indent=2))
            browser.close()
