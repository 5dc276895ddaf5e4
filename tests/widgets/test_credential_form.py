"""CredentialForm driven the way a user does: set ``.value``, click, read what is shown."""

from __future__ import annotations

import _thread
import json
import re
import socket
import threading
import time
import uuid

import ipywidgets as w
import pytest
from ipywidgets.embed import embed_data

import explorer
from explorer.errors import AuthenticationError, ConfigurationError
from explorer.widgets import CredentialForm, login
from explorer.widgets._util import all_widgets
from explorer.widgets.credential_form import placeholder_url

from .conftest import assert_no_secret, widget_state


def _tokens(session) -> list[str]:
    token = session.flow.current
    return [token.access_token, token.refresh_token]


# -- fields from the profile ----------------------------------------------------------------
@pytest.mark.parametrize(("api", "secrets", "texts", "extra"), [
    ("icd", ["client_secret"], ["client_id", "release"], ["language"]),
    ("itcare", ["client_secret"], ["client_id"], []),
    ("gopacs", ["client_secret", "api_key"], ["client_id"], ["environment"]),
    ("jindexe", ["password", "api_key"], ["username", "base_url"], []),
])
def test_fields_follow_the_profile(api, secrets, texts, extra):
    form = CredentialForm(api, env={}, live=False)
    for key in secrets:
        assert isinstance(form.inputs[key], w.Password), key
    for key in texts:
        assert type(form.inputs[key]) is w.Text, key
    for key in extra:
        assert key in form.inputs
    assert isinstance(form.inputs["use_sandbox"], w.Checkbox | w.ToggleButton)
    assert isinstance(form.connect_button, w.Button)
    assert isinstance(form.advanced, w.Accordion)
    assert form.session is None and form.error is None
    # every widget in inputs is displayed by the form
    shown = all_widgets(form)
    assert all(any(x is widget for x in shown) for widget in form.inputs.values())


def test_advanced_section_holds_the_urls():
    form = CredentialForm("icd", env={}, live=False)
    inner = form.advanced.children[0].children
    assert form.inputs["base_url"] in inner and form.inputs["token_url"] in inner
    assert "https://id.who.int" in form.inputs["base_url"].placeholder
    gopacs = CredentialForm("gopacs", env={}, live=False)
    assert {"idcons_url", "reporting_url", "token_url"} <= set(gopacs.inputs)
    assert gopacs.inputs["environment"].options == ("acceptance", "production")


def test_sandbox_is_the_default_without_credentials():
    form = CredentialForm("icd", env={}, live=False)
    assert form.inputs["use_sandbox"].value is True
    assert "sandbox" in form.mode.value.lower()
    assert form.inputs["client_secret"].disabled  # nothing to type in sandbox mode


def test_prefilled_from_env_but_never_a_secret():
    env = {"ICD_CLIENT_ID": "my-client-id", "ICD_CLIENT_SECRET": "very-secret-value-123"}
    form = CredentialForm("icd", env=env, live=False)
    assert form.inputs["use_sandbox"].value is False
    assert "real service" in form.mode.value and "https://id.who.int" in form.mode.value
    assert form.inputs["client_id"].value == "my-client-id"
    assert form.inputs["client_secret"].value == ""
    assert form.inputs["client_secret"].placeholder == "set in ICD_CLIENT_SECRET"
    assert_no_secret(form, "very-secret-value-123")
    form.inputs["use_sandbox"].value = True
    assert "sandbox" in form.mode.value.lower()


def test_gopacs_environment_from_env():
    form = CredentialForm("gopacs", env={"GOPACS_ENVIRONMENT": "acceptance"}, live=False)
    assert form.inputs["environment"].value == "acceptance"
    assert form.inputs["use_sandbox"].value is True  # no credential set


