"""Attacks through the token answer itself.

Items of the security issue: 14 (tokens that cannot be sent: non-Latin-1 values, line breaks
for header injection, control characters) and 15 (infinite or absurd lifetimes:
``expires_in`` of ``1e999``, ``Infinity``, ``"inf"``, NaN, negative; huge JWT ``exp``). A local
token endpoint issues each hostile answer; the API beside it records what reaches it.
"""

from __future__ import annotations

import base64
import json

import pytest
from werkzeug.wrappers import Response

from explorer import AuthenticationError

from .hostile import (
    CLIENT_ID,
    CLIENT_SECRET,
    HttpServer,
    connect,
    json_answer,
    token_text,
    traceback_text,
)

TOK = "tok-0123456789"

pytestmark = pytest.mark.timeout(60)

YEAR = 366 * 86400


def token_server(answer: str) -> HttpServer:
    """``/token`` answers ``answer`` (raw JSON text: ``1e999``, ``NaN`` are kept as written);
    anything else is an API answering ``{"ok": true}``."""
    def default(request):
        if request.path == "/token":
            return Response(answer, mimetype="application/json")
        return json_answer({"ok": True})
    return HttpServer(default)


def session_on(own: HttpServer, **kwargs):
    return connect(token_url=own.url + "/token", client_id=CLIENT_ID,
                   client_secret=CLIENT_SECRET, base_url=own.url, **kwargs)


def answer_with(**fields) -> str:
    return json.dumps({"expires_in": 300, **fields}, ensure_ascii=False)


# -- item 14: tokens that cannot be sent ------------------------------------------------------
BAD_TOKENS = {
    "non-Latin-1 access_token": dict(access_token="CANARYtök€n-0123456789"),
    "non-Latin-1 token_type": dict(access_token="CANARYat-0123456789", token_type="Bearér€"),
    "CRLF in access_token": dict(access_token="CANARYat-0123\r\nX-Injected: yes"),
    "LF in access_token": dict(access_token="CANARYat-0123\nX-Injected: yes"),
    "CR in access_token": dict(access_token="CANARYat-0123\rX-Injected: yes"),
    "CRLF in token_type": dict(access_token="CANARYat-0123456789",
                               token_type="Bearer\r\nX-Injected: yes"),
    "NUL": dict(access_token="CANARYat-0123\x00456"),
    "DEL": dict(access_token="CANARYat-0123\x7f456"),
    "C1 control (NEL)": dict(access_token="CANARYat-0123\x85456"),
    "LINE SEPARATOR": dict(access_token="CANARYat-0123\u2028456"),
    "access_token a number": dict(access_token=1234567890),
    "access_token blank": dict(access_token="   "),
}


@pytest.mark.parametrize("name", list(BAD_TOKENS))
def test_a_token_that_cannot_be_sent_is_refused_without_echo(name):
    """Item 14: a token explorer cannot put in an HTTP header (non-Latin-1 letters, line
    breaks — header injection —, control characters) or no token at all: an
    AuthenticationError that echoes nothing of it, with no library exception (a
    ``UnicodeEncodeError`` whose ``.object`` holds the token) in its chain, and no request
    reaches the API."""
    with token_server(answer_with(**BAD_TOKENS[name])) as own:
        session = session_on(own)
        with pytest.raises(AuthenticationError) as caught:
            session.get("/x")
        assert own.requests("/x") == []
    text = traceback_text(caught.value)
    assert "CANARY" not in text and "Injected" not in text, text[:2000]
    assert "UnicodeEncodeError" not in text and "InvalidHeader" not in text


@pytest.fixture
def itcare_env(monkeypatch, tmp_path):
    from explorer import apis

    for name in apis.environment_variables():
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("ITCARE_CLIENT_ID", CLIENT_ID)
    monkeypatch.setenv("ITCARE_CLIENT_SECRET", CLIENT_SECRET)


@pytest.mark.parametrize("command", ["get", "token"])
@pytest.mark.parametrize("name", ["non-Latin-1 access_token", "non-Latin-1 token_type",
                                  "CRLF in access_token"])
def test_the_cli_says_so_in_one_error_and_exits_1(name, command, itcare_env, capsys):
    """Item 14: ``explorer get`` / ``explorer token`` with such a token: the error on stderr
    (no traceback, the message and its "What to do"), nothing on stdout, exit code 1."""
    from explorer.cli import main

    with token_server(answer_with(**BAD_TOKENS[name])) as own:
        argv = [command, "itcare", *(["/compute/instances"] if command == "get" else []),
                "--base-url", own.url, "--token-url", own.url + "/token"]
        code = main(argv)
    out = capsys.readouterr()
    assert code == 1
    assert out.out == ""
    lines = out.err.strip().splitlines()
    assert lines[0].startswith("error: [itcare]") and len(lines) <= 2, out.err
    assert "Traceback" not in out.err and "CANARY" not in out.err


