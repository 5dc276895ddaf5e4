"""CodingTool without a browser: what it syncs, what it answers to the frontend's messages
(the ECT's files, tokens, picks), and that no token is ever in its state, its embedded state or
a saved notebook."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest
from ipywidgets.embed import embed_data

import explorer
from explorer.widgets import CodingTool, CredentialForm
from explorer.widgets.coding_tool import ECT_DIR, SELECTION_COLUMNS, ect_assets

from .conftest import assert_no_secret

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def icd(sb):
    session = explorer.connect("icd", sandbox=True, cache=False, progress=False,
                               **sb.credentials("icd"))
    yield session
    session.close()


class Frontend:
    """Stands in for the browser: sends what coding_tool.js sends, keeps what the kernel
    answers."""

    def __init__(self, tool: CodingTool) -> None:
        self.tool = tool
        self.got: list[tuple[dict, list[bytes]]] = []
        tool.send = lambda content, buffers=None: self.got.append(  # type: ignore[method-assign]
            (content, [bytes(b) for b in buffers or []]))

    def ask(self, content: dict) -> tuple[dict, list[bytes]]:
        self.tool._on_msg(self.tool, content, [])
        return self.got[-1]


def _state(tool: CodingTool) -> str:
    return json.dumps(tool.get_state(), default=str)


def test_the_tool_is_pointed_at_the_session(icd):
    tool = CodingTool(icd)
    assert tool.api_server_url == icd.base_url and tool.api_secured is True
    assert tool.language == "en" and tool.release == icd.release == "2025-01"
    assert "sandbox" in tool.caption and icd.base_url in tool.caption
    assert repr(tool).startswith("<CodingTool http://127.0.0.1:")
    # the ECT itself is not in the synced state: only our small frontend
    state = tool.get_state()
    assert len(_state(tool)) < 60_000 and "ECT.Handler" in state["_esm"]
    assert "apiServerUrl" not in state["settings"]


def test_the_ects_files_come_from_the_kernel_in_buffers(icd):
    front = Frontend(CodingTool(icd))
    content, buffers = front.ask({"event": "assets"})
    assert content == {"event": "assets", "version": "1.8.0"}
    js, css = buffers
    assert js == (ECT_DIR / "index.js").read_bytes() and len(js) == 751_818
    assert css == (ECT_DIR / "style.css").read_bytes()
    assert ect_assets() == (js, css)
    # WHO's licence ships beside them, and the package ships the folder
    assert (ECT_DIR / "license.pdf").stat().st_size == 183_834
    assert '"_vendor/**/*"' in (ROOT / "pyproject.toml").read_text()


def test_a_token_request_is_answered_by_message_never_in_state(icd):
    tool = CodingTool(icd)
    front = Frontend(tool)
    content, _ = front.ask({"event": "token", "id": 7})
    token = icd.flow.current.access_token
    assert content == {"event": "token", "id": 7, "token": token}
    assert token.startswith("eyJ") and tool.tokens_given == 1
    assert token not in _state(tool)
    assert_no_secret(tool, token)
    embedded = json.dumps(embed_data(views=[tool]), default=str)
    assert token not in embedded and icd.base_url in embedded
    # malformed requests get nothing
    before = len(front.got)
    for bad in ({"event": "token"}, {"event": "token", "id": "7"}, {"event": "token", "id": True},
                {"event": "nope"}, ["token"]):
        tool._on_msg(tool, bad, [])
    assert len(front.got) == before


def test_an_expired_token_is_renewed_by_the_session(icd):
    front = Frontend(CodingTool(icd))
    first = front.ask({"event": "token", "id": 1})[0]["token"]
    icd.flow.current.expires_at = time.time() - 1          # it expired
    second = front.ask({"event": "token", "id": 2})[0]["token"]
    assert second != first and second == icd.flow.current.access_token
    assert icd.flow.current.expires_in > 0


def test_a_token_close_to_the_ects_margin_is_renewed(icd):
    front = Frontend(CodingTool(icd))
    token = icd.flow.token()
    if token.lifetime <= 2 * 330:
        pytest.skip(f"the sandbox's tokens last {token.lifetime:.0f} s: too short to test")
    token.expires_at = time.time() + 120  # valid for the session, not for the ECT's 300 s
    fresh = front.ask({"event": "token", "id": 1})[0]["token"]
    assert fresh != token.access_token and icd.flow.current.expires_in > 300


def test_a_failed_token_request_says_why_without_secrets(sb, icd, monkeypatch):
    tool = CodingTool(icd)
    front = Frontend(tool)
    secret = sb.credentials("icd")["client_secret"]

    def refuse():
        raise explorer.AuthenticationError(f"refused for {secret}", provider="icd")

    monkeypatch.setattr(icd.flow, "token", refuse)
    content, _ = front.ask({"event": "token", "id": 3})
    assert content["id"] == 3 and "token" not in content
    assert "refused" in content["error"] and secret not in content["error"]


def test_no_auth_container_mount_is_not_secured(sb):
    container = explorer.connect("icd", cache=False, progress=False,
                                 **sb.credentials("icd", auth=False))
    tool = CodingTool(container)
    assert tool.api_server_url.endswith("/icd-container") and tool.api_secured is False
    content, _ = Frontend(tool).ask({"event": "token", "id": 1})
    assert "does not authenticate" in content["error"]


def test_picks_reach_python(icd):
    tool = CodingTool(icd)
    seen = []
    tool.on_select(seen.append)
    entity = {"iNo": "xct1", "code": "1A00", "title": "Cholera", "searchQuery": "cholera",
              "selectedText": "Cholera", "bestMatchText": "Cholera",
              "linearizationUri": "http://id.who.int/icd/release/11/2025-01/mms/257068234",
              "foundationUri": "http://id.who.int/icd/entity/257068234",
              "uri": "http://id.who.int/icd/release/11/2025-01/mms/257068234"}
    tool._on_msg(tool, {"event": "select", "entity": entity}, [])
    assert list(tool.selection.columns) == SELECTION_COLUMNS
    row = tool.selection.iloc[0]
    assert row["code"] == "1A00" and row["search_query"] == "cholera"
    assert row["foundation_uri"] == "http://id.who.int/icd/entity/257068234"
    assert len(seen) == 1 and seen[0]["title"] == "Cholera" and tool.last["code"] == "1A00"
    tool._on_msg(tool, {"event": "select", "entity": {**entity, "code": "8B20"}}, [])
    assert tool.selection["code"].tolist() == ["1A00", "8B20"]
    # junk is ignored: no code and no URI, not a mapping, values that are not text
    for bad in ({"event": "select", "entity": {"title": "x"}}, {"event": "select", "entity": 5},
                {"event": "select", "entity": {"code": {"$": 1}, "uri": ["x"]}}):
        tool._on_msg(tool, bad, [])
    assert len(tool.selection) == 2
    tool.send = lambda *a, **k: None  # type: ignore[method-assign]
    assert tool.clear().empty and tool.last is None


def test_search_and_clear_go_to_the_frontend(icd):
    tool = CodingTool(icd)
    front = Frontend(tool)
    tool.search("cholera")
    assert front.got[-1] == ({"event": "search", "q": "cholera"}, [])
    tool._on_msg(tool, {"event": "status", "state": "ready"}, [])
    assert tool.status == "ready"


def test_settings_are_checked(icd):
    tool = CodingTool(icd, settings={"flexisearchAvailable": False, "popupMode": False})
    assert tool.settings == {"flexisearchAvailable": False, "popupMode": False}
    with pytest.raises(ValueError, match="apiServerUrl"):
        CodingTool(icd, settings={"apiServerUrl": "https://elsewhere"})


def test_the_tool_waits_for_the_form(sb):
    form = CredentialForm("icd", sandbox=sb, live=False)
    tool = CodingTool(form)
    assert tool.api_server_url == "" and "Waiting" in tool.caption
    content, _ = Frontend(tool).ask({"event": "token", "id": 1})
    assert "not connected" in content["error"]
    form.connect_button.click()
    assert tool.session is form.session and tool.api_server_url == form.session.base_url
    assert_no_secret(tool, form.session.flow.current.access_token,
                     sb.credentials("icd")["client_secret"])


def test_refuses_icd10_and_other_apis(sb, icd):
    with pytest.raises(ValueError, match="ICD-11"):
        CodingTool(icd.icd10())
    with pytest.raises(ValueError):
        CodingTool(CredentialForm("itcare", sandbox=sb, live=False))


def test_a_saved_notebook_holds_no_token(tmp_path, monkeypatch):
    """Run a notebook that shows the tool and hands out a token, save it with its widget
    state (what nbconvert --execute does): the token is nowhere in the file."""
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(
        filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])))
    token_file = tmp_path / "token.txt"
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(
        "import explorer\n"
        "icd = explorer.connect('icd', sandbox=True, cache=False, progress=False)\n"
        "tool = explorer.widgets.CodingTool(icd)\n"
        "sent = []\n"
        "tool.send = lambda content, buffers=None: sent.append(content)\n"
        "tool._on_msg(tool, {'event': 'token', 'id': 1}, [])\n"
        f"open({str(token_file)!r}, 'w').write(sent[-1]['token'])\n"
        "tool"),
        nbformat.v4.new_code_cell("tool.api_secured, len(tool.get_state()['_esm']) > 0")]
    client = nbclient.NotebookClient(nb, timeout=120, kernel_name="python3",
                                     store_widget_state=True,
                                     resources={"metadata": {"path": str(tmp_path)}})
    client.execute()
    saved = tmp_path / "saved.ipynb"
    nbformat.write(nb, saved)
    token = token_file.read_text()
    text = saved.read_text()
    assert token.startswith("eyJ") and token not in text
    assert "application/vnd.jupyter.widget-state+json" in text and "api_server_url" in text


def test_the_quickstart_notebook_holds_no_token():
    text = (ROOT / "notebooks" / "00-quickstart.ipynb").read_text()
    assert "eyJhbGciOi" not in text and "access_token" not in text
