"""ITCare API emulator (``itcare.cegedim.cloud`` and ``api.cegedim.cloud``, rooted at ``/itcare``).

Example:
    >>> from explorer import sandbox
    >>> import requests
    >>> with sandbox.start() as sb:
    ...     c = sb.credentials("itcare")
    ...     tok = requests.post(c["token_url"], auth=(c["client_id"], c["client_secret"]),
    ...                         data={"grant_type": "client_credentials"}).json()
    ...     page = requests.get(c["base_url"] + "/compute/instances?size=5",
    ...                         headers={"Authorization": "Bearer " + tok["access_token"]}).json()
    ...     page["totalElements"], len(page["content"])
    (2500, 5)

Endpoints (bearer of realm ``cloud`` required except ``/itcare/health``):
    GET /compute/instances (Page; filters services, names, types, families, environments,
    statuses, tags, az, ip, vlan, backupStatus, includedInPatchParty), GET/PATCH
    /compute/instances/{id}, GET .../{id}/networks|storage|snapshots, GET /compute/resources
    (Page), /compute/services (Page), /compute/services/{id}, /compute/environments (Page),
    GET /actions (bare array; resourceName, resourceId, serviceId, statuses, requestId),
    /actions/{id}, GET /health -> ``{"status":"UP"}``.

Emulator choices:
    * paging follows Spring: ``page`` 0-based (negative -> 0), ``size`` default 20, below 1
      -> 20, above 2000 -> 2000; non-integer page/size -> 400 INVALID_FIELD_VALUE.
    * filters: OR inside a comma list, AND across filters; enum values are
      case-insensitive and unknown ones -> 400; ``names`` matches case-insensitively with
      ``*`` wildcards, ``!name`` excludes; ``tags=key:value`` (all listed tags required);
      unknown parameters are ignored. ``sort=prop[,asc|desc]`` on any top-level key (first
      sort only); an unknown property -> 400 (errorDesc ``sort``). Default order: id.
    * ``/compute/resources`` lists the instances as generic resources; ``/environments`` is
      a Page of 4; ``/networks`` is a bare array of the instance's interfaces;
      ``/snapshots`` is a bare array (often empty, 200).
    * PATCH ``{"operation": "stop"|"start"|"reset"}`` -> 202 ``{"id","status":"IN_PROGRESS",
      "message"}``; the Action ends after ``sb.action_seconds`` (1 s) in SUCCESS and stop /
      start then set the instance INACTIVE / ACTIVE. ``"operation": "fail"`` or
      ``"options": {"simulateError": true}`` ends in ERROR with a message. stop/reset of an
      INACTIVE, start of an ACTIVE, or any operation while one is running -> 409 empty.
      ``X-Dry-Run: true`` validates only: 200 ``{"id": null, "status": "SUCCESS", ...}``
      and the header is echoed.
    * 401/403/404/405/409 have empty bodies; 400 has ``{status, errorCode, errorDesc,
      errorMessage}``.
"""

from __future__ import annotations

import threading
import time
from fnmatch import fnmatchcase
from typing import Any

from werkzeug.wrappers import Request, Response

from explorer.sandbox._data import BadParam, csv_param, int_param, spring_page, spring_paging
from explorer.sandbox._emulator import Emulator
from explorer.sandbox._itcare_data import ENVIRONMENTS, FAMILIES, ItcareData, action, generate
from explorer.sandbox._state import State, keycloak_secret
from explorer.sandbox.oauth import Issuer, empty_response, json_response, request_json

__all__ = [
    "EMULATOR",
    "ISSUER",
    "ItcareMount",
    "bad_request",
    "filter_instances",
    "paged",
    "sort_items",
]

_ENUMS = {
    "types": ("type", {"LINUX", "WINDOWS", "AIX"}),
    "families": ("family", set(FAMILIES)),
    "environments": ("environment", set(ENVIRONMENTS)),
    "statuses": ("status", {"ACTIVE", "INACTIVE"}),
    "backupStatus": (("backup", "status"), {"SUCCESS", "FAILED", "NONE"}),
}
_OPS = {"stop": "STOP_INSTANCE", "start": "START_INSTANCE", "reset": "RESET_INSTANCE",
        "fail": "RESET_INSTANCE"}