# -- connecting -----------------------------------------------------------------------------
def test_connect_to_the_sandbox_requests_a_token_and_shows_the_status(sb):
    seen = []
    form = CredentialForm("icd", sandbox=sb, on_connect=seen.append, live=False)
    before = sb.token_requests()
    form.connect_button.click()
    assert form.error is None, form.message.value
    session = form.session
    assert session.provider == "icd" and session.deployment == "sandbox"
    assert session.base_url.startswith(sb.url)
    assert sb.token_requests() == before + 1          # authenticated right away
    assert seen == [session]
    status = form.status.value
    for text in ("WHO ICD API", "sandbox", session.base_url, "icdapi_access", "expires in"):
        assert text in status
    # a compact card: four short rows at most, the token's information once
    rows = _card_rows(form)
    assert rows[0] == "✓ Connected to WHO ICD API [sandbox]" and rows[1] == session.base_url
    assert len(rows) <= 4 and all(len(r) <= 70 for r in rows if r != session.base_url), rows
    text = "\n".join(rows)
    assert text.count("icdapi_access") == 1 and text.count("expires in") == 1
    assert "explorer-card" not in status               # no session and token tables
    assert_no_secret(form, *_tokens(session), sb.credentials("icd")["client_secret"])
    assert "connected" in repr(form).lower()


def _card_rows(form: CredentialForm) -> list[str]:
    """The text of each row of the connected card, as shown."""
    rows = re.findall(r"<div class='explorer-connected-row'[^>]*>(.*?)</div>", form.status.value)
    return [re.sub(r"<[^>]+>", "", r).replace("&amp;", "&") for r in rows]


@pytest.mark.parametrize("api", ["icd", "itcare", "gopacs", "jindexe"])
def test_the_connected_card_is_compact(sb, api):
    form = CredentialForm(api, sandbox=sb, live=False)
    form.connect_button.click()
    assert form.error is None, form.message.value
    rows = _card_rows(form)
    assert 3 <= len(rows) <= 4, rows
    token = form.session.flow.current
    assert rows[2].startswith(f"{token.token_type} token · expires in ")
    if token.scope:
        assert rows[2].endswith(f" · scope {token.scope}")
    assert sum("expires in" in r for r in rows) == 1


def test_the_release_placeholder_comes_from_the_server(sb):
    form = CredentialForm("icd", sandbox=sb, live=False)
    release = form.inputs["release"]
    declared = release.placeholder
    assert not re.search(r"\d{4}-\d\d", declared)   # no release written into the form
    form.connect_button.click()
    assert form.error is None, form.message.value
    releases = form.session.releases()
    latest = releases.loc[releases["latest"], "release"].iloc[0]
    assert release.placeholder == f"{declared}: {latest}" and release.value == ""
    assert f"release {latest}" in _card_rows(form)[3]
    # a release chosen by the user is what the card says; the placeholder stays as it was
    older = releases["release"].iloc[-1]
    release.value = older
    form.connect_button.click()
    assert form.session.release == older and f"release {older}" in _card_rows(form)[3]


def test_a_stale_error_goes_when_the_sandbox_is_switched_on(sb):
    creds = sb.credentials("icd")
    form = CredentialForm("icd", sandbox=sb, env={}, live=False)
    form.inputs["use_sandbox"].value = False
    form.inputs["client_id"].value = creds["client_id"]
    form.inputs["client_secret"].value = "wrong-secret-value"
    form.inputs["token_url"].value = creds["token_url"]
    form.connect_button.click()
    assert isinstance(form.error, AuthenticationError) and "explorer-error" in form.message.value
    form.inputs["use_sandbox"].value = True
    assert form.message.value == ""                 # the red error is gone at once
    form.connect_button.click()
    assert form.error is None and form.session is not None and form.message.value == ""


def test_a_stale_error_goes_when_a_field_changes():
    form = CredentialForm("itcare", env={}, live=False)
    form.inputs["use_sandbox"].value = False
    form.connect_button.click()
    assert isinstance(form.error, ConfigurationError) and "ITCARE_CLIENT_ID" in form.message.value
    form.inputs["client_id"].value = "someone"
    assert form.message.value == ""


