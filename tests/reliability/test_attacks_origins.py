"""Attacks on origins: where credentials may go.

Items of the security issue: 6 (origin checks: prefixes, userinfo, backslashes, next links,
payload URIs, redirects), 7 (OIDC discovery), 8 (credentials in clear to a proxy), 13
(cookies). Two local servers in each test — the session's own and an "evil" one that records
every byte; the evil one must receive nothing (or nothing secret). A host name outside loopback
(``evil.example``) reaches the evil server as an HTTP proxy (``HTTP_PROXY``), with loopback
excluded through ``NO_PROXY`` so that only the foreign host goes there.
"""

from __future__ import annotations

import contextlib
import json
from pathlib import Path

import pytest
from werkzeug.wrappers import Response

from explorer import ConfigurationError, ExplorerError, sandbox

from .hostile import (
    ACCESS_TOKEN,
    API_KEY,
    CLIENT_ID,
    CLIENT_SECRET,
    COOKIE,
    HttpServer,
    RawServer,
    assert_clean,
    connect,
    http_response,
    jindexe,
    json_answer,
    oauth2,
    recorder,
    reverse_proxy,
    token_answer,
)

pytestmark = pytest.mark.timeout(60)

SECRETS_AND_COOKIE = (CLIENT_SECRET, API_KEY, ACCESS_TOKEN, COOKIE)


def own_api(*, cookie: bool = False) -> HttpServer:
    """The session's own server: a token at /token and /public/token (Jindexe), JSON
    elsewhere; with ``cookie``, ``Set-Cookie`` on every answer."""
    def default(request):
        response = json_answer({"ok": True, "path": request.path})
        if request.path in ("/token", "/public/token"):
            response = token_answer()(request)
        if cookie:
            response.headers.add("Set-Cookie", f"sid={COOKIE}; Path=/")
            response.headers.add("Set-Cookie", f"pref={COOKIE}-2; Domain=127.0.0.1; Path=/; "
                                               "Max-Age=86400; SameSite=None")
        return response
    return HttpServer(default)


@pytest.fixture
def proxy_env(monkeypatch):
    """``set(url)``: every foreign host goes through the proxy at ``url``; loopback does not."""
    for name in ("HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy", "ALL_PROXY",
                 "all_proxy", "NO_PROXY", "no_proxy"):
        monkeypatch.delenv(name, raising=False)

    def set_proxy(url: str, *, no_proxy: str | None = "127.0.0.1,localhost") -> None:
        monkeypatch.setenv("HTTP_PROXY", url)
        monkeypatch.setenv("HTTPS_PROXY", url)
        if no_proxy is not None:
            monkeypatch.setenv("NO_PROXY", no_proxy)

    return set_proxy


def assert_nothing_reached(evil: RawServer) -> None:
    assert evil.connections == 0, f"the evil server received: {evil.received[:300]!r}"


# -- item 6: absolute URLs given to the session ------------------------------------------------
ATTACK_URLS = {
    "another port": "http://127.0.0.1:{evil}/user/me",
    "another host name": "http://localhost:{evil}/user/me",
    "backslash (urllib3 reads localhost:EVIL)": "http://localhost:{evil}\\@127.0.0.1:{own}/user/me",
    "backslash, own host in userinfo": "http://127.0.0.1:{own}\\@127.0.0.1:{evil}/user/me",
    "userinfo holding the own origin": "http://127.0.0.1:{own}@127.0.0.1:{evil}/user/me",
    "upper case": "HTTP://LOCALHOST:{evil}/user/me",
    "ipv4-mapped ipv6": "http://[::ffff:127.0.0.1]:{evil}/user/me",
    "hex ipv4": "http://0x7f.0.0.1:{evil}/user/me",
}


@pytest.mark.parametrize("name", list(ATTACK_URLS))
def test_absolute_urls_on_another_origin_are_refused(name):
    """Item 6: ``session.get(<absolute URL>)`` on another origin — however the URL dresses the
    foreign host up (backslash, userinfo, case, IP spellings) — is refused before any byte is
    sent: the evil server receives nothing, neither bearer nor ``X-API-KEY``."""
    with own_api() as own, recorder() as evil:
        session = jindexe(own)
        url = ATTACK_URLS[name].format(own=own.port, evil=evil.port)
        with pytest.raises(ExplorerError):
            session.get(url)
        assert_nothing_reached(evil)
        assert not [s for s in own.requests() if s.path != "/public/token"]


