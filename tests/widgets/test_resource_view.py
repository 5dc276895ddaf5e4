"""ResourceView driven the way a user does: pick a collection, fill filters, click Load."""

from __future__ import annotations

import datetime as dt

import ipywidgets as w
import pandas as pd
import pytest
import traitlets

import explorer
from explorer.apis import gopacs as gopacs_api
from explorer.apis import itcare as itcare_api
from explorer.widgets import CredentialForm, DataGrid, ResourceView


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
    view.filters["environments"].value = ["PRODUCTION"]
    view.load_button.click()
    assert view.error is None, view.message.value
    env_columns = [c for c in view.frame.columns if c.lower() in ("environment",
                                                                 "environment.name")]
    assert env_columns and set(view.frame[env_columns[0]]) == {"PRODUCTION"}
    # the rows are in the data grid (no HTML table), its shape said underneath the filters
    assert isinstance(view.grid, DataGrid) and view.grid.df is view.frame
    assert view.grid.layout.display != "none" and "<table" not in view.summary.value
    assert f"{len(view.frame)} rows × 53 columns" in view.summary.value


def test_limit_and_other_collections(itcare):
    view = ResourceView(itcare)
    view.limit.value = 5
    view.load_button.click()
    assert len(view.frame) == 5
    assert "the first 5" in view.summary.value
    view.collection.value = "environments"
    view.load_button.click()
    assert view.error is None and len(view.frame) >= 1
    assert "rows" in view.summary.value and view.grid.df is view.frame


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


# -- typed filters (issue #14) ----------------------------------------------------------------
def _label(view, name):
    """The label shown above a filter (the cell's first child)."""
    cell = next(c for c in view.filter_box.children if c.children[1] is view.filters[name])
    return cell.children[0].value


@pytest.mark.parametrize(("api", "collection"), [
    (itcare_api, itcare_api.INSTANCE), (itcare_api, itcare_api.ACTION),
    (gopacs_api, gopacs_api.MACHINE_ANNOUNCEMENT), (gopacs_api, gopacs_api.CLEARED_BUCKET),
])
def test_each_filter_gets_the_widget_of_its_kind(sb, api, collection):
    session = explorer.connect(api.PROVIDER.name, sandbox=True,
                               **sb.credentials(api.PROVIDER.name))
    view = ResourceView(session)
    view.collection.value = collection.name
    assert list(view.filters) == [f.name for f in collection.filters]
    for flt in collection.filters:
        widget = view.filters[flt.name]
        if flt.kind == "choices" and flt.choices:
            assert isinstance(widget, w.TagsInput) and widget.allowed_tags == list(flt.choices)
            assert widget.value == []
        elif flt.kind == "choice" and flt.choices:
            assert isinstance(widget, w.Dropdown)
            assert widget.options == (("any", None), *((c, c) for c in flt.choices))
            assert widget.label == "any" and widget.value is None
        elif flt.kind == "bool":
            assert isinstance(widget, w.Dropdown) and widget.label == "any"
            assert [v for _, v in widget.options] == [None, True, False]
        elif flt.kind == "date":
            assert isinstance(widget, w.DatePicker) and widget.value is None
        elif flt.choices:  # open values with suggestions
            assert isinstance(widget, w.Combobox) and not widget.ensure_option
        else:  # open values: free text
            assert type(widget) is w.Text
        # a human label on show; the API parameter and the help on hover
        assert flt.title in _label(view, flt.name)
        assert f"API parameter: {flt.query_name}" in widget.tooltip
        assert flt.help in widget.tooltip
        assert f"API parameter: {flt.query_name}" in _label(view, flt.name)  # its title=
    session.close()