# -- item 15: lifetimes --------------------------------------------------------------------------
def jwt(claims_text: str) -> str:
    """A JWT-shaped token whose claims are ``claims_text`` as written (``1e999`` kept)."""
    def part(raw: bytes) -> str:
        return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()
    header = part(b'{"alg": "none"}')
    return f"{header}.{part(claims_text.encode())}.c2ln"


LIFETIMES = {
    "1e999": token_text(TOK, expires_in='1e999'),
    "-1e999": token_text(TOK, expires_in='-1e999'),
    "Infinity": token_text(TOK, expires_in='Infinity'),
    "NaN": token_text(TOK, expires_in='NaN'),
    '"inf"': token_text(TOK, expires_in='"inf"'),
    '"Infinity"': token_text(TOK, expires_in='"Infinity"'),
    '"nan"': token_text(TOK, expires_in='"nan"'),
    '"1e999"': token_text(TOK, expires_in='"1e999"'),
    "1e308": token_text(TOK, expires_in='1e308'),
    "400 digits": token_text(TOK, expires_in="9" * 400),
    "negative": token_text(TOK, expires_in='-1'),
    "zero": token_text(TOK, expires_in='0'),
    "true": token_text(TOK, expires_in='true'),
    "a list": token_text(TOK, expires_in='[1e999]'),
    "refresh 1e999": token_text(TOK, expires_in="60", refresh_token='"r-0123456789"',
                                refresh_expires_in="1e999"),
    "JWT exp 1e999": json.dumps({"access_token": jwt('{"exp": 1e999}')}),
    "JWT exp -1e999": json.dumps({"access_token": jwt('{"exp": -1e999}')}),
    "JWT exp NaN": json.dumps({"access_token": jwt('{"exp": NaN}')}),
    "JWT exp 400 digits": json.dumps({"access_token": jwt('{"exp": ' + "9" * 400 + "}")}),
    "JWT exp 1e18": json.dumps({"access_token": jwt('{"exp": 1e18}')}),
    "JWT exp \"inf\"": json.dumps({"access_token": jwt('{"exp": "inf"}')}),
}


@pytest.mark.parametrize("name", list(LIFETIMES))
def test_absurd_lifetimes_are_clamped_and_everything_still_displays(name):
    """Item 15: ``expires_in`` (or ``refresh_expires_in``, or a JWT ``exp``) of ``1e999``,
    ``Infinity``, ``"inf"``, NaN, negative, 400 digits…: the token works, its lifetime is
    finite and at most a year, and ``repr``, ``str``, ``_repr_html_`` and the status of the
    token and of the session all work (they raised OverflowError)."""
    with token_server(LIFETIMES[name]) as own:
        session = session_on(own)
        token = session.token
        assert session.get("/x") == {"ok": True}
        shown = [repr(token), str(token), token._repr_html_(), repr(token.status()),
                 repr(session), session._repr_html_(), repr(session.status())]
        assert all(shown)
        assert 0 < token.expires_in <= YEAR, token.expires_in
        if token.refresh_token:
            assert token.can_refresh()
        assert session.get("/x") == {"ok": True}
        assert len(own.requests("/token")) == 1  # the token is reused, not fetched again


@pytest.mark.parametrize("name", ["1e999", "Infinity", '"inf"', "NaN", "JWT exp 1e999"])
def test_the_credential_form_connects_with_an_absurd_lifetime(name, itcare_env):
    """Item 15: the credential form's ``connect()`` with such a token: a session, no error
    message, and its status (with "expires in") renders."""
    pytest.importorskip("ipywidgets", reason="the widgets need the notebooks extra")
    from explorer.widgets import CredentialForm

    with token_server(LIFETIMES[name]) as own:
        form = CredentialForm("itcare", live=False, env={})
        form.inputs["use_sandbox"].value = False
        for key, value in {"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET,
                           "base_url": own.url, "token_url": own.url + "/token"}.items():
            form.inputs[key].value = value
        session = form.connect()
        assert session is not None, form.message.value
        assert form.message.value == ""
        form.refresh_status()
        assert "expires in" in form.status_text() and form.status.value
