"""Attacks on secrets: servers that echo what they receive, and readers of tracebacks.

Items of the security issue: 9 (encoded secrets leaking through errors: ``str(exc)``, the
CLI's stderr, the credential form), 10 (tracebacks that show locals; ``vars()`` of the
objects), 11 (exception attributes and chained contexts). Canary secrets hold ``+ / % : é " '``
so that every encoding explorer sends differs from the raw value; the checks look for every
encoding (:func:`hostile.forms`) and for the canary marker itself.
"""

from __future__ import annotations

import json
import os
import signal
import threading
import time

import pytest
from werkzeug.wrappers import Request

from explorer import ApiError, AuthenticationError, ExplorerError

from .hostile import (
    ACCESS_TOKEN,
    API_KEY,
    CLIENT_ID,
    CLIENT_SECRET,
    PASSWORD,
    REFRESH_TOKEN,
    USERNAME,
    HttpServer,
    RawServer,
    assert_clean,
    connect,
    find_secrets,
    http_response,
    jindexe,
    json_answer,
    oauth2,
    object_text,
    reverse_proxy,
    token_answer,
    token_text,
    traceback_text,
)

pytestmark = pytest.mark.timeout(60)


def echo(request: Request) -> str:
    """The request as the server received it: request line, headers, body."""
    head = "\n".join(f"{k}: {v}" for k, v in request.headers.items())
    return f"{request.method} {request.full_path}\n{head}\n\n" + request.get_data().decode(
        "utf-8", "replace")


def echoing_token_endpoint(request: Request):
    text = echo(request)
    return json_answer({"error": text, "error_description": text}, status=401)


def echoing_api(request: Request):
    text = echo(request)
    return json_answer({"message": text, "errorMessage": text, "request": text,
                        "headers": dict(request.headers), text: "as a key"}, status=400)


#: session factories: (name, how to connect to ``own``)
KINDS = {
    "basic, form-urlencoded": lambda own: oauth2(own),
    "basic, raw": lambda own: oauth2(own, basic_encoding=False),
    "client_secret_post": lambda own: oauth2(own, auth_method="client_secret_post"),
    "jindexe JSON password grant": lambda own: jindexe(own),
}
TOKEN_PATHS = ("/token", "/public/token")


def server(*, token_echo: bool) -> HttpServer:
    def default(request):
        if request.path in TOKEN_PATHS:
            if token_echo:
                return echoing_token_endpoint(request)
            return token_answer(refresh_token=REFRESH_TOKEN)(request)
        return echoing_api(request)
    return HttpServer(default)


# -- item 9: echoed secrets, in every encoding ------------------------------------------------
@pytest.mark.parametrize("kind", list(KINDS))
def test_a_token_endpoint_echoing_the_request_leaks_nothing(kind):
    """Item 9: the token endpoint refuses, quoting the whole request (the Basic header, the
    form body ``client_secret=CANARY%2B…``, Jindexe's JSON password and ``X-API-KEY``) in its
    ``error`` and ``error_description``: nothing of it reaches ``str(exc)``, ``repr``, the
    attributes or the traceback."""
    with server(token_echo=True) as own:
        session = KINDS[kind](own)
        with pytest.raises(AuthenticationError) as caught:
            session.get("/user/me")
        assert find_secrets(own.text())  # the secrets were sent, and echoed
        assert_clean(traceback_text(caught.value), f"the token error ({kind})")


@pytest.mark.parametrize("kind", list(KINDS))
def test_an_api_echoing_the_request_leaks_nothing(kind):
    """Item 9: the API answers 400 quoting the request (bearer, ``X-API-KEY``), as the
    message, as a field and as a key: ``str(exc)``, ``exc.body`` and the traceback hold none."""
    with server(token_echo=False) as own:
        session = KINDS[kind](own)
        with pytest.raises(ApiError) as caught:
            session.get("/user/me", q="x")
        assert ACCESS_TOKEN in own.text()
        assert_clean(traceback_text(caught.value), f"the API error ({kind})")


CLI_CASES = {
    "itcare": (["get", "itcare", "/compute/instances"],
               {"ITCARE_CLIENT_ID": CLIENT_ID, "ITCARE_CLIENT_SECRET": CLIENT_SECRET}),
    "gopacs": (["get", "gopacs", "/x"],
               {"GOPACS_CLIENT_ID": CLIENT_ID, "GOPACS_CLIENT_SECRET": CLIENT_SECRET,
                "GOPACS_API_KEY": API_KEY}),
    "jindexe": (["get", "jindexe", "/user/me"],
                {"JINDEXE_API_KEY": API_KEY, "JINDEXE_USERNAME": USERNAME,
                 "JINDEXE_PASSWORD": PASSWORD}),
}


