"""Jindexe API emulator (host ``api.jindexe.net``).

Example:
    >>> from explorer import sandbox
    >>> import requests
    >>> with sandbox.start() as sb:
    ...     c = sb.credentials("jindexe")
    ...     requests.get(c["base_url"] + "/public/establishments?limit=2",
    ...                  headers={"X-API-KEY": c["api_key"]}).json()["total"]
    300

Documented: ``/ext/`` needs nothing, ``/public/`` an ``X-API-KEY``, ``/user/`` and ``/pro/``
a key and a user token; ``POST /public/token`` (password / refresh_token grants, JSON body);
extra auth data is never an error.

Emulator choices (everything but the token route is undocumented):
    * host ``api.jindexe.net``; routes ``GET /ext/health`` -> ``{"status":"ok"}``,
      ``/public/establishments?page=1&limit=20&q=&category=&city=`` ->
      ``{"items","page","limit","total"}`` (1-based page, limit default 20, max 100),
      ``/public/establishments/{id}``, ``/user/me``, ``/pro/establishments/{id}`` (the
      "fiche": the establishment plus ``role``, ``visibility``, ``feeds``, ``stats``),
      ``/pro/establishments/{id}/posts`` (paged like establishments).
    * ``q`` searches name and description, case- and accent-insensitively; ``category`` is a
      category slug; ``city`` matches the city case- and accent-insensitively.
    * bad page/limit (non-integer, page < 1, limit < 1) -> 400
      ``{"error":"invalid_request","error_description":...}``; limit > 100 -> 100.
    * missing or invalid key -> 401 ``{"error":"invalid_api_key",...}``; then tokens are
      checked FOSOAuthServer-style: none -> 401 ``access_denied`` "OAuth2 authentication
      required"; unknown -> 401 ``invalid_grant`` "The access token provided is invalid.";
      expired -> 401 ``invalid_grant`` "The access token provided has expired." (an expired
      hit), each with ``WWW-Authenticate: Bearer realm="Service", ...``. A token is also
      accepted as ``access_token`` query parameter (FOSOAuth does).
    * establishment not managed by the user -> 403 ``insufficient_scope``; unknown id -> 404
      ``{"error":"not_found","error_description":...}``; unknown route -> 404 same shape.
"""

from __future__ import annotations

import secrets
from typing import Any

from werkzeug.wrappers import Request, Response

from explorer.sandbox._emulator import Emulator
from explorer.sandbox._jindexe_data import JindexeData, fold
from explorer.sandbox._state import State, random_secret
from explorer.sandbox.oauth import Issuer, json_response

__all__ = ["EMULATOR", "HOST", "ISSUER", "JindexeMount"]

_MAX_LIMIT = 100


def _error(status: int, code: str, description: str,
           headers: dict[str, str] | None = None) -> Response:
    return json_response({"error": code, "error_description": description}, status, headers)


def _not_found(what: str = "Resource") -> Response:
    return _error(404, "not_found", f"{what} not found")


