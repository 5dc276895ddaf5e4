"""A fifth API, declared entirely in this file, used through connect(), frame(), the credential
form, the resource view and the command line — nothing in the package changes for it.

The API ("acme") is a tiny local server: client credentials at ``/oauth/token``, an API key on
``/public/`` routes and a bearer token on the others, collections paged by next links, and error
bodies of its own (``{"code": "E_COLOR", "problem": "…"}``).
"""

from __future__ import annotations

import base64
import json
import secrets
from urllib.parse import unquote_plus

import pytest
from werkzeug.wrappers import Request, Response

import explorer
from explorer import apis
from explorer.apis import (
    Collection,
    ErrorWords,
    Field,
    Filter,
    NextLink,
    Provider,
    Route,
)
from explorer.cli import main as cli
from explorer.errors import ApiError, AuthenticationError, ConfigurationError
from explorer.session import Session
from tests.localserver import LocalServer, json_response

CLIENT_ID, CLIENT_SECRET, API_KEY = "acme-client", "acme+secret/é", "acme-key-0123456789"
COLORS = ("red", "green", "blue")
THINGS = [{"id": i, "color": COLORS[i % 3], "made": f"2024-01-{i % 28 + 1:02d}T10:00:00Z"}
          for i in range(23)]


class AcmeSession(Session):
    """Acme's helpers: a DataFrame of things."""

    def things(self, *, color: str | None = None, limit: int | None = None,
               progress: bool = False):
        return self.frame("/things", limit=limit, progress=progress,
                          **THING.query({"color": color}))


THING = Collection("/things", name="things", title="Things", columns=("id", "color", "made"),
                   iso_times=("made",), paging=NextLink("entries", "next"),
                   filters=(Filter("color", label="Colour", kind="choice", choices=COLORS),))

PROVIDER = Provider(
    name="acme",
    title="Acme API",
    grant="client_credentials",
    auth_method="client_secret_basic",
    api_key_header="X-Acme-Key",
    routes=(Route("/public/", credentials=("api_key",), why="Acme's public routes"),
            Route("/", credentials=("token",), why="Acme's data routes")),
    fields=(Field("client_id", env="ACME_CLIENT_ID", required=True),
            Field("client_secret", env="ACME_CLIENT_SECRET", secret=True, required=True),
            Field("api_key", label="API key", env="ACME_API_KEY", secret=True)),
    errors=ErrorWords(keys=("problem",), code_key="code",
                      hints={"E_COLOR": "use a colour Acme knows: red, green or blue"}),
    collections=(THING,),
    signup="ask Acme for a client",
    session_class=AcmeSession,
)


class AcmeServer(LocalServer):
    """The Acme API on 127.0.0.1 (real sockets, real HTTP)."""

    def __init__(self) -> None:
        super().__init__()
        self.tokens: set[str] = set()
        self.route("POST", "/oauth/token")(self.token)
        self.route("GET", "/api/things")(self.things)
        self.route("GET", "/api/public/status")(self.status)

    def token(self, request: Request) -> Response:
        scheme, _, value = request.headers.get("Authorization", "").partition(" ")
        ident, _, secret = base64.b64decode(value).decode().partition(":")
        if scheme != "Basic" or (unquote_plus(ident), unquote_plus(secret)) != (
                CLIENT_ID, CLIENT_SECRET):
            return json_response({"error": "invalid_client"}, 401)
        token = secrets.token_urlsafe(16)
        self.tokens.add(token)
        return json_response({"access_token": token, "token_type": "Bearer",
                              "expires_in": 600})

    def things(self, request: Request) -> Response:
        if request.headers.get("Authorization", "")[7:] not in self.tokens:
            return Response(status=401)
        color = request.args.get("color")
        if color and color not in COLORS:
            return json_response({"code": "E_COLOR", "problem": f"no colour {color!r}"}, 400)
        rows = [t for t in THINGS if not color or t["color"] == color]
        start = int(request.args.get("from", 0))
        page = rows[start:start + 10]
        more = start + 10 < len(rows)
        query = f"&color={color}" if color else ""
        return json_response({"entries": page, "next": f"{self.url}/api/things?from="
                                                       f"{start + 10}{query}" if more else None})

    def status(self, request: Request) -> Response:
        if request.headers.get("X-Acme-Key") != API_KEY:
            return json_response({"code": "E_KEY", "problem": "bad key"}, 401)
        return json_response({"status": "open"})


@pytest.fixture
def acme(clean_env):
    server = AcmeServer()
    apis.register(PROVIDER)
    yield server
    apis.unregister("acme")
    server.stop()