def bad_request(field: str) -> Response:
    """ITCare's 400 error JSON for ``field``."""
    return json_response({"status": "BAD_REQUEST", "errorCode": "INVALID_FIELD_VALUE",
                          "errorDesc": field, "errorMessage": f"Error on field '{field}'"}, 400)


def _get(item: dict[str, Any], key: str | tuple[str, str]) -> Any:
    if isinstance(key, tuple):
        return (item.get(key[0]) or {}).get(key[1])
    return item.get(key)


def filter_instances(items: list[dict[str, Any]], args: Any) -> list[dict[str, Any]]:
    """Apply the documented filters; raises BadParam on a malformed value."""
    preds = []
    for param, (key, allowed) in _ENUMS.items():
        values = {v.upper() for v in csv_param(args, param)}
        if values - allowed:
            raise BadParam(param)
        if values:
            preds.append(lambda i, k=key, v=values: _get(i, k) in v)
    services = csv_param(args, "services")
    if services:
        try:
            ids = {int(s) for s in services}
        except ValueError:
            raise BadParam("services") from None
        preds.append(lambda i: i["serviceId"] in ids)
    names = [n.lower() for n in csv_param(args, "names")]
    if names:
        inc = [n for n in names if not n.startswith("!")]
        exc = [n[1:] for n in names if n.startswith("!")]
        preds.append(lambda i: (not inc or any(fnmatchcase(i["name"].lower(), p) for p in inc))
                     and not any(fnmatchcase(i["name"].lower(), p) for p in exc))
    tags = csv_param(args, "tags")
    if tags:
        if any(":" not in t for t in tags):
            raise BadParam("tags")
        wanted = [tuple(t.split(":", 1)) for t in tags]
        preds.append(lambda i: all({"key": k, "value": v} in i.get("tags", []) for k, v in wanted))
    for param, key in (("az", "availabilityZone"), ("ip", "ipAddress"),
                       ("vlan", ("network", "technicalID"))):
        values = set(csv_param(args, param))
        if values:
            preds.append(lambda i, k=key, v=values: _get(i, k) in v)
    patch = args.get("includedInPatchParty")
    if patch:
        if patch.lower() not in ("true", "false"):
            raise BadParam("includedInPatchParty")
        want = patch.lower() == "true"
        preds.append(lambda i: (not i["patchParty"]["excluded"]) == want)
    return [i for i in items if all(p(i) for p in preds)]


def sort_items(items: list[dict[str, Any]], args: Any) -> tuple[list[dict[str, Any]], str | None]:
    """Spring ``sort=prop[,asc|desc]`` (first criterion only)."""
    raw = args.get("sort")
    if not raw:
        return items, None
    prop, _, direction = raw.partition(",")
    direction = (direction or "asc").lower()
    if direction not in ("asc", "desc") or (items and prop not in items[0]):
        raise BadParam("sort")

    def key(item: dict[str, Any]) -> tuple[bool, Any]:
        value = item.get(prop)
        if isinstance(value, dict | list):
            value = str(value)
        return value is None, 0 if value is None else value

    return sorted(items, key=key, reverse=direction == "desc"), raw


def paged(items: list[dict[str, Any]], args: Any) -> Response:
    """Sort and page ``items`` per the request args, as a Spring Page."""
    page, size = spring_paging(args)
    ordered, sort = sort_items(items, args)
    return json_response(spring_page(ordered, page, size, sort=sort))


