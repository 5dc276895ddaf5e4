"""Jindexe as DataFrames, over real sockets against the sandbox; route families enforced."""

from __future__ import annotations

import pandas as pd
import pytest

import explorer
from explorer.apis.jindexe import ESTABLISHMENT, POST
from explorer.errors import ApiError, AuthenticationError, ConfigurationError, NotFound
from explorer.sandbox import Faults
from explorer.session.frames import TIME_DTYPE

HOST = "/api.jindexe.net"


@pytest.fixture
def key_only(sb, clean_env):
    """A Jindexe session with the API key but no user account."""
    creds = sb.credentials("jindexe")
    return explorer.connect("jindexe", api_key=creds["api_key"], base_url=creds["base_url"])


def test_establishments_follow_one_based_pages(sb, jx):
    sb.reset_counters()
    df = jx.establishments(progress=False)
    assert len(df) == 300 and df["id"].tolist() == list(range(1, 301))
    assert sb.count(HOST + "/public/establishments") == 3  # 100 a page, pages 1..3
    assert list(df.columns) == list(ESTABLISHMENT.columns)
    assert str(df["createdAt"].dtype) == TIME_DTYPE and str(df["updatedAt"].dtype) == TIME_DTYPE
    assert isinstance(df["categories"][0], list)
    sb.reset_counters()
    exact = jx.frame("/public/establishments", page_size=50, progress=False)
    assert len(exact) == 300 and sb.count(HOST + "/public/establishments") == 6
    assert len(jx.establishments(limit=5, progress=False)) == 5


def test_establishment_filters_and_empty_result(jx):
    lyon = jx.establishments(city="lyon", progress=False)
    assert len(lyon) > 0 and set(lyon["address.city"]) == {"Lyon"}
    bakeries = jx.establishments(category="boulangerie", progress=False)
    assert all("boulangerie" in c for c in bakeries["categories"])
    nothing = jx.establishments(q="zzz-nothing-zzz", progress=False)
    assert nothing.empty and list(nothing.columns) == list(ESTABLISHMENT.columns)
    assert str(nothing["createdAt"].dtype) == TIME_DTYPE
    hours = jx.establishments(limit=3, explode="openingHours", progress=False)
    assert {"openingHours.day", "openingHours.open"} <= set(hours.columns)


def test_establishment_series_and_not_found(jx):
    one = jx.establishment(7)
    assert isinstance(one, pd.Series) and one["id"] == 7
    assert isinstance(one["createdAt"], pd.Timestamp) and one["address.country"] == "FR"
    with pytest.raises(NotFound) as err:
        jx.establishment(99999)
    assert "Establishment not found" in str(err.value) and "(not_found)" in str(err.value)
    with pytest.raises(ApiError) as escaped:
        jx.establishment("../../user/me")
    assert escaped.value.status == 404 and "%2F" in escaped.value.url


def test_me_listing_posts(jx):
    me = jx.me()
    assert me["email"] and isinstance(me["establishments"], list) and me["establishments"]
    managed = [e["id"] for e in me["establishments"]]
    listing = jx.listing(managed[0])
    assert listing["id"] == managed[0] and listing["role"] in ("owner", "manager")
    assert isinstance(listing["updatedAt"], pd.Timestamp) and "stats.posts" in listing.index
    sizes = {}
    for eid in managed:
        posts = jx.posts(eid, progress=False)
        assert list(posts.columns) == list(POST.columns)
        assert str(posts["publishedAt"].dtype) == TIME_DTYPE
        sizes[eid] = len(posts)
        assert len(posts) == jx.listing(eid)["stats.posts"]
    assert any(sizes.values())
    with pytest.raises(ApiError) as err:
        jx.listing(next(i for i in range(1, 301) if i not in managed))
    assert err.value.status == 403 and "insufficient_scope" in str(err.value)
    assert "jx.me()" in err.value.hint


def test_route_families_key_only_session(key_only):
    assert len(key_only.establishments(limit=3, progress=False)) == 3  # /public/: key only
    for call in (key_only.me, lambda: key_only.listing(1), lambda: key_only.posts(1)):
        with pytest.raises(ConfigurationError) as err:
            call()
        text = str(err.value)
        assert "JINDEXE_USERNAME" in text and "JINDEXE_PASSWORD" in text and "token" in text


def test_wrong_api_key_in_jindexe_words(sb, clean_env):
    creds = sb.credentials("jindexe")
    wrong = explorer.connect("jindexe", api_key="0" * 40, base_url=creds["base_url"])
    with pytest.raises(AuthenticationError) as err:  # which credential is wrong, said
        wrong.establishments(progress=False)
    text = str(err.value)
    assert err.value.status == 401 and "X-API-KEY" in text and "invalid_api_key" in text
    assert "the API key was refused" in text
    assert "JINDEXE_API_KEY" in err.value.hint and "0" * 40 not in text


def test_bad_paging_parameter_named(jx):
    with pytest.raises(ApiError) as err:
        jx.frame("/public/establishments", page=0, progress=False)
    assert err.value.status == 400 and "page=0" in str(err.value)
    assert "positive" in str(err.value)


def test_posts_page_failing_once_is_retried(sb, jx):
    eid = max(jx.me()["establishments"], key=lambda e: jx.listing(e["id"])["stats.posts"])["id"]
    expected = jx.posts(eid, progress=False)
    sb.faults = Faults(script=[None, 502], match=HOST + "/pro/", retry_after=0)
    again = jx.frame(jx.path("pro", "establishments", eid, "posts"), page_size=10,
                     progress=False)
    assert sb.faults.injected[502] == 1
    assert again["id"].tolist() == expected["id"].tolist()