class JindexeMount:
    """The Jindexe mount."""

    hosts = ("api.jindexe.net",)

    def __init__(self, state: State) -> None:
        self.state = state
        self.data = JindexeData(state.seed)

    def handle(self, request: Request, host: str, path: str) -> Response:
        path = path.rstrip("/") or "/"
        if path == "/ext/health":
            return json_response({"status": "ok"})
        if not path.startswith(("/public/", "/user/", "/pro/")):
            return _not_found("Route")
        key = request.headers.get("X-API-KEY") or ""
        if not secrets.compare_digest(key.encode(),
                                      self.state.credentials[EMULATOR.name]["api_key"].encode()):
            return _error(401, "invalid_api_key",
                          "A valid API key is required in the X-API-KEY header")
        if path == "/public/token":
            return self.state.auth.password_token(request, ISSUER.name)
        if request.method not in ("GET", "HEAD"):
            return _error(405, "method_not_allowed", "Method not allowed")
        if path.startswith("/public/"):
            return self._public(request, path)
        denied = self._check_token(request)
        if denied is not None:
            return denied
        if path == "/user/me":
            return json_response(self._me())
        return self._pro(request, path)

    def _check_token(self, request: Request) -> Response | None:
        auth = self.state.auth
        token = request.args.get("access_token")
        issuers = (ISSUER.name,)
        status, _ = (auth.validate_token(token, issuers) if token and not
                     request.headers.get("Authorization") else auth.validate(request, issuers))
        if status == "ok":
            return None
        if status == "missing":
            return _error(401, "access_denied", "OAuth2 authentication required",
                          {"WWW-Authenticate": 'Bearer realm="Service"'})
        text = ("The access token provided has expired." if status == "expired"
                else "The access token provided is invalid.")
        header = f'Bearer realm="Service", error="invalid_grant", error_description="{text}"'
        return _error(401, "invalid_grant", text, {"WWW-Authenticate": header})

    def _paging(self, args: Any) -> tuple[int, int] | Response:
        try:
            page = int(args.get("page") or 1)
            limit = int(args.get("limit") or 20)
        except ValueError:
            return _error(400, "invalid_request", 'Invalid "page" or "limit" parameter')
        if page < 1 or limit < 1:
            return _error(400, "invalid_request", '"page" and "limit" must be positive')
        return page, min(limit, _MAX_LIMIT)

    @staticmethod
    def _page(items: list[dict[str, Any]], page: int, limit: int) -> dict[str, Any]:
        return {"items": items[(page - 1) * limit: page * limit], "page": page,
                "limit": limit, "total": len(items)}

    def _public(self, request: Request, path: str) -> Response:
        if path == "/public/establishments":
            paging = self._paging(request.args)
            if isinstance(paging, Response):
                return paging
            items = self._search(request.args)
            return json_response(self._page(items, *paging))
        prefix = "/public/establishments/"
        if path.startswith(prefix):
            est = self._by_id(path[len(prefix):])
            return json_response(est) if est else _not_found("Establishment")
        return _not_found("Route")

    def _search(self, args: Any) -> list[dict[str, Any]]:
        q, cat, city = (fold(args.get(k) or "").strip() for k in ("q", "category", "city"))
        out = []
        for e in self.data.establishments:
            if q and q not in fold(e["name"]) and q not in fold(e["description"]):
                continue
            if cat and cat not in e["categories"]:
                continue
            if city and fold(e["address"]["city"]) != city:
                continue
            out.append(e)
        return out

    def _by_id(self, raw: str) -> dict[str, Any] | None:
        return self.data.by_id.get(int(raw)) if raw.isdigit() else None

    def _me(self) -> dict[str, Any]:
        cred = self.state.credentials["jindexe"]
        return {"id": 4242, "email": cred["username"], "firstname": "Camille",
                "lastname": "Martin",
                "establishments": [{"id": i, "name": self.data.by_id[i]["name"], "role": role}
                                   for i, role in self.data.managed.items()]}

    def _pro(self, request: Request, path: str) -> Response:
        prefix = "/pro/establishments/"
        if not path.startswith(prefix):
            return _not_found("Route")
        raw, _, tail = path[len(prefix):].partition("/")
        est = self._by_id(raw)
        if est is None:
            return _not_found("Establishment")
        role = self.data.managed.get(est["id"])
        if role is None:
            return _error(403, "insufficient_scope",
                          "The request requires higher privileges than provided by the "
                          "access token.")
        if not tail:
            posts = self.data.posts(est["id"])
            return json_response({**est, "role": role, "visibility": "public",
                                  "feeds": ["google", "facebook", "instagram", "jindexe"],
                                  "stats": {"posts": len(posts),
                                            "views30d": 100 + est["id"] * 7 % 900}})
        if tail == "posts":
            paging = self._paging(request.args)
            if isinstance(paging, Response):
                return paging
            return json_response(self._page(self.data.posts(est["id"]), *paging))
        return _not_found("Route")


# -- the emulator's declaration -------------------------------------------------------------
HOST = "api.jindexe.net"
#: FOSOAuthServer-style ``POST /public/token`` (JSON body, password and refresh_token grants,
#: 86400 s; refresh tokens 200 days, rotated), served through this mount.
ISSUER = Issuer("jindexe", HOST, "", "fos", 86400, 200 * 86400, "user", "jindexe",
                token_path="/public/token")


def _make_credentials(rng: Any) -> dict[str, str]:
    # emulator choice: a 40-hex API key; the password is base64 of 33 random bytes
    return {"api_key": secrets.token_hex(20), "username": "utilisateur.demo@example.fr",
            "password": random_secret()}


def _credentials(box: Any, **options: Any) -> dict[str, Any]:
    return {**box.state.credentials["jindexe"], "base_url": f"{box.url}/{HOST}"}


def _banner(box: Any) -> list[str]:
    import shlex

    jdx = box.credentials("jindexe")
    body = shlex.quote('{"grant_type":"password","username":"' + jdx["username"]
                       + '","password":"' + jdx["password"] + '"}')
    return [
        "== Jindexe ==",
        f"X-API-KEY = {jdx['api_key']}",
        f"username  = {jdx['username']}",
        f"password  = {jdx['password']}",
        f"TOKEN=$(curl -s -X POST {jdx['base_url']}/public/token -H 'X-API-KEY: {jdx['api_key']}'"
        f" -H 'Content-Type: application/json' -d {body} | jq -r .access_token)",
        f"curl -s {jdx['base_url']}/user/me -H 'X-API-KEY: {jdx['api_key']}'"
        " -H \"Authorization: Bearer $TOKEN\"",
    ]


EMULATOR = Emulator("jindexe", JindexeMount, _make_credentials, _credentials, _banner,
                    issuers=(ISSUER,))