class ItcareMount:
    """The ITCare API mount."""

    hosts = ("itcare.cegedim.cloud", "api.cegedim.cloud")

    def __init__(self, state: State) -> None:
        self.state = state
        self._lock = threading.RLock()
        self._data: ItcareData | None = None
        self._pending: list[tuple[float, dict[str, Any], str | None]] = []
        self._next_action = 950_000

    @property
    def data(self) -> ItcareData:
        with self._lock:
            if self._data is None:
                self._data = generate(self.state.seed)
            return self._data

    def handle(self, request: Request, host: str, path: str) -> Response:
        if not path.startswith("/itcare/") and path != "/itcare":
            return empty_response(404)
        sub = path[len("/itcare"):].rstrip("/") or "/"
        if sub == "/health":
            return json_response({"status": "UP"})
        denied = self.state.auth.check(request, issuers=(ISSUER.name,))
        if denied is not None:
            return denied
        parts = sub.strip("/").split("/")
        try:
            with self._lock:
                self._settle()
                return self._route(request, parts)
        except BadParam as exc:
            return bad_request(exc.field)

    def _route(self, request: Request, parts: list[str]) -> Response:
        method, args, data = request.method, request.args, self.data
        if parts[0] == "actions" and len(parts) <= 2:
            if method != "GET":
                return empty_response(405)
            if len(parts) == 2:
                aid = _int_id(parts[1])
                found = [a for a in data.actions if a["id"] == aid]
                return json_response(found[0]) if found else empty_response(404)
            return json_response(self._actions(args))
        if parts[0] != "compute" or len(parts) < 2:
            return empty_response(404)
        kind, rest = parts[1], parts[2:]
        if kind == "instances":
            return self._instances(request, rest)
        if method != "GET":
            return empty_response(405)
        if kind == "resources" and not rest:
            return paged([_resource(i) for i in filter_instances(data.instances, args)], args)
        if kind == "services":
            if not rest:
                return paged(data.services, args)
            sid = _int_id(rest[0])
            found = [s for s in data.services if s["id"] == sid]
            return json_response(found[0]) if found and len(rest) == 1 else empty_response(404)
        if kind == "environments" and not rest:
            envs = [{"id": n + 1, "name": e, "label": e.capitalize()}
                    for n, e in enumerate(ENVIRONMENTS)]
            return paged(envs, args)
        return empty_response(404)

    def _instances(self, request: Request, rest: list[str]) -> Response:
        data = self.data
        if not rest:
            if request.method != "GET":
                return empty_response(405)
            return paged(filter_instances(data.instances, request.args), request.args)
        inst = data.by_id.get(_int_id(rest[0]))
        if inst is None:
            return empty_response(404)
        if len(rest) == 1:
            if request.method == "PATCH":
                return self._patch(request, inst)
            return json_response(inst) if request.method == "GET" else empty_response(405)
        if len(rest) > 2 or request.method != "GET":
            return empty_response(404 if len(rest) > 2 else 405)
        if rest[1] == "networks":
            net = inst["network"]
            return json_response([{**net, "gateway": net["cidr"].rsplit(".", 1)[0] + ".1",
                                   "primary": True}])
        if rest[1] in ("storage", "snapshots"):
            return json_response(data.extra[inst["id"]][rest[1]])
        return empty_response(404)

    def _actions(self, args: Any) -> list[dict[str, Any]]:
        out = self.data.actions
        name = args.get("resourceName")
        if name:
            out = [a for a in out if a["resourceName"].lower() == name.lower()]
        for param in ("resourceId", "serviceId"):
            value = int_param(args, param)
            if value is not None:
                out = [a for a in out if a[param] == value]
        statuses = {s.upper() for s in csv_param(args, "statuses")}
        if statuses - {"SUCCESS", "IN_PROGRESS", "ERROR"}:
            raise BadParam("statuses")
        if statuses:
            out = [a for a in out if a["status"] in statuses]
        req = args.get("requestId")
        if req:
            out = [a for a in out if a["requestId"] == req]
        return sorted(out, key=lambda a: a["submittedAt"], reverse=True)

    def _patch(self, request: Request, inst: dict[str, Any]) -> Response:
        body = request_json(request)
        op = body.get("operation") if isinstance(body, dict) else None
        if op not in _OPS:
            raise BadParam("operation")
        options = body.get("options") or {}
        fail = op == "fail" or (isinstance(options, dict) and bool(options.get("simulateError")))
        busy = any(a["resourceId"] == inst["id"] for _, a, _ in self._pending)
        if busy or (op in ("stop", "reset") and inst["status"] != "ACTIVE") or (
                op == "start" and inst["status"] != "INACTIVE"):
            return empty_response(409)
        if request.headers.get("X-Dry-Run", "").lower() == "true":
            return json_response({"id": None, "status": "SUCCESS",
                                  "message": f"Dry run: {op} of {inst['name']} is valid"},
                                 200, {"X-Dry-Run": "true"})
        self._next_action += 1
        now = time.time()
        act = action(self._next_action, inst, _OPS[op], "IN_PROGRESS",
                     f"Operation {op} in progress", now, None, self.state.credentials[
                         "itcare"]["client_id"])
        self.data.actions.append(act)
        effect = {"stop": "INACTIVE", "start": "ACTIVE"}.get(op) if not fail else None
        self._pending.append((now + self.state.action_seconds, act, "ERROR" if fail else effect))
        return json_response({"id": act["id"], "status": "IN_PROGRESS",
                              "message": f"Operation {op} accepted for {inst['name']}"}, 202)

    def _settle(self) -> None:
        now = time.time()
        keep = []
        for due, act, effect in self._pending:
            if due > now:
                keep.append((due, act, effect))
                continue
            done = action(act["id"], self.data.by_id[act["resourceId"]], act["process"],
                          "ERROR" if effect == "ERROR" else "SUCCESS",
                          "Simulated failure: operation could not be completed"
                          if effect == "ERROR" else "Action completed successfully",
                          0, due, act["submittedBy"])
            act.update({k: done[k] for k in ("status", "message", "completedAt",
                                             "lastUpdatedAt")})
            if effect in ("ACTIVE", "INACTIVE"):
                self.data.by_id[act["resourceId"]]["status"] = effect
        self._pending = keep


