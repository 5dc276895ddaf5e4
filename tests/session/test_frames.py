"""The generic DataFrame layer: flattening, declared times, paging over real sockets."""

from __future__ import annotations

import json
import threading
import warnings

import pandas as pd
import pytest
from werkzeug.wrappers import Request, Response

from benchmarks._records import instance_records
from explorer.apis.itcare import tags
from explorer.errors import ApiError
from explorer.session import Collection, Detect, NumberedPages, SpringPages
from explorer.session.collections import comma_list, epoch_ms, find_collection
from explorer.session.frames import TIME_DTYPE, flatten, records_of, to_frame, to_series
from tests.localserver import json_response

# -- flattening -------------------------------------------------------------------------------


def test_flatten_matches_json_normalize_on_instance_records():
    records = instance_records(300)
    ours = to_frame(records)
    theirs = pd.json_normalize(records)
    assert sorted(ours.columns) == sorted(theirs.columns)
    pd.testing.assert_frame_equal(ours[theirs.columns], theirs)
    # nested objects stay where they were, in the record's own key order
    assert list(ours.columns[:3]) == ["id", "internalResourceId", "name"]
    assert ours.columns.get_loc("network.cidr") < ours.columns.get_loc("tags")


def test_heterogeneous_records_missing_keys_and_mixed_objects():
    records = [
        {"id": 1, "a": {"b": 1, "c": {"d": "x"}}, "l": [1, 2], "r": None},
        {"id": 2, "a": None, "extra": True, "r": {"k": 1}},
        {"id": 3, "a": {"b": 3}, "l": [], "r": "text"},
        {"id": 4, "a": {}},
    ]
    df = to_frame(records)
    assert list(df.columns) == ["id", "a.b", "a.c.d", "l", "r", "r.k", "extra"]
    assert df["a.b"].tolist()[0] == 1 and pd.isna(df["a.b"][1])
    assert df["a.c.d"].tolist()[0] == "x"
    assert df["l"][0] == [1, 2] and df["l"][2] == []
    assert df["r"][2] == "text" and df["r.k"][1] == 1
    assert df["extra"][1] is True or df["extra"][1] == True  # noqa: E712


def test_only_empty_objects_keep_their_column():
    df = to_frame([{"id": 1, "o": {}}, {"id": 2, "o": {}}])
    assert "o" in df.columns


def test_lists_stay_lists_and_explode_flattens_objects():
    records = instance_records(3)
    df = to_frame(records, explode="tags")
    assert len(df) == 3  # one tag each in the benchmark records
    assert {"tags.key", "tags.value"} <= set(df.columns) and "tags" not in df.columns
    dns = to_frame(records, explode="network.dns")
    assert dns["network.dns.alias"].tolist() == ["web0", "web1", "web2"]
    scalars = to_frame([{"id": 1, "z": ["a", "b"]}, {"id": 2, "z": []}], explode="z")
    assert scalars["id"].tolist() == [1, 1, 2] and scalars["z"].tolist()[:2] == ["a", "b"]
    with pytest.raises(KeyError, match="no such column"):
        to_frame(records, explode="nope")


def test_records_of_shapes():
    assert records_of(None) == []
    assert records_of([1]) == [1]
    assert records_of({"content": [1], "totalPages": 1}) == [1]
    assert records_of({"items": [2], "page": 1}) == [2]
    assert records_of({"id": 1}) == [{"id": 1}]
    assert flatten([5]) == {"value": [5]}


# -- declared times ------------------------------------------------------------------------------
SPEC = Collection(columns=("id", "at", "ms", "plain"), iso_times=("at",), epoch_ms=("ms",))