def test_known_values_are_declared_where_the_api_documents_them():
    kinds = {f.name: (f.kind, f.choices) for f in itcare_api.INSTANCE.filters}
    for name in ("types", "families", "environments", "statuses", "backup_status"):
        assert kinds[name][0] == "choices" and kinds[name][1], name
    assert kinds["included_in_patch_party"][0] == "bool"
    assert "EB-A" in kinds["az"][1]  # suggestions: other zones can still be typed
    machine = {f.name: f.kind for f in gopacs_api.MACHINE_ANNOUNCEMENT.filters}
    assert machine == {"postal_code": "text", "start": "date", "end": "date",
                       "type": "choice", "state": "choice"}


def test_no_raw_parameter_names_as_labels(itcare):
    view = ResourceView(itcare)
    view.collection.value = "instances"
    labels = {name: _label(view, name) for name in view.filters}
    assert ">Backup status<" in labels["backup_status"]
    assert ">In the patch party<" in labels["included_in_patch_party"]
    assert ">Availability zones<" in labels["az"]
    assert "included_in_patch_party" not in labels["included_in_patch_party"]
    # a compact grid of filters: cells of a minimum width, as many a row as fit
    assert isinstance(view.filter_box, w.GridBox)
    assert "repeat(auto-fill" in view.filter_box.layout.grid_template_columns


def test_multi_select_and_tri_state_filters_reach_the_api(itcare):
    view = ResourceView(itcare)
    view.limit.value = 1000
    view.filters["families"].value = ("DEBIAN", "RHEL")  # a tuple does too
    view.filters["environments"].value = ["PRODUCTION"]
    view.filters["included_in_patch_party"].value = False
    frame = view.load()
    assert view.error is None, view.message.value
    assert len(frame) and set(frame["family"]) <= {"DEBIAN", "RHEL"}
    assert set(frame["environment"]) == {"PRODUCTION"}
    assert frame["patchParty.excluded"].all()
    expected = itcare.instances(families=["DEBIAN", "RHEL"], environments="PRODUCTION",
                                included_in_patch_party=False, progress=False)
    assert frame["id"].tolist() == expected["id"].head(1000).tolist()
    # "any" again: the filter is dropped
    view.filters["included_in_patch_party"].value = None
    assert view.filters["included_in_patch_party"].label == "any"
    assert "included_in_patch_party" not in view.filter_values()
    # only known values go into a multi-select
    with pytest.raises(traitlets.TraitError):
        view.filters["families"].value = ["DEBIANN"]


def test_date_and_choice_filters_reach_the_api(gopacs):
    view = ResourceView(gopacs)
    view.collection.value = "machine_announcements"
    start, end = dt.date(2025, 6, 1), dt.date(2025, 6, 8)
    view.filters["start"].value = start
    view.filters["end"].value = end
    view.filters["state"].value = "ANNOUNCEMENT_CLOSED"
    assert view.filter_values() == {"start": start, "end": end, "state": "ANNOUNCEMENT_CLOSED"}
    frame = view.load()
    assert view.error is None, view.message.value
    assert len(frame) and set(frame["announcementState"]) == {"ANNOUNCEMENT_CLOSED"}
    lo, hi = pd.Timestamp(start, tz="UTC"), pd.Timestamp(end, tz="UTC")
    assert (frame["problemPeriod.endTime"] > lo).all()
    assert (frame["problemPeriod.startTime"] < hi).all()
    # dates filtered by the session's helper (public reporting has no time parameter)
    view.collection.value = "cleared_buckets"
    view.filters["end"].value = dt.date(2025, 1, 1)
    view.limit.value = 20
    frame = view.load()
    assert view.error is None and len(frame) == 20
    assert (frame["startTime"] < pd.Timestamp("2025-01-01", tz="UTC")).all()


def test_a_collection_without_filters_hides_the_filter_box(itcare):
    view = ResourceView(itcare)
    view.collection.value = "environments"
    assert view.filters == {} and view.filter_box.layout.display == "none"
    assert "no filters" in view.about.value and "/compute/environments" in view.about.value
    view.collection.value = "instances"
    assert view.filter_box.layout.display == "grid" and len(view.filter_box.children) == 14
