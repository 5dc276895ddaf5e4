"""GOPACS API emulator: IDCONS, public reporting and the UFTP participants API.

Example:
    >>> from explorer import sandbox
    >>> import requests
    >>> with sandbox.start() as sb:
    ...     c = sb.credentials("gopacs")
    ...     requests.get(c["reporting_url"] + "/clearedbuckets?size=2").json()["totalElements"]
    10000

Hosts and endpoints:
    * ``idcons[.acc].gopacs-services.eu``: ``GET /public/announcements?page&size`` (Page),
      ``GET /machineannouncements?postalcode&starttime&endtime&type&state`` (bare array),
      ``GET /public-api/1.0/announcements/{id}/eansolvingeffectivity`` (header ``API_KEY``).
    * ``public-reporting.gopacs-services.eu``: ``/clearedbuckets?page&size`` (Page),
      ``/expenses``, ``/performance-metrics``.
    * ``api[.acc].gopacs-services.eu``: ``/uftp-participants/v3/participants/{domain}`` and
      ``/uftp-participants/v3/participants/contracts/{contractId}/roles/{role}`` (bearer of
      realm ``gopacs`` of the same environment).

Emulator choices:
    * acceptance and production hosts serve the same data.
    * paging: Spring rules (see ``_data.spring_paging``), max size 2000 for announcements and
      500 for cleared buckets; announcements newest first.
    * malformed numbers (page, size, starttime, endtime) -> 400 with Spring Boot's default
      error JSON ``{timestamp, status, error, path}``.
    * ``machineannouncements``: ``postalcode`` matches on its first 4 digits; starttime /
      endtime (epoch ms) select problem periods overlapping the window; type and state are
      case-insensitive; results sorted by problem start.
    * missing or wrong ``API_KEY`` -> 401 empty; unknown announcement -> 404 empty.
    * unknown participant / contract -> 404 empty; role other than AGR or DSO -> 400; the
      contract answer is a bare array of ``{"domain","publicKey"}``.
"""

from __future__ import annotations

import secrets
import time
from typing import Any

from werkzeug.wrappers import Request, Response

from explorer.sandbox._data import BadParam, int_param, iso_z, spring_page, spring_paging
from explorer.sandbox._emulator import Emulator
from explorer.sandbox._gopacs_data import GopacsData
from explorer.sandbox._state import State, keycloak_secret, random_secret
from explorer.sandbox.oauth import Issuer, empty_response, json_response

__all__ = ["API", "EMULATOR", "IDCONS", "ISSUERS", "REPORTING", "GopacsMount", "spring_error"]

IDCONS = ("idcons.gopacs-services.eu", "idcons.acc.gopacs-services.eu")
REPORTING = ("public-reporting.gopacs-services.eu",)
API = {"api.gopacs-services.eu": "gopacs-production",
       "api.acc.gopacs-services.eu": "gopacs-acceptance"}
_PARTICIPANTS = "/uftp-participants/v3/participants/"


def spring_error(status: int, error: str, path: str) -> Response:
    """Spring Boot's default error body."""
    body = {"timestamp": iso_z(time.time(), millis=True).replace("Z", "+00:00"),
            "status": status, "error": error, "path": path}
    return json_response(body, status)