@pytest.fixture
def no_credentials_around(monkeypatch, tmp_path):
    from explorer import apis

    for name in apis.environment_variables():
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)  # no ./.env
    return monkeypatch


@pytest.mark.parametrize("token_echo", [True, False], ids=["token endpoint", "API"])
@pytest.mark.parametrize("api", list(CLI_CASES))
def test_the_cli_prints_no_echoed_secret(api, token_echo, no_credentials_around, capsys):
    """Item 9: ``explorer get <api> …`` against an echoing token endpoint or API: the error
    line on stderr holds no secret in any encoding, and the exit code is 1."""
    from explorer.cli import main

    argv, env = CLI_CASES[api]
    for name, value in env.items():
        no_credentials_around.setenv(name, value)
    with server(token_echo=token_echo) as own:
        token_path = "/public/token" if api == "jindexe" else "/token"
        code = main([*argv, "--base-url", own.url, "--token-url", own.url + token_path])
        out = capsys.readouterr()
        assert find_secrets(own.text())
    assert code == 1
    assert out.err.startswith("error:") and "Traceback" not in out.err
    assert_clean(out.out + out.err, f"explorer get {api}")


FORMS = {
    "itcare": {"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET},
    "jindexe": {"api_key": API_KEY, "username": USERNAME, "password": PASSWORD},
}


@pytest.mark.parametrize("token_echo", [True, False], ids=["token endpoint", "API"])
@pytest.mark.parametrize("api", list(FORMS))
def test_the_credential_form_shows_no_echoed_secret(api, token_echo, no_credentials_around):
    """Item 9: the credential form connecting to an echoing token endpoint (or, once
    connected, its first call to an echoing API): ``form.message.value`` holds no secret."""
    pytest.importorskip("ipywidgets", reason="the widgets need the notebooks extra")
    from explorer.widgets import CredentialForm

    with server(token_echo=token_echo) as own:
        form = CredentialForm(api, live=False, env={})
        form.inputs["use_sandbox"].value = False
        for key, value in {**FORMS[api], "base_url": own.url,
                           "token_url": own.url + ("/public/token" if api == "jindexe"
                                                   else "/token")}.items():
            form.inputs[key].value = value
        session = form.connect()
        if token_echo:
            assert session is None and form.message.value
        else:
            assert session is not None
            with pytest.raises(ApiError) as caught:
                session.get("/user/me")
            from explorer.widgets._util import error_html

            form.message.value = error_html(caught.value, session.redact)
        assert find_secrets(own.text())
        assert_clean(form.message.value + form.status.value, f"the {api} form")


# -- item 10: tracebacks with locals, vars() ---------------------------------------------------
def dropping(token_ok: bool):
    """A server that answers the token request (or not) and drops every other connection."""
    def handler(conn):
        if conn.path in TOKEN_PATHS and token_ok:
            body = token_text(refresh_token=json.dumps(REFRESH_TOKEN), expires_in="300")
            conn.send(http_response(200, body.encode(), [("Content-Type", "application/json")]))
        # anything else: the connection closes without an answer
    return RawServer(handler)


@pytest.mark.parametrize("where", ["API", "token endpoint"])
@pytest.mark.parametrize("kind", list(KINDS))
def test_a_dropped_connection_leaves_no_secret_in_traceback_locals(kind, where):
    """Item 10: the connection drops during the API call (bearer, ``X-API-KEY`` on the
    request) or the token request (Basic value, ``client_secret``, Jindexe's password): the
    traceback formatted with ``capture_locals=True`` and every frame's ``f_locals`` hold
    none, through the whole ``__cause__``/``__context__`` chain."""
    with dropping(token_ok=where == "API") as own:
        session = KINDS[kind](own)
        with pytest.raises(ExplorerError) as caught:
            session.get("/user/me")
        assert find_secrets(own.received.decode("latin-1"))
        assert_clean(traceback_text(caught.value), f"the traceback ({kind}, {where})")


def unusable_token(request: Request):
    """A token answer explorer must refuse, holding a canary (and the echoed request)."""
    return json_answer({"access_token": ACCESS_TOKEN + "\r\nX-Injected: 1",
                        "refresh_token": REFRESH_TOKEN, "echo": echo(request)})


@pytest.mark.parametrize("answer", [echoing_token_endpoint, unusable_token],
                         ids=["echoing refusal", "unusable token"])
@pytest.mark.parametrize("kind", list(KINDS))
def test_a_direct_token_request_leaves_no_secret_in_its_frames(kind, answer):
    """Item 10: ``TokenEndpoint.request(grant.params())`` called directly — not through the
    token flow, which re-raises a copy without frames — against a refusal quoting the request,
    or an answer whose token explorer must refuse: the frames of ``request`` and what it calls
    show masked headers, body and grant, never the Basic value, ``client_secret``, the
    password nor the token."""
    with HttpServer(answer) as own:
        session = KINDS[kind](own)
        endpoint = session.flow.endpoint
        with pytest.raises(AuthenticationError) as caught:
            endpoint.request(session.flow.grant.params())
        assert find_secrets(own.text())
    assert_clean(traceback_text(caught.value), f"the frames of TokenEndpoint.request ({kind})")


class Interrupted(KeyboardInterrupt):
    """What a notebook user's "interrupt" raises in the middle of a request."""


@pytest.mark.parametrize("where", ["API", "token endpoint", "direct token request"])
@pytest.mark.parametrize("kind", ["basic, raw", "client_secret_post",
                                  "jindexe JSON password grant"])
def test_an_interrupted_request_leaves_no_secret_in_any_frame(kind, where):
    """Item 10: the user interrupts a request the server holds (``KeyboardInterrupt``, as
    Jupyter's interrupt button raises it, here from a signal while the client waits for the
    answer): every frame of the traceback — requests', urllib3's and http.client's too —
    shows masked headers and bodies, never the bearer, the API key, the client secret or the
    password (``%xmode Verbose`` prints them all)."""
    received = threading.Event()

    def holding(conn):
        if conn.path in TOKEN_PATHS and where == "API":
            conn.send(http_response(200, token_text(expires_in="300").encode(),
                                    [("Content-Type", "application/json")]))
            return
        received.set()
        conn.stop.wait(5)

    def interrupt(*_):
        raise Interrupted()

    previous = signal.signal(signal.SIGUSR1, interrupt)
    try:
        with RawServer(holding) as own:
            session = KINDS[kind](own)
            def later() -> None:  # once the client waits for the answer (not while it sends)
                if received.wait(5):
                    time.sleep(0.3)
                    os.kill(os.getpid(), signal.SIGUSR1)

            threading.Thread(target=later, daemon=True).start()
            with pytest.raises(KeyboardInterrupt) as caught:
                if where == "direct token request":
                    session.flow.endpoint.request(session.flow.grant.params())
                else:
                    session.get("/user/me")
            assert find_secrets(own.received.decode("latin-1"))
    finally:
        signal.signal(signal.SIGUSR1, previous)
    assert_clean(traceback_text(caught.value), f"the interrupted traceback ({kind}, {where})")


@pytest.mark.parametrize("kind", list(KINDS))
def test_vars_of_every_object_hold_no_secret(kind):
    """Item 10: ``vars()`` of the session, its transport, auth, token flow, endpoint, client
    authentication and grant (two levels down) shows no secret nor token once the session
    has a token and has made calls."""
    with server(token_echo=False) as own:
        own.default = lambda r: (token_answer(refresh_token=REFRESH_TOKEN)(r)
                                 if r.path in TOKEN_PATHS else json_answer({"ok": 1}))
        session = KINDS[kind](own)
        assert session.get("/user/me") == {"ok": 1}
        flow = session.flow
        endpoint = flow.endpoint
        text = object_text(session, flow, endpoint, getattr(endpoint, "client_auth", None),
                           flow.grant, getattr(session, "auth", None), session.http,
                           endpoint.http, flow.current, depth=2)
    assert_clean(text, f"vars() of the objects ({kind})")


# -- item 11: attributes and chained contexts --------------------------------------------------
def test_exception_attributes_are_redacted():
    """Item 11: ``exc.body`` (the echoed bearer and key, in values and keys), ``exc.params``,
    ``exc.url``, ``exc.error`` and ``exc.error_description`` (the echoed Basic value and
    password) are redacted; no chained context leads to a library exception."""
    with server(token_echo=False) as own:
        session = jindexe(own)
        with pytest.raises(ApiError) as caught:
            session.get("/user/me", q=API_KEY)
        api_error = caught.value
    with server(token_echo=True) as own:
        with pytest.raises(AuthenticationError) as caught:
            oauth2(own).get("/x")
        auth_error = caught.value
    for exc in (api_error, auth_error):
        assert exc.__cause__ is None and exc.__context__ is None
        text = " ".join(repr(getattr(exc, name, None)) for name in
                        ("body", "params", "url", "error", "error_description", "detail",
                         "hint", "args"))
        assert_clean(text, f"the attributes of {type(exc).__name__}")
    assert isinstance(api_error.body, dict) and "***" in api_error.body["message"]


MALFORMED = {
    "Location not UTF-8": http_response(302, headers=[("Location", "/\xff")]),
    "Location with a port out of range": http_response(
        302, headers=[("Location", "http://127.0.0.1:99999/")]),
    "Location with a broken IPv6 host": http_response(302, headers=[("Location", "http://[::1")]),
    "Location to ftp": http_response(302, headers=[("Location", "ftp://127.0.0.1/x")]),
    "Retry-After ²": http_response(503, headers=[("Retry-After", "\xb2")]),
    "Retry-After in the year 1e20": http_response(503, headers=[(
        "Retry-After", "Mon, 01 Jan 99999999999999999999 00:00:00 GMT")]),
    "two Content-Lengths": http_response(200, b"{}", [("Content-Length", "2"),
                                                      ("Content-Length", "3")]),
    "bad chunk size": http_response(200, b"zz\r\n{}\r\n0\r\n\r\n",
                                    [("Transfer-Encoding", "chunked")]),
    "corrupt gzip": http_response(200, b"abcd", [("Content-Encoding", "gzip")]),
    "status 999999999999": b"HTTP/1.1 999999999999 X\r\nContent-Length: 0\r\n\r\n",
    "HTTP/0.9": b"{}",
}


@pytest.mark.parametrize("name", list(MALFORMED))
def test_malformed_answers_are_typed_errors_without_secrets(name):
    """Items 10 and 11: an answer that breaks the HTTP stack (a Location that is not UTF-8, a
    port out of range, a broken IPv6 literal, a Retry-After that is not a number, bad framing)
    is an explorer error — not a bare ``ValueError`` from requests' or urllib3's frames, whose
    locals hold the request's bearer and ``X-API-KEY``."""
    def handler(conn):
        if conn.path in TOKEN_PATHS:
            conn.send(http_response(200, token_text(expires_in="300").encode(),
                                    [("Content-Type", "application/json")]))
        else:
            conn.send(MALFORMED[name])

    with RawServer(handler) as own:
        session = jindexe(own, retries=1)
        with pytest.raises(ExplorerError) as caught:
            session.get("/user/me")
    assert_clean(traceback_text(caught.value), f"the traceback ({name})")


@pytest.mark.parametrize("name", ["Location not UTF-8", "Retry-After ²", "two Content-Lengths",
                                  "corrupt gzip", "HTTP/0.9"])
def test_malformed_token_answers_are_authentication_errors_without_secrets(name):
    """Items 10 and 11, on the token endpoint: the same answers there are an
    AuthenticationError, whose traceback holds no client secret."""
    with RawServer(lambda conn: conn.send(MALFORMED[name])) as own:
        session = oauth2(own, retries=1, auth_method="client_secret_post")
        with pytest.raises(AuthenticationError) as caught:
            session.get("/x")
    assert_clean(traceback_text(caught.value), f"the traceback ({name})")


def test_the_checks_see_a_secret_in_a_library_frame():
    """Items 9-11, the checks themselves: :func:`hostile.traceback_text` does see a secret in
    the locals of a library frame (``json.loads(s)``)."""
    with pytest.raises(ValueError) as caught:
        json.loads(API_KEY)
    with pytest.raises(AssertionError):
        assert_clean(traceback_text(caught.value), "json.loads")


def test_an_icd_answer_quoting_the_bearer_stays_out_of_the_frames():
    """Item 10, through an API module: an ICD answer that is a JSON list quoting the request's
    bearer; the ApiError's frames must not hold it (the ICD context builds its error in a
    helper and drops the answer before raising, as Session.decode does)."""
    from explorer import sandbox

    with sandbox.start() as box:
        proxy = reverse_proxy(box.url, prefix="/id.who.int")
        upstream = proxy.default

        def quoting(request):
            if "codeinfo" in request.path:
                return json_answer([f"you sent {request.headers.get('Authorization')}"])
            return upstream(request)

        proxy.default = quoting
        try:
            creds = {k: v for k, v in box.credentials("icd").items() if k != "deployment"}
            icd = connect("icd", **{**creds, "base_url": proxy.url}, cache=False,
                          progress=False)
            with pytest.raises(ApiError) as caught:
                icd.code("1A00")
            token = icd.flow.current.access_token
        finally:
            proxy.stop()
    assert token not in traceback_text(caught.value)
