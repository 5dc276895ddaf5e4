"""Shared pieces of the real-browser tests: Debian's chromium for Playwright, a JupyterLab
server on 127.0.0.1 over a folder of throwaway notebooks, opening a notebook and running all
its cells, waiting for outputs, the layout figures of a widget measured in the page, and
screenshots under ``test-artifacts/``. Every wait is bounded. The fixtures that use them are in
``conftest.py``.

Without chromium, Playwright or JupyterLab the tests are skipped, saying why.
"""

from __future__ import annotations

import ast
import contextlib
import io
import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

__all__ = ["ARTIFACTS", "CHROMIUM_ARGS", "NOTEBOOKS", "ROOT", "VIEWPORT", "Lab", "chromium",
           "distinct_colours", "free_port", "is_local", "jupyter_lab", "layout", "notebook_json",
           "notebook_slice", "output_of", "playwright", "save_figures", "shot", "wait_output",
           "wait_text"]

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = ROOT / "notebooks"
ARTIFACTS = ROOT / "test-artifacts"
#: The size the issue asks the widgets to hold up at.
VIEWPORT = {"width": 1280, "height": 800}
#: Headless, nothing fetched in the background; every host but 127.0.0.1 goes to a closed
#: port (a dead proxy: Chromium always connects to loopback directly), so no request can
#: leave the machine.
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                 "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--disable-extensions",
                 "--proxy-server=http://127.0.0.1:9"]
#: How long a notebook may take to start its kernel and show its first outputs (ms).
KERNEL_MS = 60_000


def chromium() -> str:
    """Debian's chromium (Playwright cannot download its own browser here), else a skip."""
    for candidate in ("/usr/bin/chromium", shutil.which("chromium") or ""):
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    pytest.skip("chromium is not installed (Debian: apt-get install -y chromium); "
                "Playwright cannot download its own browser here")


def playwright() -> Any:
    """``playwright.sync_api``, else a skip."""
    return pytest.importorskip("playwright.sync_api",
                               reason="Playwright is not installed (pip extra 'browser')")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def is_local(url: str) -> bool:
    """Whether the page may load ``url``: 127.0.0.1, or no network at all (data:, blob:…)."""
    parts = urlsplit(url)
    return parts.scheme not in ("http", "https", "ws", "wss") or parts.hostname == "127.0.0.1"


# -- JupyterLab ------------------------------------------------------------------------------------
@dataclass
class Lab:
    """A running JupyterLab: its URL, token and the folder it serves."""

    url: str
    token: str
    root: Path

    def api(self, method: str, path: str) -> Any:
        """A call to the server's REST API (JSON answer, or ``None``)."""
        request = urllib.request.Request(f"{self.url}{path}", method=method,
                                         headers={"Authorization": f"token {self.token}"})
        with urllib.request.urlopen(request, timeout=10) as answer:
            body = answer.read()
        return json.loads(body) if body else None

    def shutdown_kernels(self) -> None:
        """Stop every kernel (a test's notebook is done; the next starts its own)."""
        for kernel in self.api("GET", "/api/kernels") or []:
            with contextlib.suppress(OSError):
                self.api("DELETE", f"/api/kernels/{kernel['id']}")

    def write(self, name: str, cells: Sequence[str]) -> str:
        """A throwaway notebook ``name`` of these code cells in the served folder."""
        (self.root / name).write_text(json.dumps(notebook_json(cells)))
        return name

    def run_all(self, page: Any, name: str) -> None:
        """Open notebook ``name`` (alone: a new, empty workspace, not the tabs of the tests
        before), pick its kernel if asked, wait for it, Run All Cells."""
        sync_api = playwright()
        workspace = secrets.token_hex(6)
        page.goto(f"{self.url}/lab/workspaces/{workspace}/tree/{name}?reset&token={self.token}")
        page.wait_for_selector(".jp-Notebook .jp-Cell", timeout=KERNEL_MS)
        select = page.locator(".jp-Dialog button:has-text('Select')")
        try:  # JupyterLab may ask which kernel to start: the notebook's own (Python 3)
            select.wait_for(timeout=3_000)
            select.click()
        except sync_api.TimeoutError:
            pass
        page.locator(".jp-Notebook-ExecutionIndicator[data-status='idle']").last.wait_for(
            timeout=KERNEL_MS)
        page.click("div.lm-MenuBar-itemLabel:text-is('Run')")
        page.click("li.lm-Menu-item:has-text('Run All Cells')")