def _connect(server: AcmeServer, **kw):
    settings = dict(client_id=CLIENT_ID, client_secret=CLIENT_SECRET, api_key=API_KEY,
                    base_url=server.url + "/api", token_url=server.url + "/oauth/token")
    return explorer.connect("acme", **{**settings, **kw})


def test_connect_frame_routes_and_next_links(acme):
    session = _connect(acme)
    assert type(session) is AcmeSession and session.deployment == "custom"
    df = session.frame("/things", progress=False)
    assert df["id"].tolist() == list(range(23)) and str(df["made"].dtype).startswith("datetime")
    assert acme.count("/api/things") == 3  # two next links followed
    assert session.things(color="red")["color"].unique().tolist() == ["red"]
    assert session.get("/public/status") == {"status": "open"}
    # each route carried its own credential, and only it
    for seen in acme.seen:
        if seen.path.startswith("/api/public/"):
            assert "X-Acme-Key" in seen.headers and "Authorization" not in seen.headers
        elif seen.path.startswith("/api/things"):
            assert "Authorization" in seen.headers and "X-Acme-Key" not in seen.headers


def test_its_own_error_words_and_hints(acme):
    session = _connect(acme)
    with pytest.raises(ApiError) as err:
        session.things(color="purple")
    assert err.value.status == 400
    assert "no colour 'purple'" in str(err.value) and "E_COLOR" in str(err.value)
    assert "red, green or blue" in err.value.hint
    wrong_key = _connect(acme, api_key="not-the-key")
    with pytest.raises(ApiError) as err:
        wrong_key.get("/public/status")
    assert err.value.status == 401 and "bad key" in str(err.value)
    assert "not-the-key" not in str(err.value)
    no_key = explorer.connect("acme", client_id=CLIENT_ID, client_secret=CLIENT_SECRET,
                              base_url=acme.url + "/api", token_url=acme.url + "/oauth/token")
    with pytest.raises(ConfigurationError, match="needs an API key for Acme's public routes"):
        no_key.get("/public/status")
    bad_secret = _connect(acme, client_secret="wrong")
    with pytest.raises(AuthenticationError):
        bad_secret.things()


def test_unknown_option_suggests_the_close_one(acme):
    with pytest.raises(ConfigurationError, match="did you mean 'client_id'"):
        explorer.connect("acme", clientid="x", base_url=acme.url)


def test_credential_form_and_resource_view(acme):
    pytest.importorskip("ipywidgets", reason="the widgets need the notebooks extra")
    from explorer.widgets import CredentialForm, ResourceView

    env = {"ACME_CLIENT_ID": CLIENT_ID}
    form = CredentialForm("acme", env=env, live=False)
    assert form.inputs["client_id"].value == CLIENT_ID
    assert type(form.inputs["client_secret"]).__name__ == "Password"
    sandbox = form.inputs["use_sandbox"]  # no emulator of acme: no sandbox offered
    assert not sandbox.value and sandbox.disabled and sandbox.layout.display == "none"
    form.inputs["client_secret"].value = CLIENT_SECRET
    form.inputs["api_key"].value = API_KEY
    form.inputs["base_url"].value = acme.url + "/api"
    form.inputs["token_url"].value = acme.url + "/oauth/token"
    session = form.connect()
    assert form.error is None and session is not None and session.provider == "acme"
    assert form.inputs["client_secret"].value == "" and form.inputs["api_key"].value == ""
    view = ResourceView(session)
    assert list(view.collection.options) == ["things"]
    view.filters["color"].value = "green"
    frame = view.load()
    assert view.error is None and set(frame["color"]) == {"green"}


def test_command_line(acme, monkeypatch, capsys):
    monkeypatch.setenv("ACME_CLIENT_ID", CLIENT_ID)
    monkeypatch.setenv("ACME_CLIENT_SECRET", CLIENT_SECRET)
    urls = ["--base-url", acme.url + "/api", "--token-url", acme.url + "/oauth/token"]
    assert cli(["get", "acme", "/things", *urls]) == 0
    out = json.loads(capsys.readouterr().out)
    assert [t["id"] for t in out["entries"]] == list(range(10))
    assert cli(["token", "acme", *urls]) == 0
    assert capsys.readouterr().out.strip() in acme.tokens
    assert cli(["get", "acme", "/things", "-q", "color=purple", *urls]) == 1
    err = capsys.readouterr().err
    assert "E_COLOR" in err and CLIENT_SECRET not in err