@pytest.mark.parametrize("what,template", [
    ("base_url", "http://example.com\\@127.0.0.1:{own}"),
    ("base_url", "http://127.0.0.1:{own}\\@evil.example"),
    ("base_url", "http://evil.example\\\\@127.0.0.1:{own}"),
    ("base_url", "http://127.0.0.1:{own}@evil.example"),
    ("token_url", "http://example.com\\@127.0.0.1:{own}/token"),
    ("issuer", "http://example.com\\@127.0.0.1:{own}"),
])
def test_configured_urls_that_parsers_read_differently_are_refused(what, template, proxy_env):
    """Item 6: ``check_url`` reads a URL as the transport will: ``http://example.com\\@127.0.0.1``
    (the standard library sees 127.0.0.1, urllib3 connects to example.com) and userinfo are a
    ConfigurationError at connect; nothing reaches the other host (a proxy here)."""
    with own_api() as own, recorder() as evil:
        proxy_env(evil.url)
        url = template.format(own=own.port)
        settings = dict(token_url=own.url + "/token", base_url=own.url, client_id=CLIENT_ID,
                        client_secret=CLIENT_SECRET)
        settings.pop("token_url" if what == "issuer" else "", None)
        settings[what] = url
        with pytest.raises(ConfigurationError):
            session = connect(**settings)
            session.get("/x")  # only reached where connect did not refuse
        assert_nothing_reached(evil)


def test_a_query_holding_a_url_is_not_another_host():
    """Item 6: a query parameter holding ``://`` (``?target=https://…``), given in the path or as
    a parameter, is an ordinary request to the session's own host, with its credentials."""
    with own_api() as own, recorder() as evil:
        session = jindexe(own)
        target = f"https://127.0.0.1:{evil.port}/x"
        assert session.get("/user/me", target=target)["ok"] is True
        assert session.get(f"/user/me?target={target}")["ok"] is True
        assert session.get(f"/user/me?a=1&next=http://localhost:{evil.port}/")["ok"] is True
        calls = own.requests("/user/me")
        assert len(calls) == 3 and all(c.headers.get("X-Api-Key") == API_KEY for c in calls)
        assert_nothing_reached(evil)


def evil_on_a_high_port() -> RawServer:
    """An evil server on a port E >= 10240, so that E // 10 is a port too: then
    ``http://id.who.int{E % 10}/…`` read as a bare string prefix of ``http://id.who.int`` becomes
    ``http://127.0.0.1:{E // 10}`` + ``{E % 10}/…`` — port E."""
    for _ in range(50):
        evil = recorder()
        if evil.port >= 10240:
            return evil
        evil.stop()
    raise AssertionError("no port above 10240")


@pytest.fixture(scope="module")
def box():
    with sandbox.start() as sb:
        yield sb


def icd_credentials(box, **urls):
    creds = {k: v for k, v in box.credentials("icd").items() if k != "deployment"}
    creds.update(urls)
    return creds


