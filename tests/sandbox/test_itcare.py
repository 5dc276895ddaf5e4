"""ITCare emulator: pages, filters, sub-resources, actions, errors."""

from __future__ import annotations

import time

import pytest
import requests
from sandbox_helpers import bearer, keycloak_token

PAGE_KEYS = {"content", "pageable", "last", "totalElements", "totalPages", "size", "number",
             "sort", "first", "numberOfElements", "empty"}


@pytest.fixture(scope="module")
def api(sb):
    headers = bearer(keycloak_token(sb))
    base = sb.credentials("itcare")["base_url"]

    def get(path, **params):
        return requests.get(base + path, headers=headers, params=params, timeout=10)

    return get


def test_health_and_auth(sb, api):
    base = sb.credentials("itcare")["base_url"]
    assert requests.get(base + "/health").json() == {"status": "UP"}
    r = requests.get(base + "/compute/instances")
    assert r.status_code == 401 and r.content == b""
    other = sb.url + "/api.cegedim.cloud/itcare/compute/instances"
    assert requests.get(other, headers=bearer(keycloak_token(sb))).status_code == 200


def test_instances_page_shape(api):
    page = api("/compute/instances").json()
    assert set(page) == PAGE_KEYS
    assert (page["totalElements"], page["size"], page["number"], page["totalPages"]) == (
        2500, 20, 0, 125)
    assert page["first"] and not page["last"] and page["numberOfElements"] == 20
    assert page["sort"] == {"empty": True, "sorted": False, "unsorted": True}
    inst = page["content"][0]
    for key in ("id", "name", "type", "family", "status", "environment", "serviceId",
                "creationTime", "ipAddress", "network", "backup", "patchParty", "tags"):
        assert key in inst
    assert isinstance(inst["network"]["dns"], list)
    assert inst["creationTime"][-5] in "+-" and inst["creationTime"][10] == "T"


def test_paging_edges(api):
    last = api("/compute/instances", page=124).json()
    assert last["last"] and last["numberOfElements"] == 20 and not last["first"]
    beyond = api("/compute/instances", page=125).json()
    assert beyond["content"] == [] and beyond["empty"] and beyond["number"] == 125
    exact = api("/compute/instances", size=500, page=4).json()
    assert exact["totalPages"] == 5 and exact["last"] and exact["numberOfElements"] == 500
    assert api("/compute/instances", size=5000).json()["size"] == 2000
    assert api("/compute/instances", size=0).json()["size"] == 20
    assert api("/compute/instances", page=-3).json()["number"] == 0
    ids = [i["id"] for n in range(3) for i in api("/compute/instances", size=7, page=n).json()[
        "content"]]
    assert len(set(ids)) == 21 and ids == sorted(ids)


def test_bad_request_body(api):
    r = api("/compute/instances", size="abc")
    assert r.status_code == 400
    assert r.json() == {"status": "BAD_REQUEST", "errorCode": "INVALID_FIELD_VALUE",
                        "errorDesc": "size", "errorMessage": "Error on field 'size'"}
    assert api("/compute/instances", environments="MARS").json()["errorDesc"] == "environments"
    assert api("/compute/instances", sort="bogus,asc").status_code == 400


def test_filters(api):
    prod = api("/compute/instances", environments="production", size=2000).json()
    assert prod["totalElements"] > 0
    assert {i["environment"] for i in prod["content"]} == {"PRODUCTION"}
    win = api("/compute/instances", families="WINDOWS", size=50).json()["content"]
    assert win and {(i["type"], i["family"]) for i in win} == {("WINDOWS", "WINDOWS")}
    first = api("/compute/instances", size=3).json()["content"]
    names = ",".join(i["name"] for i in first)
    assert api("/compute/instances", names=names).json()["totalElements"] == 3
    excl = api("/compute/instances", names=f"{first[0]['name']},!{first[0]['name']}").json()
    assert excl["totalElements"] == 0 and excl["empty"] and excl["totalPages"] == 0
    both = api("/compute/instances", services=first[0]["serviceId"],
               statuses="ACTIVE,INACTIVE").json()
    assert {i["serviceId"] for i in both["content"]} == {first[0]["serviceId"]}
    tag = first[0]["tags"][0]
    tagged = api("/compute/instances", tags=f"{tag['key']}:{tag['value']}", size=2000).json()
    assert all(tag in i["tags"] for i in tagged["content"]) and tagged["totalElements"] >= 1
    assert api("/compute/instances", az="EB-A", size=1).json()["content"][0][
        "availabilityZone"] == "EB-A"
    vlan = first[0]["network"]["technicalID"]
    assert api("/compute/instances", vlan=vlan).json()["totalElements"] >= 1
    assert api("/compute/instances", ip=first[0]["ipAddress"]).json()["totalElements"] >= 1
    pp = api("/compute/instances", includedInPatchParty="false", size=2000).json()["content"]
    assert pp and all(i["patchParty"]["excluded"] for i in pp)
    failed = api("/compute/instances", backupStatus="FAILED", size=2000).json()["content"]
    assert failed and {i["backup"]["status"] for i in failed} == {"FAILED"}