def test_declared_iso_and_epoch_times_become_utc():
    df = to_frame([
        {"id": 1, "at": "2024-01-15T10:00:00+0100", "ms": 1730000000000,
         "plain": "2024-01-15T10:00:00+0100"},
        {"id": 2, "at": "2025-07-06T11:01:21.263Z", "ms": None, "plain": None},
        {"id": 3, "at": None, "ms": 1730000000000},
    ], SPEC)
    assert str(df["at"].dtype) == TIME_DTYPE and str(df["ms"].dtype) == TIME_DTYPE
    assert df["at"][0] == pd.Timestamp("2024-01-15T09:00:00Z")
    assert df["at"][1] == pd.Timestamp("2025-07-06T11:01:21.263Z")
    assert pd.isna(df["at"][2]) and pd.isna(df["ms"][1])
    assert df["ms"][0] == pd.Timestamp("2024-10-27T03:33:20Z")
    # not declared: never guessed from the value
    assert df["plain"][0] == "2024-01-15T10:00:00+0100"


def test_mixed_offsets_in_one_column():
    df = to_frame([{"at": "2024-01-15T10:00:00+0100"}, {"at": "2024-07-15T10:00:00+0200"}],
                  Collection(iso_times=("at",)))
    assert df["at"].tolist() == [pd.Timestamp("2024-01-15T09:00Z"),
                                 pd.Timestamp("2024-07-15T08:00Z")]


def test_bad_declared_time_becomes_nat_with_a_warning():
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        df = to_frame([{"at": "yesterday"}, {"at": "2024-01-01T00:00:00Z"}],
                      Collection(iso_times=("at",)))
    assert pd.isna(df["at"][0]) and df["at"][1] == pd.Timestamp("2024-01-01T00:00Z")
    assert any("'at'" in str(w.message) for w in caught)


def test_declared_time_inside_a_list_applies_after_explode():
    spec = Collection(iso_times=("p.start",))
    df = to_frame([{"id": 1, "p": [{"start": "2024-01-01T00:00:00Z"},
                                   {"start": "2024-01-01T00:15:00Z"}]}], spec, explode="p")
    assert str(df["p.start"].dtype) == TIME_DTYPE and len(df) == 2


def test_empty_collection_has_declared_columns_and_dtypes():
    for payload in ([], None, {"content": [], "totalPages": 0}):
        df = to_frame(payload, SPEC)
        assert list(df.columns) == ["id", "at", "ms", "plain"] and len(df) == 0
        assert str(df["at"].dtype) == TIME_DTYPE and str(df["ms"].dtype) == TIME_DTYPE
    assert to_frame([]).empty


def test_declared_columns_come_first_and_missing_ones_are_added():
    df = to_frame([{"zz": 1, "id": 2}], SPEC)
    assert list(df.columns) == ["id", "at", "ms", "plain", "zz"]
    assert pd.isna(df["at"][0])


def test_series_and_query_helpers():
    s = to_series({"id": 7, "ms": 0, "n": {"a": 1}}, SPEC, name="x")
    assert s.name == "x" and s["n.a"] == 1 and s["ms"] == pd.Timestamp(0, tz="UTC")
    assert "at" in s.index and pd.isna(s["at"])
    assert comma_list(["A", "B"]) == "A,B" and comma_list(None) is None
    assert tags([{"key": "app", "value": "web"}, "env:prod"]) == "app:web,env:prod"
    assert comma_list(False) == "false" and comma_list(5) == "5"
    assert epoch_ms(pd.Timestamp("2024-01-01", tz="Europe/Amsterdam")) == 1704063600000
    assert epoch_ms("2024-01-01") == 1704067200000 and epoch_ms(12) == 12


def test_collection_paths():
    specs = [Collection(path="/a/{id}/b"), Collection(path="/a", base="other_url")]
    assert find_collection(specs, "base_url", "/a/x%2Fy/b") is specs[0]
    assert find_collection(specs, "base_url", "/a") is None
    assert find_collection(specs, "other_url", "/a?x=1") is specs[1]


def test_page_shapes():
    spring = SpringPages().parse({"content": [], "totalElements": 0, "totalPages": 0,
                                  "number": 0, "size": 20, "last": True}, {})
    assert spring.pages == 0 and spring.next is None
    derived = SpringPages().parse({"content": [1], "totalElements": 45, "size": 20,
                                   "number": 0}, {})
    assert derived.pages == 3 and derived.next == {"page": 1}
    jx = NumberedPages().parse({"items": [1], "page": 2, "limit": 10, "total": 11}, {})
    assert (jx.number, jx.pages, jx.next) == (1, 2, None)
    assert SpringPages().parse({"id": 1}, {}) is None and Detect().parse({"id": 1}, {}) is None