@pytest.mark.parametrize("api", ["icd", "itcare", "gopacs", "jindexe"])
def test_url_placeholders_fit_and_the_tooltip_has_the_whole_url(api):
    form = CredentialForm(api, env={}, live=False)
    urls = {"token_url": f"<base URL>{form.provider.token_path}",
            **form.provider.environment_urls(form._environment_name())}
    inner = form.advanced.children[0].children
    for widget in inner:
        if not isinstance(widget, w.Text):
            continue
        key = next(k for k, x in form.inputs.items() if x is widget)
        assert len(widget.placeholder) <= 58, widget.placeholder
        assert widget.tooltip == f"default: {urls[key]}"
        host = urls[key].partition("://")[2].split("/")[0]
        assert host in widget.placeholder               # it still says which server
        assert widget.layout.width == "100%"            # as wide as the cell allows


def test_url_placeholders_follow_the_environment():
    form = CredentialForm("gopacs", env={}, live=False)
    token_url = form.inputs["token_url"]
    form.inputs["environment"].value = "acceptance"
    assert "auth.acc.gopacs-services.eu" in token_url.placeholder
    assert token_url.tooltip.endswith("auth.acc.gopacs-services.eu/realms/gopacs/protocol/"
                                      "openid-connect/token")
    form.inputs["environment"].value = "production"
    assert token_url.placeholder == "default: auth.gopacs-services.eu/…/openid-connect/token"
    assert placeholder_url("") == ""


def test_release_and_language_reach_the_session(sb):
    form = CredentialForm("icd", sandbox=sb, live=False)
    form.inputs["release"].value = "2024-01"
    form.inputs["language"].value = "fr"
    form.connect_button.click()
    assert form.error is None, form.message.value
    status = form.session.status()  # no request: the sandbox serves English only
    assert status["release"] == "2024-01" and status["language"] == "fr"


def test_gopacs_environment_reaches_the_session(sb):
    form = CredentialForm("gopacs", sandbox=sb, live=False)
    form.inputs["environment"].value = "production"
    form.connect_button.click()
    assert form.error is None, form.message.value
    assert form.session.environment == "production"
    assert "/api.gopacs-services.eu" in form.session.base_url
    assert form.session.token.scope


def test_jindexe_password_grant(sb):
    form = CredentialForm("jindexe", sandbox=sb, live=False)
    form.connect_button.click()
    assert form.error is None, form.message.value
    assert "expires in" in form.status.value
    creds = sb.credentials("jindexe")
    assert_no_secret(form, creds["password"], creds["api_key"], *_tokens(form.session))


def test_real_mode_reads_the_secret_from_the_environment(sb, monkeypatch):
    creds = sb.credentials("itcare")
    monkeypatch.setenv("ITCARE_CLIENT_ID", creds["client_id"])
    monkeypatch.setenv("ITCARE_CLIENT_SECRET", creds["client_secret"])
    form = CredentialForm("itcare", live=False)
    assert form.inputs["use_sandbox"].value is False
    assert form.inputs["client_secret"].placeholder == "set in ITCARE_CLIENT_SECRET"
    form.inputs["base_url"].value = creds["base_url"]
    form.inputs["token_url"].value = creds["token_url"]
    assert "client_secret" not in form.connect_arguments()
    form.connect_button.click()
    assert form.error is None, form.message.value
    # connect() names the deployment by its URL: this "real" one is a running sandbox
    assert form.session.deployment in ("real", "sandbox", "custom")
    assert form.session.token.scope
    assert form.session.base_url == creds["base_url"]
    assert_no_secret(form, creds["client_secret"], *_tokens(form.session))


def test_failure_shows_the_server_words_and_the_form_stays_usable(sb):
    creds = sb.credentials("icd")
    form = CredentialForm("icd", env={}, live=False)
    form.inputs["use_sandbox"].value = False
    assert not form.inputs["client_secret"].disabled
    form.inputs["client_id"].value = creds["client_id"]
    form.inputs["client_secret"].value = "wrong-secret-value"
    form.inputs["base_url"].value = creds["base_url"]
    form.inputs["token_url"].value = creds["token_url"]
    form.connect_button.click()
    assert isinstance(form.error, AuthenticationError)
    assert form.session is None
    shown = form.message.value
    assert "invalid_client" in shown and "[icd]" in shown and "What to do" in shown
    assert "wrong-secret-value" not in shown
    assert not form.connect_button.disabled
    # fix the secret, connect again: it works, the message goes, the secret field is cleared
    form.inputs["client_secret"].value = creds["client_secret"]
    form.connect_button.click()
    assert form.error is None and form.session is not None
    assert form.message.value == ""
    assert form.inputs["client_secret"].value == ""
    assert_no_secret(form, creds["client_secret"], *_tokens(form.session))