class GopacsMount:
    """The GOPACS mount (IDCONS, public reporting, UFTP participants)."""

    hosts = (*IDCONS, *REPORTING, *API)

    def __init__(self, state: State) -> None:
        self.state = state
        self.data = GopacsData(state.seed)

    def handle(self, request: Request, host: str, path: str) -> Response:
        if request.method not in ("GET", "HEAD"):
            return empty_response(405, {"Allow": "GET"})
        try:
            if host in IDCONS:
                return self._idcons(request, path)
            if host in REPORTING:
                return self._reporting(request, path)
            return self._api(request, host, path)
        except BadParam:
            return spring_error(400, "Bad Request", path)

    def _idcons(self, request: Request, path: str) -> Response:
        args, data = request.args, self.data
        if path == "/public/announcements":
            page, size = spring_paging(args)
            items = sorted(data.announcements, key=lambda a: a["createdTimestamp"], reverse=True)
            return json_response(spring_page(items, page, size))
        if path == "/machineannouncements":
            return json_response(self._machine(args))
        prefix, suffix = "/public-api/1.0/announcements/", "/eansolvingeffectivity"
        if path.startswith(prefix) and path.endswith(suffix):
            key = request.headers.get("API_KEY") or ""
            if not secrets.compare_digest(key.encode(), self.state.credentials["gopacs"][
                    "api_key"].encode()):
                return empty_response(401)
            ann = data.announcement_ids.get(path[len(prefix):-len(suffix)])
            return json_response(data.effectivity(ann)) if ann else empty_response(404)
        return empty_response(404)

    def _machine(self, args: Any) -> list[dict[str, Any]]:
        start = int_param(args, "starttime")
        end = int_param(args, "endtime")
        zip_code = (args.get("postalcode") or "").strip()[:4]
        typ = (args.get("type") or "").upper()
        state = (args.get("state") or "").upper()
        out = []
        for a in self.data.announcements:
            period = a["problemPeriod"]
            if start is not None and period["endTime"] <= start:
                continue
            if end is not None and period["startTime"] >= end:
                continue
            if zip_code and zip_code not in a["congestedZipCodes"]:
                continue
            if typ and a["type"] != typ or state and a["announcementState"] != state:
                continue
            out.append(a)
        return sorted(out, key=lambda a: a["problemPeriod"]["startTime"])

    def _reporting(self, request: Request, path: str) -> Response:
        if path == "/clearedbuckets":
            page, size = spring_paging(request.args, max_size=500)
            total = self.data.BUCKETS
            idx = range(page * size, min((page + 1) * size, total))
            items = [self.data.bucket(i) for i in idx]
            return json_response(spring_page(items, page, size, total=total))
        if path == "/expenses":
            return json_response(self.data.expenses)
        if path == "/performance-metrics":
            return json_response(self.data.metrics)
        return empty_response(404)

    def _api(self, request: Request, host: str, path: str) -> Response:
        if not path.startswith(_PARTICIPANTS):
            return empty_response(404)
        denied = self.state.auth.check(request, issuers=(API[host],))
        if denied is not None:
            return denied
        parts = path[len(_PARTICIPANTS):].split("/")
        if len(parts) == 1:
            p = self.data.participants.get(parts[0])
            return json_response({"domain": p["domain"], "publicKey": p["publicKey"]}) \
                if p else empty_response(404)
        if len(parts) == 4 and parts[0] == "contracts" and parts[2] == "roles":
            role = parts[3].upper()
            if role not in ("AGR", "DSO"):
                return spring_error(400, "Bad Request", path)
            contract = self.data.contracts.get(parts[1])
            if contract is None:
                return empty_response(404)
            views = [self.data.participants[d] for d in contract[role]]
            return json_response([{"domain": v["domain"], "publicKey": v["publicKey"]}
                                  for v in views])
        return empty_response(404)


# -- the emulator's declaration -------------------------------------------------------------
#: Keycloak realm ``gopacs`` per environment (no ``/auth`` prefix; 300 s / 1800 s).
ISSUERS = (
    Issuer("gopacs-acceptance", "auth.acc.gopacs-services.eu", "/realms/gopacs", "keycloak",
           300, 1800, "profile email", "gopacs"),
    Issuer("gopacs-production", "auth.gopacs-services.eu", "/realms/gopacs", "keycloak",
           300, 1800, "profile email", "gopacs"),
)


def _make_credentials(rng: Any) -> dict[str, str]:
    # emulator choice: one client valid in both environments; API_KEY base64 of 33 bytes
    return {"client_id": "sandbox-gopacs", "client_secret": keycloak_secret(),
            "api_key": random_secret()}


def _credentials(box: Any, *, environment: str = "acceptance", **options: Any) -> dict[str, Any]:
    """Emulator choice: the same client id/secret is valid in both environments, but a token
    is only accepted by the API of its own environment."""
    if environment not in ("acceptance", "production"):
        raise ValueError("environment must be 'acceptance' or 'production'")
    acc = ".acc" if environment == "acceptance" else ""
    g = box.state.credentials["gopacs"]
    url = box.url
    return {
        "client_id": g["client_id"],
        "client_secret": g["client_secret"],
        "environment": environment,
        "token_url": box.state.auth.token_url(f"gopacs-{environment}"),
        "base_url": f"{url}/api{acc}.gopacs-services.eu",
        "idcons_url": f"{url}/idcons{acc}.gopacs-services.eu",
        "reporting_url": f"{url}/public-reporting.gopacs-services.eu",
        "api_key": g["api_key"],
    }


def _banner(box: Any) -> list[str]:
    from explorer.sandbox._curl import form_header

    gop = box.credentials("gopacs", environment="acceptance")
    return [
        "== GOPACS (acceptance; production: auth.gopacs-services.eu / api.gopacs-services.eu) ==",
        f"client_id     = {gop['client_id']}",
        f"client_secret = {gop['client_secret']}",
        f"API_KEY       = {gop['api_key']}",
        f"TOKEN=$(curl -s -X POST {gop['token_url']} {form_header()} "
        f"-d 'client_id={gop['client_id']}' -d 'client_secret={gop['client_secret']}' "
        "-d 'grant_type=client_credentials' | jq -r .access_token)",
        f"curl -s {gop['base_url']}/uftp-participants/v3/participants/dso.liander.nl"
        " -H \"Authorization: Bearer $TOKEN\"",
        f"curl -s '{gop['idcons_url']}/public/announcements?page=0&size=5'",
        f"curl -s '{gop['reporting_url']}/clearedbuckets?page=0&size=5'",
    ]


EMULATOR = Emulator("gopacs", GopacsMount, _make_credentials, _credentials, _banner,
                    issuers=ISSUERS)