# -- paging over real sockets --------------------------------------------------------------------


def spring_server(server, n: int, *, max_size: int = 1000, fail_pages=(), last_only=False):
    """A Spring-paged collection of ``n`` items at /items; pages in ``fail_pages`` 503 once."""
    failed: set[int] = set()
    lock = threading.Lock()

    @server.route("GET", "/items")
    def items(request: Request) -> Response:
        page = int(request.args.get("page", 0))
        size = min(int(request.args.get("size", 20)), max_size)
        with lock:
            if page in fail_pages and page not in failed:
                failed.add(page)
                return Response(b"", status=503)
        content = [{"id": i, "at": "2024-01-01T00:00:00Z"}
                   for i in range(page * size, min(n, (page + 1) * size))]
        pages = -(-n // size)
        body = {"content": content, "number": page, "size": size,
                "last": page >= pages - 1, "first": page == 0,
                "numberOfElements": len(content), "empty": not content}
        if not last_only:
            body.update(totalElements=n, totalPages=pages)
        return json_response(body)

    return failed


def test_paging_follows_every_page_concurrently(server, plain):
    spring_server(server, 250)
    df = plain.frame("/items", paging=SpringPages(100), progress=False)
    assert df["id"].tolist() == list(range(250))
    assert server.count("/items") == 3
    pages = sorted(int(s.query["page"]) for s in server.seen)
    assert pages == [0, 1, 2] and {s.query["size"] for s in server.seen} == {"100"}


def test_paging_one_page(server, plain):
    spring_server(server, 40)
    df = plain.frame("/items", paging=SpringPages(100), progress=False)
    assert len(df) == 40 and server.count("/items") == 1


def test_paging_exact_multiple_of_page_size(server, plain):
    spring_server(server, 300)
    df = plain.frame("/items", paging=SpringPages(100), progress=False)
    assert len(df) == 300 and df["id"].is_unique
    assert server.count("/items") == 3  # no extra, empty page


def test_paging_empty_collection(server, plain):
    spring_server(server, 0)
    spec = Collection(columns=("id", "at"), iso_times=("at",))
    df = plain.frame("/items", collection=spec, paging=SpringPages(), progress=False)
    assert df.empty and list(df.columns) == ["id", "at"]
    assert str(df["at"].dtype) == TIME_DTYPE and server.count("/items") == 1


def test_paging_page_failing_once_is_retried(server, plain):
    failed = spring_server(server, 500, fail_pages={2})
    df = plain.frame("/items", paging=SpringPages(100), progress=False)
    assert failed == {2}
    assert df["id"].tolist() == list(range(500))
    assert server.count("/items") == 6


def test_paging_page_failing_for_good_raises(server):
    import explorer

    session = explorer.connect(base_url=server.url, auth=None, retries=0)

    @server.route("GET", "/items")
    def items(request: Request) -> Response:
        page = int(request.args.get("page", 0))
        if page == 1:
            return Response(b"", status=503)
        return json_response({"content": [{"id": page}], "number": page, "size": 1,
                              "totalPages": 3, "totalElements": 3, "last": page == 2})

    with pytest.raises(ApiError) as err:
        session.frame("/items", paging=SpringPages(1), progress=False)
    assert err.value.status == 503 and "page=1" in err.value.url


def test_limit_stops_early(server, plain):
    spring_server(server, 1000)
    df = plain.frame("/items", paging=SpringPages(100), limit=250, progress=False)
    assert df["id"].tolist() == list(range(250)) and server.count("/items") == 3
    server.seen.clear()
    small = plain.frame("/items", paging=SpringPages(100), limit=7, progress=False)
    assert len(small) == 7 and server.count("/items") == 1
    assert server.seen[0].query["size"] == "7"
    server.seen.clear()
    none = plain.frame("/items", collection=Collection(columns=("id",)), limit=0, progress=False)
    assert none.empty and list(none.columns) == ["id"] and server.count("/items") == 0
    with pytest.raises(ValueError):
        plain.frame("/items", limit=-1)


def test_progress_bar_path_runs(server, plain):
    spring_server(server, 120)
    df = plain.frame("/items", paging=SpringPages(25), progress=True)
    assert len(df) == 120


def test_server_capped_page_size_is_respected(server, plain):
    spring_server(server, 130, max_size=50)
    df = plain.frame("/items", paging=SpringPages(100), progress=False)
    assert df["id"].tolist() == list(range(130)) and server.count("/items") == 3


def test_paging_with_last_only_is_sequential(server, plain):
    spring_server(server, 95, last_only=True)
    df = plain.frame("/items", paging=SpringPages(20), progress=False)
    assert df["id"].tolist() == list(range(95)) and server.count("/items") == 5


def test_default_detects_spring_pages_with_server_size(server, plain):
    spring_server(server, 45)
    df = plain.frame("/items", paging=Detect(), progress=False)
    assert len(df) == 45 and server.count("/items") == 3
    assert "page" not in server.seen[0].query


def test_explicit_page_fetches_that_page_only(server, plain):
    spring_server(server, 300)
    df = plain.frame("/items", paging=SpringPages(100), page=1, size=10,
                     progress=False)
    assert df["id"].tolist() == list(range(10, 20)) and server.count("/items") == 1


def test_jindexe_pages_are_one_based(server, plain):
    data = list(range(1, 24))

    @server.route("GET", "/est")
    def est(request: Request) -> Response:
        page, limit = int(request.args["page"]), int(request.args["limit"])
        return json_response({"items": [{"id": i} for i in data[(page - 1) * limit:
                                                                 page * limit]],
                              "page": page, "limit": limit, "total": len(data)})

    df = plain.frame("/est", paging=NumberedPages(size=10), progress=False)
    assert df["id"].tolist() == data
    assert sorted(int(s.query["page"]) for s in server.seen) == [1, 2, 3]


def test_bare_array_is_one_request(server, plain):
    @server.route("GET", "/arr")
    def arr(request: Request) -> Response:
        return Response(json.dumps([{"id": 1, "o": {"k": "v"}}, {"id": 2}]),
                        mimetype="application/json")

    df = plain.frame("/arr", progress=False, limit=1)
    assert df.to_dict("records") == [{"id": 1, "o.k": "v"}]
    assert server.count("/arr") == 1


def test_hostile_page_counts_and_repeated_pages(server, plain):
    @server.route("GET", "/huge")
    def huge(request: Request) -> Response:
        return json_response({"content": [{"id": 1}], "number": 0, "size": 1,
                              "totalPages": 2**40, "last": False})

    with pytest.raises(ApiError, match="refusing to fetch") as err:
        plain.frame("/huge", paging=SpringPages(), progress=False)
    assert err.value.url.endswith("/huge") and "limit=" in err.value.hint
    # within a limit, the pages it gives are all the same page: an error, never rows
    with pytest.raises(ApiError, match="repeats a page"):
        plain.frame("/huge", paging=SpringPages(), limit=3, progress=False)

    @server.route("GET", "/same")
    def same(request: Request) -> Response:  # ignores ?page=, never says it is the last
        return json_response({"content": [{"id": 1}], "last": False})

    with pytest.raises(ApiError, match="page 2 repeats a page") as err:
        plain.frame("/same", paging=SpringPages(), progress=False)
    assert server.count("/same") == 2 and "limit=" in err.value.hint


def test_single_objects_must_be_objects(server, plain):
    from explorer.session.session import object_of

    with pytest.raises(ApiError, match="expected a JSON object, got a JSON list") as err:
        object_of(plain, [1], "/x")
    assert err.value.provider and err.value.url.endswith("/x")
    assert object_of(plain, {"a": 1}, "/x") == {"a": 1}
