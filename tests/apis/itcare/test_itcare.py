"""ITCare as DataFrames, over real sockets against the sandbox."""

from __future__ import annotations

import pandas as pd
import pytest

from explorer.apis.itcare import INSTANCE, ActionFailed, ActionTimeout
from explorer.errors import ApiError, NotFound
from explorer.sandbox import Faults
from explorer.session.frames import TIME_DTYPE

PREFIX = "/itcare.cegedim.cloud/itcare/compute/instances"


@pytest.fixture(scope="module")
def everything(itcare):
    return itcare.instances(progress=False)


def test_instances_whole_collection_concurrent_pages(sb, itcare):
    sb.reset_counters()
    df = itcare.instances(progress=False)
    assert len(df) == 2500 and df["id"].is_unique
    assert sb.count(PREFIX) == 13  # 200 a page
    assert list(df.columns[:len(INSTANCE.columns)]) == list(INSTANCE.columns)
    for column in INSTANCE.iso_times:
        assert str(df[column].dtype) == TIME_DTYPE
    assert df["creationTime"].notna().all()
    assert isinstance(df["tags"][0], list) and isinstance(df["network.dns"][0], list)
    assert df["id"].is_monotonic_increasing  # the pages came back in order


def test_instances_filters(itcare, everything):
    df = itcare.instances(environments="PRODUCTION", families=["DEBIAN", "RHEL"],
                          tags="app:paie", progress=False)
    expected = everything[(everything["environment"] == "PRODUCTION")
                          & everything["family"].isin(["DEBIAN", "RHEL"])
                          & everything["tags"].map(
                              lambda ts: {"key": "app", "value": "paie"} in ts)]
    assert len(df) > 0 and sorted(df["id"]) == sorted(expected["id"])
    by_map = itcare.instances(tags={"app": "paie"}, statuses=["ACTIVE"], az=("EB-A", "EB-B"),
                              progress=False)
    assert set(by_map["status"]) == {"ACTIVE"} and set(by_map["availabilityZone"]) <= {
        "EB-A", "EB-B"}
    name = everything["name"][0]
    assert itcare.instances(names=name, progress=False)["name"].tolist() == [name]
    assert name not in set(itcare.instances(names=f"!{name}", services=int(
        everything["serviceId"][0]), progress=False)["name"])
    vlan = everything["network.technicalID"][0]
    assert set(itcare.instances(vlan=vlan, progress=False)["network.technicalID"]) == {vlan}
    patched = itcare.instances(included_in_patch_party=False, progress=False)
    assert patched["patchParty.excluded"].all()


def test_instances_limit_sort_and_explode(sb, itcare):
    sb.reset_counters()
    df = itcare.instances(limit=250, sort="name,desc", progress=False)
    assert len(df) == 250 and sb.count(PREFIX) == 2
    assert df["name"].tolist() == sorted(df["name"], reverse=True)
    tags = itcare.instances(limit=10, explode="tags", progress=False)
    assert {"tags.key", "tags.value"} <= set(tags.columns) and len(tags) > 10


def test_paging_edges_one_page_exact_multiple_empty(sb, itcare, everything):
    service = int(everything["serviceId"][0])
    sb.reset_counters()
    one = itcare.instances(services=service, progress=False)
    assert 0 < len(one) < 200 and sb.count(PREFIX) == 1
    assert len(one) == (everything["serviceId"] == service).sum()
    sb.reset_counters()
    capped = itcare.frame("/compute/instances", page_size=2500, progress=False)
    assert len(capped) == 2500 and sb.count(PREFIX) == 2  # the server caps pages at 2000
    sb.reset_counters()
    exact = itcare.frame("/compute/instances", page_size=500, progress=False)
    assert len(exact) == 2500 and sb.count(PREFIX) == 5
    empty = itcare.instances(names="NO-SUCH-INSTANCE", progress=False)
    assert empty.empty and list(empty.columns) == list(INSTANCE.columns)
    assert str(empty["creationTime"].dtype) == TIME_DTYPE


def test_page_failing_once_is_retried(sb, itcare):
    sb.faults = Faults(script=[None, None, 503], match=PREFIX, retry_after=0)
    sb.reset_counters()
    df = itcare.instances(progress=False)
    assert len(df) == 2500 and df["id"].is_unique
    assert sb.faults.injected[503] == 1 and sb.count(PREFIX) == 14


def test_instance_series_with_sub_resources(itcare, everything):
    iid = int(everything["id"][0])
    bare = itcare.instance(iid)
    assert isinstance(bare, pd.Series) and bare["id"] == iid and "storage.fileSystems" \
        not in bare.index
    assert isinstance(bare["creationTime"], pd.Timestamp) and bare["creationTime"].tz
    full = itcare.instance(iid, include=("networks", "storage", "snapshots"))
    assert isinstance(full["networks"], list) and full["networks"][0]["ipAddress"]
    assert full["storage.totalSizeDisks"] == int(bare["totalSizeDisks"])
    assert isinstance(full["storage.fileSystems"], list) and isinstance(full["snapshots"], list)
    fs = itcare.filesystems(iid)
    assert list(fs.columns[:4]) == ["mountingPoint", "type", "sizeOf", "free"]
    assert fs.attrs["totalSizeDisks"] == full["storage.totalSizeDisks"]
    snaps = itcare.snapshots(iid)
    assert "creationDate" in snaps.columns and str(snaps["creationDate"].dtype) == TIME_DTYPE
    assert len(itcare.networks(iid)) == 1
    with pytest.raises(ValueError, match="unknown include"):
        itcare.instance(iid, include="disks")