def test_missing_settings_are_named():
    form = CredentialForm("icd", env={}, live=False)
    form.inputs["use_sandbox"].value = False
    form.connect_button.click()
    assert isinstance(form.error, ConfigurationError)
    assert "ICD_CLIENT_ID" in form.message.value
    assert form.status.value == ""


def test_unknown_api():
    with pytest.raises(ConfigurationError):
        CredentialForm("nope")


# -- expiry ---------------------------------------------------------------------------------
def test_refresh_status_counts_down_and_shows_expiry():
    with explorer.sandbox.start(token_lifetime=2) as box:
        form = CredentialForm("itcare", sandbox=box, live=False)
        form.connect_button.click()
        assert form.error is None, form.message.value
        assert "expires in 2 s" in form.status_text()
        time.sleep(2.2)
        form.refresh_status()
        assert "expired" in form.status_text()
        assert "expired" in form.status.value
        # the session renews on its own on the next call
        form.session.get("/compute/environments")
        form.refresh_status()
        assert "expires in" in form.status_text()


def test_live_timer_updates_the_status(sb):
    form = CredentialForm("icd", sandbox=sb, live=True, interval=0.05)
    form.connect_button.click()
    try:
        form.status.value = "stale"
        deadline = time.time() + 3
        while form.status.value == "stale" and time.time() < deadline:
            time.sleep(0.02)
        assert "expires in" in form.status.value
    finally:
        form.close()
    assert not form._timer.is_alive()


# -- login ----------------------------------------------------------------------------------
def test_login_displays_and_returns_the_form(monkeypatch):
    shown = []
    monkeypatch.setattr("IPython.display.display", lambda obj: shown.append(obj))
    form = explorer.login("gopacs", live=False)
    assert isinstance(form, CredentialForm) and shown == [form]
    assert login is explorer.widgets.login


def test_state_never_holds_tokens_after_several_connects(sb):
    form = CredentialForm("gopacs", sandbox=sb, live=False)
    for env in ("acceptance", "production"):
        form.inputs["environment"].value = env
        form.connect_button.click()
        assert form.error is None
    state = widget_state(form)
    assert "eyJ" not in state
    assert_no_secret(form, *_tokens(form.session), sb.credentials("gopacs")["client_secret"],
                     sb.credentials("gopacs")["api_key"])


# -- no secret in synced or saved state, whatever the outcome (issue item 12) ------------------
def _saved_state(form: CredentialForm) -> str:
    """What a notebook saves with its widget state, rendered by ipywidgets' own embedder: the
    state of every widget of the kernel and the form's view."""
    return json.dumps(embed_data(views=[form]), default=str)


def _fill(form: CredentialForm, creds: dict, *, wrong: bool) -> dict[str, str]:
    """Type the real-service fields as a user would; secrets typed are returned by name (made
    wrong, and unique to this call, when ``wrong``)."""
    form.inputs["use_sandbox"].value = False
    typed = {}
    for key, widget in form.inputs.items():
        value = creds.get(key)
        if key == "use_sandbox" or not isinstance(value, str) or isinstance(widget, w.Dropdown):
            continue
        if key in form.provider.secrets:
            value = f"typed-{key}-{uuid.uuid4().hex}" if wrong else value
            typed[key] = value
        widget.value = value
    return typed


def _plain_values(form: CredentialForm) -> dict[str, object]:
    return {k: x.value for k, x in form.inputs.items() if k not in form.provider.secrets}


