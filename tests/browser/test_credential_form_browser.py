"""The credential form in a real JupyterLab at 1280×800, before and after Connect (sandbox).

A throwaway notebook shows ``explorer.login("icd")`` and an output its ``on_connect`` callback
prints into. Before Connect: the fields, the Advanced URLs (placeholders that fit their boxes),
the sandbox switch and the button are in view, inside the cell. With the sandbox off, Connect
fails (no credentials: a red message, and no request leaves the machine); switching the
sandbox back on clears that message. With the sandbox on, Connect gives a compact card (at most
four lines: who, URL, token, settings), the Release placeholder says the release the server
chose, and the session reaches Python. Screenshots go to ``test-artifacts/``.
"""

from __future__ import annotations

import pytest

from ._lab import layout, output_of, save_figures, shot, wait_output

pytestmark = [pytest.mark.browser, pytest.mark.timeout(120)]

CELLS = [
    '''\
import ipywidgets as w
import explorer

log = w.Output()
form = explorer.login("icd", on_connect=lambda s: log.append_stdout(
    f"CONNECTED {s.provider} {s.deployment} release {s.release}\\n"))''',
    "log",
]

# Visible text inputs whose placeholder is wider than the room inside the box.
CUT_PLACEHOLDERS = """(form) => {
  const ctx = document.createElement('canvas').getContext('2d');
  return [...form.querySelectorAll('input[placeholder]')]
    .filter((e) => e.offsetWidth > 0 && e.placeholder)
    .map((e) => {
      const css = getComputedStyle(e);
      ctx.font = css.font;
      const room = e.clientWidth - parseFloat(css.paddingLeft) - parseFloat(css.paddingRight);
      return [e.placeholder, Math.ceil(ctx.measureText(e.placeholder).width), Math.floor(room)];
    })
    .filter(([, need, room]) => need > room);
}"""


def _input(form, label: str):
    """The input of the ipywidgets text field labelled ``label``."""
    return form.locator(".widget-inline-hbox", has=form.page.locator(
        f"label:text-is('{label}')")).locator("input, select").first


def test_credential_form_before_and_after_connect(page, notebook):
    figures: dict[str, object] = {}
    try:
        notebook("form.ipynb", CELLS)
        form = page.locator(".explorer-credential-form")
        connect = form.locator("button:has-text('Connect')")
        connect.wait_for(timeout=60_000)
        sandbox = form.locator(".widget-checkbox input[type=checkbox]")

        # -- before Connect: the fields, the switch, the button -----------------------------------
        assert sandbox.is_checked()  # no credentials in the environment: the sandbox
        form.get_by_text("Using the embedded sandbox").wait_for()
        for label in ("Client id", "Client secret", "Release", "Language"):
            assert _input(form, label).is_visible(), label
        assert _input(form, "Client secret").get_attribute("type") == "password"
        assert _input(form, "Client id").get_attribute("placeholder") == "or set ICD_CLIENT_ID"
        assert _input(form, "Release").get_attribute("placeholder") == "latest"
        assert connect.is_visible() and connect.is_enabled()
        figures["before"] = layout(output_of(form))
        shot(output_of(form), "readme/credential-form")
        # the Advanced URLs: the defaults as placeholders, none cut
        form.locator(".lm-TabBar-tab, .jupyter-widget-Collapse-header",
                     has_text="Advanced").first.click()
        token_url = _input(form, "Token URL")
        token_url.wait_for()
        assert "icdaccessmanagement.who.int" in token_url.get_attribute("placeholder")
        assert form.evaluate(CUT_PLACEHOLDERS) == []
        figures["advanced"] = layout(output_of(form))
        shot(output_of(form), "credential-form-1-advanced")

        # -- the real service without credentials: a red message; the sandbox again clears it --
        sandbox.uncheck()
        form.get_by_text("Using the real service").wait_for()
        connect.click()
        error = form.locator(".explorer-error")
        error.wait_for()
        assert "missing client_id, client_secret" in error.inner_text()
        shot(output_of(form), "credential-form-2-failed")
        sandbox.check()
        form.get_by_text("Using the embedded sandbox").wait_for()
        error.wait_for(state="detached")

        # -- Connect on the sandbox: the compact card, the live placeholder, Python told -------
        connect.click()
        card = form.locator(".explorer-connected", has_text="expires in")
        card.wait_for()
        rows = card.locator(".explorer-connected-row").all_inner_texts()
        figures["card"] = rows
        assert 3 <= len(rows) <= 4, rows
        assert rows[0] == "✓ Connected to WHO ICD API [sandbox]", rows
        assert rows[1].startswith("http://127.0.0.1:") and rows[1].endswith("/id.who.int")
        assert "expires in" in rows[2] and "scope icdapi_access" in rows[2], rows
        assert "release 2025-01" in rows[3], rows
        assert "".join(rows).count("expires") == 1  # the token said once
        assert _input(form, "Release").get_attribute("placeholder") == "latest: 2025-01"
        assert form.locator(".explorer-error").count() == 0
        wait_output(page, "CONNECTED icd sandbox release 2025-01")
        form.locator(".lm-TabBar-tab, .jupyter-widget-Collapse-header",
                     has_text="Advanced").first.click()  # closed again, as a user leaves it
        token_url.wait_for(state="hidden")
        figures["connected"] = layout(output_of(form))
        shot(output_of(form), "readme/credential-form-connected")
    finally:
        save_figures("credential-form-browser", figures)