def test_resources_services_environments(itcare):
    resources = itcare.resources(environments="QA", progress=False)
    assert len(resources) > 0 and set(resources["environment"]) == {"QA"}
    assert str(resources["creationTime"].dtype) == TIME_DTYPE
    services = itcare.services(progress=False)
    assert len(services) == 40 and str(services["creationTime"].dtype) == TIME_DTYPE
    one = itcare.service(int(services["id"][0]))
    assert one["name"] == services["name"][0]
    envs = itcare.environments()
    assert sorted(envs["name"]) == ["DEVELOPMENT", "PRODUCTION", "QA", "TEST"]


def test_actions_and_action(itcare):
    actions = itcare.actions()
    assert len(actions) >= 40
    for column in ("submittedAt", "lastUpdatedAt", "completedAt"):
        assert str(actions[column].dtype) == TIME_DTYPE
    errors = itcare.actions(statuses="ERROR")
    assert len(errors) and set(errors["status"]) == {"ERROR"}
    assert itcare.actions(statuses="IN_PROGRESS", resource_name="NO-SUCH").empty
    one = itcare.action(int(actions["id"][0]))
    assert one["status"] in ("SUCCESS", "ERROR") and isinstance(one["submittedAt"],
                                                                 pd.Timestamp)
    assert itcare.action(actions.iloc[0])["id"] == one["id"]


def test_deliberate_patch_then_wait_success(sb, itcare, everything):
    sb.action_seconds = 0.3
    iid = int(everything[everything["status"] == "ACTIVE"]["id"].iloc[0])
    resp = itcare.request("PATCH", itcare.path("compute", "instances", iid),
                          json={"operation": "reset"})
    assert resp.status_code == 202 and resp.json()["status"] == "IN_PROGRESS"
    done = itcare.wait(resp, timeout=30, interval=0.1, progress=False)
    assert done["status"] == "SUCCESS" and isinstance(done["completedAt"], pd.Timestamp)


def test_wait_error_raises_with_the_action_message(sb, itcare, everything):
    sb.action_seconds = 0.2
    iid = int(everything[everything["status"] == "ACTIVE"]["id"].iloc[1])
    ack = itcare.request("PATCH", itcare.path("compute", "instances", iid),
                         json={"operation": "reset", "options": {"simulateError": True}}).json()
    with pytest.raises(ActionFailed, match="Simulated failure") as err:
        itcare.wait(ack["id"], timeout=30, interval=0.1, progress=False)
    assert err.value.action["status"] == "ERROR" and "/actions/" in err.value.url


def test_wait_timeout_is_typed(sb, itcare, everything):
    sb.action_seconds = 30
    iid = int(everything[everything["status"] == "ACTIVE"]["id"].iloc[2])
    ack = itcare.request("PATCH", itcare.path("compute", "instances", iid),
                         json={"operation": "reset"}).json()
    with pytest.raises(ActionTimeout) as err:
        itcare.wait(ack, timeout=0.3, interval=0.1, progress=False)
    assert isinstance(err.value, TimeoutError) and "IN_PROGRESS" in str(err.value)


def test_wait_on_a_refused_response_is_the_typed_error(itcare):
    """A response handed to ``wait`` is decoded like any answer: a refusal is the provider's
    typed error (not a JSONDecodeError from inside, nor a wait on nothing)."""
    refused = itcare.request("PATCH", itcare.path("compute", "instances", 1),
                             json={"operation": "reset"})
    assert refused.status_code == 404
    with pytest.raises(NotFound) as missing:
        itcare.wait(refused, timeout=1, interval=0.1, progress=False)
    assert "/compute/instances/1" in missing.value.url


def test_errors_in_itcare_words(itcare):
    with pytest.raises(NotFound) as missing:
        itcare.instance(1)
    assert missing.value.status == 404 and "empty body" in str(missing.value)
    assert "/compute/instances/1" in missing.value.url
    with pytest.raises(ApiError) as bad:
        itcare.instances(families="PLAN9", progress=False)
    text = str(bad.value)
    assert bad.value.status == 400 and "Error on field 'families'" in text
    assert "INVALID_FIELD_VALUE" in text and "families=PLAN9" in bad.value.url
    assert bad.value.params["families"] == "PLAN9"


def test_ids_cannot_reach_another_route(sb, itcare):
    sb.reset_counters()
    with pytest.raises(ApiError) as err:
        itcare.instance("1/../../actions")
    assert "%2F" in err.value.url and err.value.status in (400, 404)
    with pytest.raises(NotFound, match="'..' is not a valid id"):
        itcare.instance("..")
