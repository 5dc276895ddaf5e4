"""Secrets: canary secrets and tokens through every path — repr, str, ``_repr_html_``, DEBUG
logs (explorer and urllib3), exception messages and tracebacks, the CLI's output, the HTTP
cache on disk — none appears. Credential headers are not forwarded on a cross-host or an
https → http redirect. TLS: a self-signed server is refused by default, accepted with
``verify=<cert file>``.

Widget state is covered by the widgets' own tests (tests/widgets, ``assert_no_secret``) and
saved notebooks by tests/test_no_secrets_in_files.py.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import ipaddress
import logging
import sqlite3
import threading
import traceback
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

import explorer
from explorer import ApiError, AuthenticationError, ExplorerError, sandbox
from explorer.cli import main as cli

pytestmark = pytest.mark.timeout(120)


def secrets_of(sb: sandbox.Sandbox, api: str) -> list[str]:
    creds = sb.credentials(api)
    return [creds[k] for k in ("client_secret", "password", "api_key") if creds.get(k)]


def tokens_of(session: Any) -> list[str]:
    token = session.flow.current if session.flow else None
    return [t for t in (token.access_token, token.refresh_token) if t] if token else []


def assert_clean(text: str, values: list[str]) -> None:
    assert values, "nothing to look for"
    for value in values:
        assert value not in text


# --- displays ----------------------------------------------------------------------------------

@pytest.mark.parametrize("api", ["icd", "itcare", "gopacs", "jindexe"])
def test_reprs_and_html_hold_no_secret(sb, api):
    opts = {"cache": "memory"} if api == "icd" else {}
    session = explorer.connect(api, **sb.credentials(api), **opts)
    token = session.token
    assert token is not None
    things: list[Any] = [session, token, session.flow, session.flow.endpoint,
                         session.flow.endpoint.client_auth, session.flow.grant, session.http]
    text = ""
    for thing in things:
        text += repr(thing) + str(thing)
        html = getattr(thing, "_repr_html_", None)
        if html is not None:
            text += html()
    text += repr(session.status()) + repr(token.status())
    assert_clean(text, secrets_of(sb, api) + tokens_of(session))


# --- logs --------------------------------------------------------------------------------------

def test_debug_logs_hold_no_secret(sb, caplog):
    caplog.set_level(logging.DEBUG, logger="explorer")
    caplog.set_level(logging.DEBUG, logger="urllib3")
    caplog.set_level(logging.DEBUG)  # root: anything else that logs
    seen: list[str] = []
    for api, path in (("itcare", "/compute/environments"), ("jindexe", "/user/me"),
                      ("gopacs", "/ping")):
        session = explorer.connect(api, **sb.credentials(api))
        session.token  # noqa: B018 - fetch one
        seen += tokens_of(session)
        sb.expire_tokens()  # next call: 401 → renewal (refresh grant) → retry, all logged
        with contextlib.suppress(ExplorerError):
            session.get(path)
        seen += tokens_of(session) + secrets_of(sb, api)
    assert "token request" in caplog.text  # the logs were on
    assert_clean(caplog.text, seen)
    assert_clean(" ".join(str(r.args) for r in caplog.records), seen)


# --- errors ------------------------------------------------------------------------------------

def test_errors_and_tracebacks_hold_no_secret(sb):
    texts, seen = [], []
    # wrong secret (the right one must not leak either), then a refused token at the API
    for api in ("itcare", "icd", "jindexe"):
        creds = sb.credentials(api)
        key = "password" if api == "jindexe" else "client_secret"
        wrong = {**creds, key: creds[key][::-1]}
        opts = {"cache": "memory"} if api == "icd" else {}
        with pytest.raises(AuthenticationError) as info:
            explorer.connect(api, **wrong, **opts).token  # noqa: B018
        texts.append("".join(traceback.format_exception(info.value)) + repr(info.value))
        seen += secrets_of(sb, api) + [wrong[key]]
    session = explorer.connect("itcare", **sb.credentials("itcare"))
    session.token  # noqa: B018
    seen += tokens_of(session)
    sb.faults = explorer.sandbox.Faults(script=[500])
    with pytest.raises(ApiError) as info:
        session.get("/compute/environments", q=tokens_of(session)[0])  # a token in the query
    texts.append("".join(traceback.format_exception(info.value)) + repr(info.value)
                 + repr(info.value.params))
    assert_clean("\n".join(texts), seen)


# --- CLI ---------------------------------------------------------------------------------------

def test_cli_prints_no_secret_except_the_token_command(capsys):
    box = sandbox.shared()  # the CLI's --sandbox uses the process-wide sandbox
    assert cli(["get", "itcare", "/compute/environments", "--sandbox"]) == 0
    out = capsys.readouterr()
    assert "PRODUCTION" in out.out
    assert cli(["get", "itcare", "/compute/no-such-thing", "--sandbox"]) == 1
    err = capsys.readouterr()
    assert err.err.startswith("error: ")
    assert cli(["token", "itcare", "--sandbox"]) == 0
    token = capsys.readouterr().out.strip()
    assert token.count(".") == 2  # a JWT: printing it is this command's job
    assert_clean(out.out + out.err + err.out + err.err, secrets_of(box, "itcare") + [token])
    assert_clean(token, secrets_of(box, "itcare"))


# --- HTTP cache on disk ------------------------------------------------------------------------

def test_http_cache_file_holds_no_credential(sb, tmp_path):
    path = tmp_path / "http-cache.sqlite"
    icd = explorer.connect("icd", **sb.credentials("icd"), cache=path, progress=False)
    icd.code("1A00")
    icd.search("cholera")
    icd.chapters()
    icd.tree("01")  # a crawl: every answer is written as it arrives
    seen = secrets_of(sb, "icd") + tokens_of(icd) + [sb.credentials("icd")["client_id"]]
    icd.close()
    with sqlite3.connect(path) as db:  # everything is flushed to the main file
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        (count,) = db.execute("SELECT COUNT(*) FROM payloads").fetchone()
    assert count >= 100
    blob = b"".join(p.read_bytes() for p in tmp_path.iterdir())
    for value in seen:
        assert value.encode() not in blob
    for token in tokens_of(icd):
        assert token[-40:].encode() not in blob  # not even a tail of it
    assert b"Bearer ey" not in blob and b"Basic " not in blob


# --- redirects ---------------------------------------------------------------------------------

class Recorder:
    """A loopback server (http or https) recording each request's headers by path."""

    def __init__(self, ssl_context: Any = None) -> None:
        self.seen: dict[str, dict[str, str]] = {}
        self.redirect_to: str | None = None
        self._srv = make_server("127.0.0.1", 0, self._app, threaded=True,
                                ssl_context=ssl_context)
        scheme = "https" if ssl_context else "http"
        self.url = f"{scheme}://127.0.0.1:{self._srv.server_port}"
        self._thread = threading.Thread(target=self._srv.serve_forever, daemon=True)
        self._thread.start()

    def _app(self, environ: dict[str, Any], start_response: Any) -> Any:
        request = Request(environ)
        self.seen[request.path] = dict(request.headers)
        if request.path.endswith("/start") and self.redirect_to:
            resp = Response(status=302, headers={"Location": self.redirect_to})
        else:
            resp = Response('{"ok": true}', mimetype="application/json")
        return resp(environ, start_response)

    def stop(self) -> None:
        self._srv.shutdown()
        self._srv.server_close()
        self._thread.join(5)


