"""IcdBrowser driven the way a user does: type, click, pick rows, walk up, fill the basket."""

from __future__ import annotations

import pytest

import explorer
from explorer.errors import NotFound
from explorer.widgets import CredentialForm, IcdBrowser

from .conftest import assert_no_secret


@pytest.fixture(scope="module")
def icd(sb):
    creds = sb.credentials("icd")
    session = explorer.connect("icd", sandbox=True, **creds)
    yield session
    session.close()


@pytest.fixture
def browser(icd):
    return IcdBrowser(icd)


def _search(browser: IcdBrowser, text: str) -> None:
    browser.query.value = text
    browser.search_button.click()


def test_search_shows_a_table_and_a_pick_list(browser):
    _search(browser, "cholera")
    results = browser.results
    assert {"code", "title", "score", "chapter", "id"} <= set(results.columns)
    assert results.iloc[0]["code"] == "1A00" and results.iloc[0]["title"] == "Cholera"
    assert "<table" in browser.table.value and "explorer-results" in browser.table.value
    assert "1A00" in browser.table.value and "Cholera" in browser.table.value
    labels = [label for label, _ in browser.result_list.options]
    assert len(labels) == min(len(results), browser.max_results)
    assert labels[0].startswith("1A00") and "Cholera" in labels[0]
    assert browser.error is None and browser.message.value == ""


def test_search_shows_progress_while_it_works(browser, monkeypatch):
    seen = []
    real = browser.session.search

    def spy(text):
        seen.append((browser.busy.active, browser.busy.bar.layout.visibility,
                     browser.search_button.disabled, browser.busy.label.value))
        return real(text)

    monkeypatch.setattr(browser.session, "search", spy)
    _search(browser, "cholera")
    assert seen == [(True, "visible", True, "Searching 'cholera'…")]
    assert not browser.busy.active and browser.busy.bar.layout.visibility == "hidden"
    assert not browser.search_button.disabled


def test_no_match_is_an_empty_table_with_a_message(browser):
    _search(browser, "zzzqqqxxx")
    assert browser.results.empty and "code" in browser.results.columns
    assert "No match" in browser.message.value
    assert browser.result_list.options == ()


def test_picking_a_row_shows_the_entity_children_and_ancestors(browser):
    _search(browser, "cholera")
    browser.result_list.value = browser.result_list.options[0][1]
    entity = browser.entity
    assert entity["code"] == "1A00" and entity["title"] == "Cholera"
    details = browser.details.value
    for text in ("1A00", "Cholera", "Vibrio cholerae", "Inclusions", "cholera syndrome",
                 "Postcoordination axes", "infectiousAgent"):
        assert text in details, text
    # breadcrumb: chapter first, then the blocks down to the parent
    crumbs = browser.ancestors
    assert crumbs.iloc[0]["code"] == "01" and crumbs.iloc[0]["class_kind"] == "chapter"
    buttons = [b for b in browser.breadcrumb.children if hasattr(b, "click")]
    assert len(buttons) == len(crumbs) and buttons[0].description == "01"
    # blocks have no code: their range names them
    assert [b.description for b in buttons[1:]] == crumbs["code_range"].tolist()[1:]
    assert not any("nan" in b.description for b in buttons)
    assert not browser.add_button.disabled


def test_walk_up_the_breadcrumb_and_down_the_children(browser):
    _search(browser, "cholera")
    browser.select(0)
    leaf = browser.entity
    parent_uri = browser.ancestors.iloc[-1]["uri"]
    # click the last breadcrumb step: the parent block
    buttons = [b for b in browser.breadcrumb.children if hasattr(b, "click")]
    buttons[-1].click()
    assert browser.entity["uri"] == parent_uri
    children = browser.entity_children
    assert leaf["uri"] in children["uri"].tolist()
    assert len(browser.child_list.options) == len(children)
    # pick the child we came from: back at the leaf
    browser.child_list.value = leaf["uri"]
    assert browser.entity["code"] == "1A00"
    # up() goes one step up; the chapter has no ancestors
    browser.up()
    assert browser.entity["uri"] == parent_uri
    [b for b in browser.breadcrumb.children if hasattr(b, "click")][0].click()
    assert browser.entity["class_kind"] == "chapter" and browser.ancestors.empty
    assert len(browser.entity_children) > 0


def test_basket_collects_chosen_codes(browser):
    _search(browser, "cholera")
    browser.select(0)
    browser.add_button.click()
    browser.add_button.click()           # twice: still one row
    assert browser.selection["code"].tolist() == ["1A00"]
    browser.up()
    browser.add_button.click()
    assert len(browser.selection) == 2
    assert {"code", "title", "id", "uri"} <= set(browser.selection.columns)
    assert "Cholera" in browser.basket.value
    browser.basket_list.value = (0,)
    browser.remove_button.click()
    assert browser.selection["code"].tolist() != ["1A00"] and len(browser.selection) == 1
    browser.clear_button.click()
    assert browser.selection.empty and browser.basket_list.options == ()


def test_errors_show_in_the_widget_not_as_tracebacks(browser, icd):
    bad = icd.base_url + "/icd/release/11/2026-01/mms/999999999"
    assert browser.show(bad) is None
    assert isinstance(browser.error, NotFound)
    assert "999999999" in browser.message.value and "[icd]" in browser.message.value
    # still usable
    _search(browser, "cholera")
    assert browser.error is None and len(browser.results) > 0


def test_search_button_searches_once_per_query(browser, monkeypatch):
    calls = []
    real = browser.session.search
    monkeypatch.setattr(browser.session, "search", lambda text: calls.append(text) or real(text))
    browser.query.value = "cholera"          # Enter (or leaving the box) searches
    browser.search_button.click()            # the same query on show: nothing more
    assert calls == ["cholera"]
    browser.search("cholera")                # an explicit search always asks again
    assert calls == ["cholera", "cholera"]


def test_empty_query_asks_for_text(browser):
    browser.search_button.click()
    assert "Type something" in browser.message.value


def test_browser_waits_for_the_form(sb):
    form = CredentialForm("icd", sandbox=sb, live=False)
    browser = IcdBrowser(form)
    assert browser.session is None and browser.search_button.disabled
    assert "Waiting" in browser.header.value
    browser.search("cholera")
    assert browser.results.empty
    form.connect_button.click()
    assert browser.session is form.session and not browser.search_button.disabled
    _search(browser, "cholera")
    assert browser.results.iloc[0]["code"] == "1A00"
    assert_no_secret(browser, form.session.flow.current.access_token)


def test_browser_on_an_already_connected_form(sb):
    form = CredentialForm("icd", sandbox=sb, live=False)
    form.connect()
    browser = IcdBrowser(form)
    assert browser.session is form.session and "sandbox" in browser.header.value


def test_browser_refuses_another_provider(sb):
    with pytest.raises(ValueError):
        IcdBrowser(CredentialForm("itcare", sandbox=sb, live=False))