@contextlib.contextmanager
def jupyter_lab(root: Path, home: Path) -> Iterator[Lab]:
    """A JupyterLab server over ``root`` on 127.0.0.1 (a free port, a known token), its
    settings under ``home`` (no news toast), no provider credentials in its environment, its
    kernels importing ``explorer`` from this checkout."""
    pytest.importorskip("jupyterlab", reason="JupyterLab is not installed (pip extra 'browser')")
    pytest.importorskip("anywidget", reason="anywidget is not installed (pip extra 'notebooks')")
    port, token = free_port(), secrets.token_hex(16)
    settings = home / "settings" / "@jupyterlab" / "apputils-extension"
    settings.mkdir(parents=True, exist_ok=True)
    (settings / "notification.jupyterlab-settings").write_text('{"fetchNews": "false"}')
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("ICD_", "ITCARE_", "GOPACS_", "JINDEXE_"))}
    env.update(TQDM_DISABLE="1", JUPYTER_CONFIG_DIR=str(home / "config"),
               JUPYTER_RUNTIME_DIR=str(home / "runtime"),
               JUPYTERLAB_SETTINGS_DIR=str(home / "settings"),
               JUPYTERLAB_WORKSPACES_DIR=str(home / "workspaces"),
               PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")])))
    log_path = home / "lab.log"
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "jupyter", "lab", "--no-browser", "--ip=127.0.0.1",
             f"--port={port}", "--port-retries=0", f"--IdentityProvider.token={token}",
             f"--ServerApp.root_dir={root}", "--LabApp.news_url=None",
             "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
             "--LabApp.extension_manager=readonly", "--allow-root"],
            cwd=root, env=env, stdout=log, stderr=subprocess.STDOUT)
        lab = Lab(f"http://127.0.0.1:{port}", token, root)
        try:
            deadline = time.monotonic() + 60
            while True:
                try:
                    lab.api("GET", "/api/status")
                    break
                except OSError:
                    if proc.poll() is not None or time.monotonic() > deadline:
                        log.flush()
                        pytest.fail("JupyterLab did not start:\n"
                                    + log_path.read_text(errors="replace")[-3000:])
                    time.sleep(0.3)
            yield lab
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=15)


# -- notebooks -------------------------------------------------------------------------------------
def notebook_json(cells: Sequence[str]) -> dict[str, Any]:
    """An nbformat 4 notebook of these code cells (Python 3 kernel)."""
    return {"cells": [{"cell_type": "code", "metadata": {}, "execution_count": None,
                       "outputs": [], "source": source} for source in cells],
            "nbformat": 4, "nbformat_minor": 5,
            "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3",
                                        "language": "python"}}}


def _names(source: str) -> tuple[set[str], set[str]]:
    """(names a cell binds at top level, names it reads and does not bind before)."""
    tree = ast.parse(source)
    bound: set[str] = set()
    for node in tree.body:
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            bound |= {(a.asname or a.name).split(".")[0] for a in node.names}
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            bound.add(node.name)
        else:
            for sub in ast.walk(node):
                if isinstance(sub, ast.Name) and isinstance(sub.ctx, ast.Store):
                    bound.add(sub.id)
    read = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)
            and isinstance(n.ctx, ast.Load)}
    return bound, read - bound


def notebook_slice(path: Path, wanted: Callable[[str], bool]) -> list[str]:
    """The code cells of notebook ``path`` that ``wanted`` picks, with the earlier cells they
    need (the last cell binding each name they read, and so on), in the notebook's order:
    a notebook's charts without its slow cells that the charts do not use."""
    cells = ["".join(c["source"]) for c in json.loads(path.read_text())["cells"]
             if c["cell_type"] == "code"]
    names = [_names(source) for source in cells]
    keep = {i for i, source in enumerate(cells) if wanted(source)}
    todo = sorted(keep)
    while todo:
        i = todo.pop()
        for name in names[i][1]:
            source = next((j for j in range(i - 1, -1, -1) if name in names[j][0]), None)
            if source is not None and source not in keep:
                keep.add(source)
                todo.append(source)
    return [cells[i] for i in sorted(keep)]


# -- the page --------------------------------------------------------------------------------------
def wait_text(page: Any, selector: str, text: str, timeout: float = 30_000) -> None:
    """Wait until some element matching ``selector`` shows ``text``."""
    page.wait_for_function(
        "([s, t]) => [...document.querySelectorAll(s)].some(e => e.innerText.includes(t))",
        arg=[selector, text], timeout=timeout)


def wait_output(page: Any, text: str, timeout: float = 30_000) -> str:
    """Wait until some cell output shows ``text``; that output's text."""
    wait_text(page, ".jp-OutputArea-output", text, timeout)
    return page.locator(".jp-OutputArea-output", has_text=text).last.inner_text()


def output_of(locator: Any) -> Any:
    """The notebook output area holding ``locator`` (what a README screenshot shows)."""
    return locator.locator("xpath=ancestor::div[contains(@class, 'jp-OutputArea-output')][1]")