def icd_behind(box):
    """(evil, own, session): ICD on ``own`` (a reverse proxy to the sandbox's id.who.int
    mount, so its base URL has no path) whose port is the evil port without its last digit."""
    for _ in range(50):
        evil = evil_on_a_high_port()
        try:
            own = reverse_proxy(box.url, prefix="/id.who.int", port=evil.port // 10)
        except OSError:
            evil.stop()
            continue
        session = connect("icd", **icd_credentials(box, base_url=own.url), cache=False,
                          progress=False)
        return evil, own, session
    raise AssertionError("no pair of free ports")


@pytest.mark.parametrize("template", [
    "http://id.who.int{digit}/icd/entity",              # port E//10 + digit = E
    "http://id.who.int@127.0.0.1:{evil}/icd/entity",     # userinfo
    "https://id.who.int@127.0.0.1:{evil}/icd/entity",
    "http://id.who.int:80@127.0.0.1:{evil}/icd/entity",
    "http://id.who.int\\@127.0.0.1:{evil}/icd/entity",
    "http://id.who.int.evil.example/icd/entity",
    "http://id.who.intx/icd/entity",
])
def test_icd_payload_uris_match_the_canonical_origin_not_a_string_prefix(box, template):
    """Item 6: ICD payload URIs map onto the session's base URL only when their origin is
    WHO's canonical one and the path follows at a segment boundary; ``http://id.who.int7/…``,
    ``http://id.who.int@127.0.0.1:EVIL/…`` and ``http://id.who.int.evil.example/…`` are
    refused, and the evil server receives no bearer."""
    evil, own, icd = icd_behind(box)
    try:
        uri = template.format(digit=evil.port % 10, evil=evil.port)
        with pytest.raises(ExplorerError):
            icd.get(uri)
        assert_nothing_reached(evil)
        # the canonical URIs themselves still work, over http and https
        assert icd.get("http://id.who.int/icd/entity")["@id"] == "http://id.who.int/icd/entity"
        assert "@id" in icd.get("https://id.who.int/icd/entity")
        assert "@id" in icd.get("http://ID.WHO.INT:80/icd/entity")
    finally:
        evil.stop()
        own.stop()


def test_icd_on_the_sandbox_refuses_a_longer_host_name(box):
    """Item 6, the issue's example: ``icd.get("http://id.who.int.evil.example/…")`` on a
    sandbox session is refused before sending (it was mapped onto the sandbox as
    ``…/id.who.int.evil.example/…``, a string prefix match)."""
    icd = connect("icd", **icd_credentials(box), cache=False, progress=False)
    before = box.count()
    with pytest.raises(ConfigurationError):
        icd.get("http://id.who.int.evil.example/icd/entity")
    with pytest.raises(ConfigurationError):
        icd.get("http://id.who.int@evil.example/icd/entity")
    assert box.count() - before <= 1  # at most the token request


NEXT_LINKS = {
    "absolute, another port": "http://127.0.0.1:{evil}/things?page=2",
    "scheme-relative": "//127.0.0.1:{evil}/things?page=2",
    "backslash": "http://localhost:{evil}\\@127.0.0.1:{own}/things?page=2",
    "userinfo": "http://127.0.0.1:{own}@127.0.0.1:{evil}/things?page=2",
    "backslash-relative": "/\\127.0.0.1:{evil}/things?page=2",
    "backslashes as slashes": "http:\\\\127.0.0.1:{evil}/things?page=2",
}


@pytest.mark.parametrize("name", list(NEXT_LINKS))
def test_next_links_to_another_origin_are_refused(name):
    """Item 6: a ``NextLink`` collection whose next link leads to another origin (absolute,
    scheme-relative, backslash, userinfo): ``session.frame`` stops with a typed error, the evil
    server receives nothing."""
    from explorer.session import NextLink

    with recorder() as evil, own_api() as own:
        link = NEXT_LINKS[name].format(own=own.port, evil=evil.port)
        own.routes["/things"] = lambda r: json_answer(
            {"entries": [{"id": 1}], "next": link} if "page" not in r.args
            else {"entries": [{"id": 2}], "next": None})
        session = oauth2(own)
        with pytest.raises(ExplorerError):
            session.frame("/things", paging=NextLink("entries", "next"), progress=False)
        assert_nothing_reached(evil)


def test_next_links_on_the_own_origin_are_followed():
    """Item 6, the other side: relative and absolute next links on the session's origin, and
    one whose query holds another URL, are followed with the credentials."""
    from explorer.session import NextLink

    with own_api() as own, recorder() as evil:
        pages = {"": ("/things?page=2", 1),
                 "2": (f"{own.url}/things?page=3&from=http://127.0.0.1:{evil.port}/x", 2),
                 "3": (None, 3)}
        own.routes["/things"] = lambda r: json_answer(
            {"entries": [{"id": pages[r.args.get("page", "")][1]}],
             "next": pages[r.args.get("page", "")][0]})
        session = oauth2(own)
        frame = session.frame("/things", paging=NextLink("entries", "next"), progress=False)
        assert list(frame["id"]) == [1, 2, 3]
        assert all(s.headers.get("Authorization") for s in own.requests("/things"))
        assert_nothing_reached(evil)


REDIRECTS = {
    "another port": "http://127.0.0.1:{evil}/landing",
    "another host name": "http://localhost:{evil}/landing",
    "scheme-relative": "//127.0.0.1:{evil}/landing",
    "userinfo": "http://127.0.0.1:{own}@127.0.0.1:{evil}/landing",
    "backslash": "http://localhost:{evil}\\@127.0.0.1:{own}/landing",
}


@pytest.mark.parametrize("status", [302, 307])
@pytest.mark.parametrize("name", list(REDIRECTS))
def test_redirect_to_another_origin_carries_no_credential(name, status):
    """Item 6: the API answers a redirect to another origin (after setting cookies): the
    request that follows carries no ``Authorization``, ``X-API-KEY``, ``API_KEY`` nor
    ``Cookie`` (nor a header of the caller's own, ``X-Auth-Token``) — nothing of any secret
    reaches the evil server."""
    with recorder() as evil, own_api(cookie=True) as own:
        location = REDIRECTS[name].format(own=own.port, evil=evil.port)

        def moved(request):
            response = Response("", status=status, headers={"Location": location})
            response.headers.add("Set-Cookie", f"sid={COOKIE}; Path=/")
            return response

        own.routes["/user/me"] = moved
        session = jindexe(own, headers={"API_KEY": API_KEY, "Cookie": f"c={COOKIE}",
                                        "X-Auth-Token": ACCESS_TOKEN})
        with contextlib.suppress(ExplorerError):  # the evil server answers 403
            session.get("/user/me")
        raw = evil.received.decode("latin-1")
        assert_clean(raw, "the request to the evil server", SECRETS_AND_COOKIE)
        for name_ in ("authorization", "x-api-key", "api_key", "cookie"):
            assert f"\n{name_}:" not in raw.lower()


def test_a_providers_own_key_header_is_dropped_on_redirects_too():
    """Item 6: a provider declared with its own API key header (``X-Acme-Key``, as in the
    README's fifth API) — the key is a credential like ``X-API-KEY``: dropped on a redirect to
    another origin."""
    from explorer import apis
    from explorer.auth import Route
    from explorer.session import Field, Provider

    provider = Provider(
        name="acmeattack", title="Acme (attack test)", grant="client_credentials",
        auth_method="client_secret_basic", api_key_header="X-Acme-Key",
        urls={"base_url": "https://api.acme.example", "token_url": "https://a.example/t"},
        routes=(Route("/", credentials=("api_key", "token")),),
        fields=(Field("client_id", required=True),
                Field("client_secret", secret=True, required=True),
                Field("api_key", secret=True)))
    apis.register(provider)
    try:
        with recorder() as evil, own_api() as own:
            own.routes["/things"] = lambda r: Response(
                "", status=302, headers={"Location": f"http://127.0.0.1:{evil.port}/x"})
            session = connect("acmeattack", client_id=CLIENT_ID, client_secret=CLIENT_SECRET,
                              api_key=API_KEY, base_url=own.url, token_url=own.url + "/token")
            with pytest.raises(ExplorerError):
                session.get("/things")
            assert own.requests("/things")[0].headers.get("X-Acme-Key") == API_KEY
            assert evil.connections == 1
            assert_clean(evil.received.decode("latin-1"), "the redirected request")
    finally:
        apis.unregister("acmeattack")


# -- item 7: OIDC discovery ---------------------------------------------------------------------
WELL_KNOWN = "/realms/x/.well-known/openid-configuration"


def evil_issuer(own_issuer: str):
    """An evil server that plays an OIDC issuer (naming the own issuer, as a liar would) and
    a token endpoint."""
    def handler(conn):
        if conn.path.endswith("openid-configuration"):
            doc = {"issuer": own_issuer, "token_endpoint": f"{evil.url}/token"}
            conn.send(http_response(200, json.dumps(doc).encode(),
                                    [("Content-Type", "application/json")]))
        else:
            conn.send(http_response(400, b'{"error": "invalid_client"}',
                                    [("Content-Type", "application/json")]))
    evil = RawServer(handler)
    return evil


def discovering(own: HttpServer, **kwargs):
    return connect(issuer=own.url + "/realms/x", client_id=CLIENT_ID,
                   client_secret=CLIENT_SECRET, base_url=own.url, **kwargs)


@pytest.mark.parametrize("status", [301, 302, 307, 308])
def test_discovery_follows_no_redirect_to_another_origin(status):
    """Item 7: the issuer's ``/.well-known/openid-configuration`` redirects to another host
    whose document names its own token endpoint: not followed; the client secret never reaches
    the other host (OIDC Discovery 1.0 §4.3)."""
    with own_api() as own:
        evil = evil_issuer(own.url + "/realms/x")
        try:
            own.routes[WELL_KNOWN] = lambda r: Response(
                "", status=status, headers={"Location": evil.url + WELL_KNOWN})
            with pytest.raises(ExplorerError):
                discovering(own).get("/x")
            assert_clean(evil.received.decode("latin-1"), "the evil issuer's requests",
                         (CLIENT_SECRET,))
            assert_nothing_reached(evil)
        finally:
            evil.stop()


@pytest.mark.parametrize("doc", [
    {"issuer": "{evil}/realms/x", "token_endpoint": "{evil}/token"},
    {"token_endpoint": "{evil}/token"},
    {"issuer": "{own}/realms/x/", "token_endpoint": "http://evil.example/token"},
    {"issuer": "{own}/realms/x", "token_endpoint": "http://evil.example\\@127.0.0.1:1/token"},
    {"issuer": "{own}/realms/x", "token_endpoint": "http://127.0.0.1:1@evil.example/token"},
    {"issuer": "{own}/realms/xy", "token_endpoint": "{own}/token"},
])
def test_discovery_document_must_name_the_issuer_and_a_safe_token_endpoint(doc, proxy_env):
    """Item 7: the document's ``issuer`` must be the issuer asked for, and its
    ``token_endpoint`` passes the same rule as every URL (https, or http on loopback; no
    userinfo, no backslash): otherwise a ConfigurationError, and the secret goes nowhere."""
    with own_api() as own, recorder() as evil:
        proxy_env(evil.url)  # a foreign host name reaches the evil server as a proxy
        text = json.dumps(doc).replace("{evil}", evil.url).replace("{own}", own.url)
        own.routes[WELL_KNOWN] = lambda r: Response(text, mimetype="application/json")
        with pytest.raises(ConfigurationError):
            discovering(own).get("/x")
        assert_nothing_reached(evil)
        assert not own.requests("/token")


def test_discovery_of_a_well_behaved_issuer_works():
    """Item 7, the other side: same-origin document, right issuer → the token endpoint it
    names gets the grant."""
    with own_api() as own:
        own.routes[WELL_KNOWN] = lambda r: json_answer(
            {"issuer": own.url + "/realms/x", "token_endpoint": own.url + "/token"})
        assert discovering(own).get("/x")["ok"] is True
        assert len(own.requests("/token")) == 1


# -- item 8: proxies ----------------------------------------------------------------------------
@pytest.mark.parametrize("variable", ["HTTP_PROXY", "http_proxy", "ALL_PROXY"])
@pytest.mark.parametrize("host", ["127.0.0.1", "localhost"])
def test_loopback_is_never_proxied(variable, host, monkeypatch, proxy_env):
    """Item 8: with a proxy set in the environment (and no ``NO_PROXY``), a loopback
    ``http://`` API and token endpoint are reached directly: the proxy receives neither the
    Basic credentials nor the bearer."""
    with own_api() as own, recorder() as proxy:
        proxy_env(proxy.url, no_proxy=None)
        monkeypatch.delenv("HTTP_PROXY")
        monkeypatch.delenv("HTTPS_PROXY")
        monkeypatch.setenv(variable, proxy.url)
        base = own.url.replace("127.0.0.1", host)
        session = connect(token_url=base + "/token", client_id=CLIENT_ID,
                          client_secret=CLIENT_SECRET, base_url=base)
        assert session.get("/x")["ok"] is True
        assert_nothing_reached(proxy)
        assert own.requests("/token") and own.requests("/x")


def test_no_credential_goes_in_clear_through_a_proxy(proxy_env):
    """Item 8: a request carrying a credential to an ``http://`` host that the proxy would
    carry is refused (the transport's own rule, below every check_url); without credentials it
    goes through."""
    from explorer.transport import Transport

    with recorder() as proxy:
        proxy_env(proxy.url)
        http = Transport(retries=0)
        for header in ("Authorization", "X-API-KEY", "API_KEY", "Cookie"):
            with pytest.raises(Exception) as caught:  # noqa: PT011 - the type is checked below
                http.get("http://api.example.test/x", headers={header: API_KEY})
            assert "clear" in str(caught.value)
        assert_nothing_reached(proxy)
        assert http.get("http://api.example.test/public").status_code == 403  # the "proxy"
        assert proxy.connections == 1


def test_a_redirect_through_a_proxy_carries_no_credential(proxy_env):
    """Item 8: the loopback API (direct) redirects to a foreign ``http://`` host (through the
    proxy): the credentials are dropped before the request reaches the proxy."""
    with own_api() as own, recorder() as proxy:
        proxy_env(proxy.url)
        own.routes["/user/me"] = lambda r: Response(
            "", status=302, headers={"Location": "http://api.example.test/landing"})
        session = jindexe(own)
        with pytest.raises(ExplorerError):
            session.get("/user/me")
        assert proxy.connections == 1
        assert_clean(proxy.received.decode("latin-1"), "what the proxy received")


@pytest.mark.parametrize("auth_method", ["client_secret_basic", "client_secret_post"])
def test_a_token_endpoint_redirect_is_not_followed_through_a_proxy(auth_method, proxy_env):
    """Item 8: a token endpoint answering 307 to a foreign ``http://`` host: not followed (a
    307 would carry the form body, ``client_secret`` included, through the proxy)."""
    with own_api() as own, recorder() as proxy:
        proxy_env(proxy.url)
        own.routes["/token"] = lambda r: Response(
            "", status=307, headers={"Location": "http://auth.example.test/token"})
        session = oauth2(own, auth_method=auth_method)
        with pytest.raises(ExplorerError):
            session.get("/x")
        assert_clean(proxy.received.decode("latin-1"), "what the proxy received")
        assert_nothing_reached(proxy)


# -- item 13: cookies ---------------------------------------------------------------------------
def test_cookies_are_never_kept_nor_sent_back():
    """Item 13: token endpoint and API set cookies on every answer (host-only, ``Domain=``,
    ``Max-Age``); no later request — API calls, a token renewal after a 401 — carries a
    ``Cookie`` header, and no cookie jar holds them."""
    with own_api(cookie=True) as own:
        state = {"n": 0}

        def once_401(request):
            state["n"] += 1
            if state["n"] == 2:
                response = json_answer({"error": "invalid_token"}, status=401)
            else:
                response = json_answer({"ok": True})
            response.headers.add("Set-Cookie", f"api={COOKIE}; Path=/")
            return response

        own.routes["/x"] = once_401
        session = oauth2(own)
        for _ in range(3):
            assert session.get("/x")["ok"] is True
        assert len(own.requests("/token")) == 2
        sent = [s for s in own.requests() if "Cookie" in s.headers]
        assert not sent, f"Cookie sent back to {sent[0].path}: {sent[0].headers['Cookie']}"
        assert len(session.http.cookies) == 0
        assert len(session.flow.endpoint.http.cookies) == 0


def test_the_icd_payload_store_holds_no_cookie(box, tmp_path):
    """Item 13: an ICD crawl through a proxy that adds ``Set-Cookie`` to every answer (token
    and payloads), with the store at ``tmp_path/'c.sqlite'``: no cookie in the store's files,
    none sent back."""
    proxy = reverse_proxy(box.url, cookie=COOKIE)
    try:
        creds = box.credentials("icd")
        urls = {k: creds[k].replace(box.url, proxy.url) for k in ("base_url", "token_url")}
        icd = connect("icd", **icd_credentials(box, **urls), cache=tmp_path / "c.sqlite",
                      progress=False)
        frame = icd.tree("01", max_depth=1)  # chapter 1 and its blocks
        assert len(frame) > 5
        icd.code("1A00")
        icd.close()
        files = [p for p in tmp_path.iterdir() if p.is_file()]
        assert any(p.name.startswith("c.sqlite") for p in files)
        for path in files:
            data = Path(path).read_bytes()
            assert COOKIE.encode() not in data, f"{path.name} holds the cookie"
            assert b"Set-Cookie" not in data and b"set-cookie" not in data
        sent = [s for s in proxy.requests() if "Cookie" in s.headers]
        assert not sent, f"Cookie sent back on {sent[0].path}"
        assert len(proxy.requests()) > 5
    finally:
        proxy.stop()