@pytest.fixture
def cert(tmp_path: Path) -> tuple[str, str]:
    """A self-signed certificate for 127.0.0.1 (files: cert, key)."""
    return make_cert(tmp_path)


def make_cert(tmp_path: Path) -> tuple[str, str]:
    """Write a self-signed certificate for 127.0.0.1 and its key; return their paths."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.timezone.utc)
    certificate = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name)
        .public_key(key.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName(
            [x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256()))
    cert_file, key_file = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert_file.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                           serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return str(cert_file), str(key_file)


@pytest.fixture
def servers(cert) -> Iterator[tuple[Recorder, Recorder]]:
    tls, plain = Recorder(ssl_context=cert), Recorder()
    yield tls, plain
    tls.stop()
    plain.stop()


KEY = "canary-api-key-0123456789"


def test_no_credential_header_on_https_to_http_redirect(servers, cert):
    tls, plain = servers
    tls.redirect_to = plain.url + "/landing"  # https → http (and another port)
    session = explorer.connect("jindexe", base_url=tls.url, api_key=KEY, verify=cert[0])
    session.get("/public/start")
    assert tls.seen["/public/start"]["X-Api-Key"] == KEY
    assert "X-Api-Key" not in plain.seen["/landing"]
    assert "Authorization" not in plain.seen["/landing"]


def test_no_credential_header_on_cross_host_redirect(sb):
    plain = Recorder()
    try:
        # 127.0.0.1 → localhost: same machine, another host name
        target = plain.url.replace("127.0.0.1", "localhost")
        plain.redirect_to = target + "/landing"
        session = explorer.connect("jindexe", base_url=plain.url, api_key=KEY)
        session.get("/public/start")
        assert plain.seen["/public/start"]["X-Api-Key"] == KEY
        landing = plain.seen["/landing"]
        assert "X-Api-Key" not in landing and "Authorization" not in landing
        # and a bearer: ITCare's token goes to the first host only
        itcare = explorer.connect("itcare", **{**sb.credentials("itcare"),
                                               "base_url": plain.url})
        plain.seen.clear()
        itcare.get("/start")
        assert plain.seen["/start"]["Authorization"].startswith("Bearer ")
        assert "Authorization" not in plain.seen["/landing"]
    finally:
        plain.stop()


# --- TLS verification --------------------------------------------------------------------------

def test_self_signed_server_refused_by_default_accepted_with_verify(servers, cert):
    tls, _ = servers
    session = explorer.connect("jindexe", base_url=tls.url, api_key=KEY, timeout=(2, 5))
    with pytest.raises(ApiError) as info:
        session.get("/public/x")
    exc = info.value
    assert exc.provider == "jindexe" and tls.url in str(exc)
    assert "certificate" in str(exc).lower() and KEY not in str(exc)
    assert "/public/x" not in tls.seen  # nothing was sent

    # the token endpoint too: a typed AuthenticationError naming it
    oauth = explorer.connect(token_url=tls.url + "/token", base_url=tls.url,
                             client_id="id", client_secret="canary-secret-0001",
                             timeout=(2, 5))
    with pytest.raises(AuthenticationError) as info:
        oauth.get("/x")
    assert tls.url + "/token" in str(info.value) and "certificate" in str(info.value).lower()
    assert "canary-secret-0001" not in str(info.value)

    trusted = explorer.connect("jindexe", base_url=tls.url, api_key=KEY, verify=cert[0])
    assert trusted.get("/public/x") == {"ok": True}
    assert tls.seen["/public/x"]["X-Api-Key"] == KEY