def shot(target: Any, name: str) -> bytes:
    """A screenshot of a page or of an element, saved as ``test-artifacts/<name>.png``.

    An element is taken whole: JupyterLab scrolls the notebook inside a fixed page, so the
    part of a tall widget out of view would be drawn under the toolbars; for the shot the page
    grows as tall as the widget needs (the width, and so the layout, stays), then shrinks back.
    """
    path = ARTIFACTS / f"{name}.png"
    path.parent.mkdir(parents=True, exist_ok=True)
    page = getattr(target, "page", None)
    if page is None:
        return target.screenshot(path=str(path))
    size = page.viewport_size
    height = target.evaluate("e => e.getBoundingClientRect().height")
    taller = height + 250 > size["height"]
    if taller:
        page.set_viewport_size({"width": size["width"], "height": round(height) + 300})
    try:
        target.scroll_into_view_if_needed()
        page.evaluate("() => new Promise((r) => requestAnimationFrame(() => r()))")
        return target.screenshot(path=str(path))
    finally:
        if taller:
            page.set_viewport_size(size)


#: Layout figures of a widget (``root``, an element) against its notebook output: how far
#: any widget, control or image below it sticks out (scrolled grid cells aside), the labels
#: its box cuts (ellipsis or overflow), the short grid cells cut, the heights of its grid
#: rows, and whether the notebook itself scrolls sideways.
_LAYOUT = """(root) => {
  const box = (e) => e.getBoundingClientRect();
  const shown = (e) => { const b = box(e); return b.width > 0 && b.height > 0; };
  const cell = root.closest('.jp-Cell');
  const area = root.closest('.jp-OutputArea-output') || root;
  const limit = box(area);
  const parts = [root, ...root.querySelectorAll('.jupyter-widgets, .xg, .xib-pane, .xct, input,'
      + 'select, button, img, canvas, .explorer-filter-label, .explorer-connected-row')]
    .filter((e) => shown(e) && !e.closest('.xg-scroll'));
  const outside = parts
    .filter((e) => box(e).right > limit.right + 1 || box(e).left < limit.left - 1)
    .map((e) => `${e.tagName.toLowerCase()}.${String(e.className).slice(0, 60)} `
               + `${Math.round(box(e).left)}..${Math.round(box(e).right)}`);
  const cut = [...root.querySelectorAll('.widget-label, .widget-label-basic, label, button,'
      + '.explorer-filter-label, .lm-TabBar-tabLabel, .xg-hcell')]
    .filter((e) => shown(e) && e.clientWidth > 0 && e.scrollWidth > e.clientWidth + 1)
    .map((e) => e.innerText);
  const shortCut = [...root.querySelectorAll('.xg-row .xg-cell')]
    .filter((e) => e.innerText.length <= 16 && e.scrollWidth > e.clientWidth + 1)
    .map((e) => e.innerText);
  const panel = cell.closest('.jp-WindowedPanel-outer') || cell.parentElement;
  return {
    cell: [Math.round(box(cell).left), Math.round(box(cell).right)],
    output: [Math.round(limit.left), Math.round(limit.right)],
    width: Math.round(box(root).width), height: Math.round(box(root).height),
    outside, cut, shortCut,
    rowHeights: [...root.querySelectorAll('.xg-row')].filter(shown).map((r) => box(r).height),
    notebookOverflow: panel.scrollWidth - panel.clientWidth,
  };
}"""


def layout(locator: Any, *, cut_ok: Sequence[str] = ()) -> dict[str, Any]:
    """Measure the widget ``locator`` and assert the issue's layout rules: nothing in it wider
    than its notebook output (so its cell), the notebook not scrolling sideways, grid rows
    at most 40 px tall, no label cut (but those starting with one of ``cut_ok``), no grid
    cell of up to 16 characters cut. Returns
    the figures (for the test's JSON)."""
    m = locator.evaluate(_LAYOUT)
    assert m["width"] > 0 and m["height"] > 0, m
    assert m["outside"] == [], m
    assert m["notebookOverflow"] <= 1, m
    assert all(0 < h <= 40 for h in m["rowHeights"]), m["rowHeights"]
    cut = [text for text in m["cut"] if not text.startswith(tuple(cut_ok))]
    assert cut == [], m
    assert m["shortCut"] == [], m  # grid cells of up to 16 characters are never cut
    return m


def save_figures(name: str, figures: dict[str, Any]) -> None:
    """A test's measured figures, as ``test-artifacts/<name>.json``."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    (ARTIFACTS / f"{name}.json").write_text(json.dumps(figures, indent=2))


def distinct_colours(png: bytes, *, share: float = 0.002) -> tuple[int, float]:
    """What a chart's screenshot shows: the number of distinct strong colours (not white,
    grey or black; binned by 32 levels a channel) that each cover at least ``share`` of the
    pixels, and the share of pixels that are not white (0: a blank image)."""
    from PIL import Image

    image = Image.open(io.BytesIO(png)).convert("RGB")
    total = image.width * image.height
    counts: dict[tuple[int, int, int], int] = {}
    white = 0
    for n, (r, g, b) in image.getcolors(maxcolors=1 << 24) or []:
        if min(r, g, b) >= 245:
            white += n
        elif max(r, g, b) - min(r, g, b) >= 60:  # saturated: a colour, not a grey
            key = (r // 32, g // 32, b // 32)
            counts[key] = counts.get(key, 0) + n
    strong = sum(1 for n in counts.values() if n >= share * total)
    return strong, 1 - white / total
