"""ResourceView driven the way a user does: pick a collection, fill filters, click Load."""

from __future__ import annotations

import pytest

import explorer
from explorer.widgets import CredentialForm, ResourceView


@pytest.fixture(scope="module")
def itcare(sb):
    session = explorer.connect("itcare", sandbox=True, **sb.credentials("itcare"))
    yield session
    session.close()


@pytest.fixture(scope="module")
def gopacs(sb):
    session = explorer.connect("gopacs", sandbox=True, **sb.credentials("gopacs"))
    yield session
    session.close()


def test_itcare_collections_and_filters(itcare):
    view = ResourceView(itcare)
    assert {"instances", "services", "environments", "actions"} <= set(view.collection.options)
    view.collection.value = "instances"
    assert "environments" in view.filters
    view.load_button.click()
    assert view.error is None, view.message.value
    everything = view.frame
    assert 0 < len(everything) <= view.limit.value
    view.filters["environments"].value = "PRODUCTION"
    view.load_button.click()
    assert view.error is None, view.message.value
    env_columns = [c for c in view.frame.columns if c.lower() in ("environment",
                                                                 "environment.name")]
    assert env_columns and set(view.frame[env_columns[0]]) == {"PRODUCTION"}
    assert "<table" in view.table.value and "PRODUCTION" in view.table.value


def test_limit_and_other_collections(itcare):
    view = ResourceView(itcare)
    view.limit.value = 5
    view.load_button.click()
    assert len(view.frame) == 5
    view.collection.value = "environments"
    view.load_button.click()
    assert view.error is None and len(view.frame) >= 1
    assert "rows" in view.table.value


def test_gopacs_public_collections(gopacs):
    view = ResourceView(gopacs)
    assert "announcements" in view.collection.options
    for name in view.collection.options:
        view.collection.value = name
        view.load_button.click()
        assert view.error is None, (name, view.message.value)
        assert not view.frame.empty, name


def test_errors_show_in_the_widget(sb):
    creds = {**sb.credentials("itcare"), "base_url": "http://127.0.0.1:9/itcare"}
    session = explorer.connect("itcare", sandbox=True, retries=0, **creds)
    view = ResourceView(session)
    view.load_button.click()
    assert view.error is not None
    assert "[itcare]" in view.message.value and "127.0.0.1:9" in view.message.value
    assert not view.load_button.disabled and not view.busy.active


def test_view_waits_for_a_form(sb):
    form = CredentialForm("gopacs", sandbox=sb, live=False)
    view = ResourceView(form)
    assert view.load_button.disabled and "Waiting" in view.header.value
    form.connect_button.click()
    assert view.session is form.session and not view.load_button.disabled
    view.load_button.click()
    assert view.error is None and not view.frame.empty


def test_unknown_provider_is_refused(sb):
    session = explorer.connect("icd", sandbox=True, **sb.credentials("icd"))
    with pytest.raises(ValueError):
        ResourceView(session)