def _int_id(raw: str) -> int:
    try:
        return int(raw)
    except ValueError:
        raise BadParam("id") from None


def _resource(inst: dict[str, Any]) -> dict[str, Any]:
    keys = ("id", "name", "path", "category", "resourceType", "type", "family", "status",
            "environment", "serviceId", "serviceName", "availabilityZone", "creationTime",
            "tags")
    return {k: inst[k] for k in keys}


# -- the emulator's declaration -------------------------------------------------------------
#: Keycloak realm ``cloud`` (access 1200 s, refresh 7200 s).
ISSUER = Issuer("itcare", "accounts.cegedim.cloud", "/auth/realms/cloud", "keycloak",
                1200, 7200, "profile email", "itcare")


def _make_credentials(rng: Any) -> dict[str, str]:
    return {"client_id": "sandbox-itcare", "client_secret": keycloak_secret()}


def _credentials(box: Any, **options: Any) -> dict[str, Any]:
    return {**box.state.credentials["itcare"], "token_url": box.state.auth.token_url("itcare"),
            "base_url": f"{box.url}/itcare.cegedim.cloud/itcare"}


def _banner(box: Any) -> list[str]:
    from explorer.sandbox._curl import basic_header, form_header

    itc = box.credentials("itcare")
    return [
        "== ITCare ==",
        f"client_id     = {itc['client_id']}",
        f"client_secret = {itc['client_secret']}",
        f"TOKEN=$(curl -s -X POST {itc['token_url']} -H "
        f"{basic_header(itc['client_id'], itc['client_secret'])}"
        f" {form_header()} -d 'grant_type=client_credentials' | jq -r .access_token)",
        f"curl -s '{itc['base_url']}/compute/instances?size=5' "
        "-H \"Authorization: Bearer $TOKEN\"",
    ]


EMULATOR = Emulator("itcare", ItcareMount, _make_credentials, _credentials, _banner,
                    issuers=(ISSUER,), knobs={"action_seconds": 1.0})