def assert_secrets_gone(form: CredentialForm, *secrets: str) -> None:
    """No secret in the synced state of any widget below the form, nor in the saved state."""
    assert_no_secret(form, *secrets)
    saved = _saved_state(form)
    leaked = sum(secret in saved for secret in secrets)
    assert leaked == 0, f"{leaked} secret(s) in the saved widget state"
    assert [key for key in form.provider.secrets if form.inputs[key].value] == []


@pytest.mark.parametrize("api", ["icd", "itcare", "gopacs", "jindexe"])
def test_a_refused_connect_leaves_no_secret_in_the_state(sb, api):
    form = CredentialForm(api, env={}, live=False)
    typed = _fill(form, sb.credentials(api), wrong=True)
    synced, saved = widget_state(form), _saved_state(form)  # typed: synced and saved, as in
    assert all(s in synced and s in saved for s in typed.values())  # Jupyter, until Connect
    before = _plain_values(form)
    form.connect_button.click()
    assert isinstance(form.error, AuthenticationError), form.message.value
    assert_secrets_gone(form, *typed.values())
    assert _plain_values(form) == before  # ids, user names and URLs stay
    assert "type them again" in form.message.value


def test_an_unreachable_token_server_leaves_no_secret_in_the_state(sb):
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        closed = probe.getsockname()[1]
    creds = {**sb.credentials("itcare"),
             "token_url": f"http://127.0.0.1:{closed}/auth/realms/cloud/protocol/openid-connect/"
                          "token"}
    form = CredentialForm("itcare", env={}, live=False, retries=0)
    typed = _fill(form, creds, wrong=False)
    form.connect_button.click()
    assert form.error is not None and form.session is None
    assert_secrets_gone(form, *typed.values())
    assert form.inputs["token_url"].value == creds["token_url"]


def test_a_bad_setting_leaves_no_secret_in_the_state(sb):
    form = CredentialForm("icd", env={}, live=False)
    typed = _fill(form, sb.credentials("icd"), wrong=False)
    form.inputs["base_url"].value = "ftp://id.who.int"  # refused before any request
    form.connect_button.click()
    assert isinstance(form.error, ConfigurationError)
    assert_secrets_gone(form, *typed.values())
    assert form.inputs["base_url"].value == "ftp://id.who.int"


def test_a_successful_connect_leaves_no_secret_in_the_state(sb):
    form = CredentialForm("gopacs", env={}, live=False)
    typed = _fill(form, sb.credentials("gopacs"), wrong=False)
    form.connect_button.click()
    assert form.error is None and form.session is not None, form.message.value
    assert_secrets_gone(form, *typed.values(), *_tokens(form.session))
    assert "type them again" not in form.message.value


def test_a_failing_callback_leaves_no_secret_in_the_state(sb):
    def broken(session):
        raise RuntimeError("the notebook's own code failed")

    form = CredentialForm("itcare", env={}, live=False, on_connect=broken)
    typed = _fill(form, sb.credentials("itcare"), wrong=False)
    form.connect_button.click()
    assert form.session is not None and "RuntimeError" in form.message.value
    assert_secrets_gone(form, *typed.values(), *_tokens(form.session))


def test_an_interrupted_connect_leaves_no_secret_in_the_state():
    """The user stops the kernel while the token request is on its way."""
    with explorer.sandbox.start(latency=1.5) as slow:
        form = CredentialForm("itcare", env={}, live=False)
        typed = _fill(form, slow.credentials("itcare"), wrong=False)
        timer = threading.Timer(0.3, _thread.interrupt_main)
        timer.start()
        try:
            with pytest.raises(KeyboardInterrupt):
                form.connect_button.click()
        finally:
            timer.cancel()
        assert_secrets_gone(form, *typed.values())


def test_secrets_typed_then_sandbox_chosen_leave_no_trace(sb):
    form = CredentialForm("jindexe", sandbox=sb, env={}, live=False)
    typed = _fill(form, sb.credentials("jindexe"), wrong=True)
    form.inputs["use_sandbox"].value = True
    form.connect_button.click()
    assert form.error is None, form.message.value
    assert_secrets_gone(form, *typed.values())