def test_sort(api):
    page = api("/compute/instances", sort="name,desc", size=50).json()
    names = [i["name"] for i in page["content"]]
    assert names == sorted(names, reverse=True) and page["sort"]["sorted"]


def test_instance_detail_and_subresources(api):
    inst = api("/compute/instances", size=1).json()["content"][0]
    assert api(f"/compute/instances/{inst['id']}").json() == inst
    nets = api(f"/compute/instances/{inst['id']}/networks").json()
    assert isinstance(nets, list) and nets[0]["ipAddress"] == inst["ipAddress"]
    storage = api(f"/compute/instances/{inst['id']}/storage").json()
    assert set(storage) == {"totalSizeDisks", "fileSystems", "totalSizeFileSystems"}
    assert {"mountingPoint", "type", "sizeOf", "free"} <= set(storage["fileSystems"][0])
    assert isinstance(api(f"/compute/instances/{inst['id']}/snapshots").json(), list)
    r = api("/compute/instances/1")
    assert r.status_code == 404 and r.content == b""


def test_resources_services_environments(api):
    res = api("/compute/resources", size=5).json()
    assert res["totalElements"] == 2500 and res["content"][0]["category"] == "INSTANCE"
    services = api("/compute/services", size=100).json()
    assert services["totalElements"] == 40
    svc = services["content"][0]
    assert api(f"/compute/services/{svc['id']}").json() == svc
    assert api("/compute/services/999999").status_code == 404
    envs = api("/compute/environments").json()
    assert [e["name"] for e in envs["content"]] == ["PRODUCTION", "QA", "DEVELOPMENT", "TEST"]


def test_actions_bare_array_and_filters(api):
    actions = api("/actions").json()
    assert isinstance(actions, list) and len(actions) >= 24
    a = actions[0]
    for key in ("completedAt", "family", "id", "lastUpdatedAt", "message", "process",
                "resourceName", "resourceType", "status", "submittedAt", "submittedBy"):
        assert key in a
    assert a["submittedAt"].endswith("Z")
    assert api(f"/actions/{a['id']}").json() == a
    assert all(x["status"] == "ERROR" for x in api("/actions", statuses="ERROR").json())
    assert {x["resourceId"] for x in api("/actions", resourceId=a["resourceId"]).json()} == {
        a["resourceId"]}
    assert api("/actions", requestId=a["requestId"]).json() == [a]
    assert api("/actions", resourceName="nope").json() == []
    assert api("/actions/1").status_code == 404


def test_patch_action_lifecycle(fresh):
    fresh.action_seconds = 0.3
    headers = bearer(keycloak_token(fresh))
    base = fresh.credentials("itcare")["base_url"]
    page = requests.get(base + "/compute/instances", params={"statuses": "ACTIVE", "size": 2},
                        headers=headers).json()
    inst, other = page["content"]
    url = f"{base}/compute/instances/{inst['id']}"
    r = requests.patch(url, json={"operation": "stop"}, headers=headers)
    assert r.status_code == 202
    ack = r.json()
    assert set(ack) == {"id", "status", "message"} and ack["status"] == "IN_PROGRESS"
    action = requests.get(f"{base}/actions/{ack['id']}", headers=headers).json()
    assert action["status"] == "IN_PROGRESS" and action["completedAt"] is None
    assert requests.patch(url, json={"operation": "reset"}, headers=headers).status_code == 409
    time.sleep(0.4)
    action = requests.get(f"{base}/actions/{ack['id']}", headers=headers).json()
    assert action["status"] == "SUCCESS" and action["completedAt"].endswith("Z")
    assert requests.get(url, headers=headers).json()["status"] == "INACTIVE"
    assert requests.patch(url, json={"operation": "stop"}, headers=headers).status_code == 409
    assert requests.patch(url, json={"operation": "start"}, headers=headers).status_code == 202
    bad = requests.patch(url, json={"operation": "explode"}, headers=headers)
    assert bad.status_code == 400 and bad.json()["errorDesc"] == "operation"
    other_url = f"{base}/compute/instances/{other['id']}"
    fail = requests.patch(other_url, json={"operation": "fail"}, headers=headers).json()
    time.sleep(0.4)
    done = requests.get(f"{base}/actions/{fail['id']}", headers=headers).json()
    assert done["status"] == "ERROR" and "fail" in done["message"].lower()
    dry = requests.patch(other_url, json={"operation": "stop"},
                         headers={**headers, "X-Dry-Run": "true"})
    assert dry.status_code == 200 and dry.headers["X-Dry-Run"] == "true"
