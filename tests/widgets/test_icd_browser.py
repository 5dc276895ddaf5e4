"""IcdBrowser driven the way a user does: type, open results, walk the hierarchy, fill the
basket, copy and export it — through the widgets' own events, without a browser."""

from __future__ import annotations

import json

import pandas as pd
import pytest

import explorer
from explorer.errors import NotFound
from explorer.widgets import CredentialForm, DataGrid, IcdBrowser
from explorer.widgets._util import all_widgets

from .conftest import assert_no_secret

CHOLERA = "http://id.who.int/icd/release/11/2025-01/mms/257068234"


@pytest.fixture(scope="module")
def icd(sb):
    creds = sb.credentials("icd")
    session = explorer.connect("icd", sandbox=True, cache=False, progress=False, **creds)
    yield session
    session.close()


@pytest.fixture
def browser(icd):
    return IcdBrowser(icd)


def _search(browser: IcdBrowser, text: str) -> None:
    browser.query.value = text            # Enter in the box
    browser.search_button.click()


def _click_result(browser: IcdBrowser, row: int) -> None:
    """What a click on a result row sends from the browser."""
    browser.results_grid._handle_event({"event": "open", "row": row})


def _pane_click(pane, ref: str, action: str = "open") -> None:
    pane._handle({"event": action, "ref": ref})


def test_one_results_grid_no_duplicate_table(browser):
    _search(browser, "cholera")
    grid = browser.results_grid
    assert isinstance(grid, DataGrid)
    assert grid.visible_columns == ["code", "title", "chapter", "score"]
    assert grid.stretch == browser.basket_grid.stretch == "title"  # titles take the room
    assert grid.df["code"].tolist()[:2] == ["1A00", "QC90.00"]
    assert browser.results.iloc[0]["title"] == "Cholera"
    # the results are shown once: no HTML table, no listbox besides the grid
    kinds = {type(x).__name__ for x in all_widgets(browser)}
    assert not kinds & {"Select", "SelectMultiple"}
    html = json.dumps([x.get_state() for x in all_widgets(browser)], default=str)
    assert "<table" not in html and "\u00a0" not in html  # no nbsp-padded codes
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


def test_no_match_is_an_empty_grid_with_a_message(browser):
    _search(browser, "zzzqqqxxx")
    assert browser.results.empty and "code" in browser.results.columns
    assert "No match" in browser.message.value and len(browser.results_grid.df) == 0


def test_a_click_on_a_result_opens_the_entity(browser):
    _search(browser, "cholera")
    _click_result(browser, 0)
    entity = browser.entity
    assert entity["code"] == "1A00" and entity["title"] == "Cholera"
    html = browser.details.html
    for text in ("1A00", "Cholera", "Vibrio cholerae", "Inclusions", "cholera syndrome",
                 "Postcoordination axes", "Infectious agent", "Open in WHO"):
        assert text in html, text
    assert "https://icd.who.int/browse/" in html and 'target="_blank"' in html
    # ancestors as links, chapter first
    assert browser.ancestors.iloc[0]["code"] == "01"
    assert f'data-ref="{browser.ancestors.iloc[0]["uri"]}"' in html
    assert browser.results_grid.selected == 0
    assert not browser.add_button.disabled and "1A00" in browser.add_button.description


def test_arrow_keys_move_through_results_and_the_entity_follows(browser):
    _search(browser, "cholera")
    browser.results_grid.selected = 1          # what ArrowDown syncs
    assert browser.entity["code"] == "QC90.00"
    browser.results_grid.selected = 0
    assert browser.entity["code"] == "1A00"


def test_hierarchy_from_the_chapter_down_with_no_children_under_a_leaf(browser):
    browser.search("cholera")
    browser.select("1A00")
    tree = browser.hierarchy
    assert tree.iloc[0]["code"] == "01" and tree.iloc[0]["depth"] == 0
    path = tree[tree["open"]]["code"].tolist()
    assert path[:3] == ["01", "1A00-1A40.Z", "1A00-1A0Z"]
    current = tree[tree["current"]]
    assert current["code"].tolist() == ["1A00"] and current["depth"].tolist() == [3]
    # siblings of each open node are there, collapsed
    assert {"1A01", "1A03"} <= set(tree[tree["depth"] == 3]["code"])
    html = browser.tree.html
    assert "(no children)" in html and 'class="xib-node xib-current"' in html
    assert 'aria-expanded="true"' in html


def test_expand_and_collapse_in_the_tree(browser):
    browser.search("cholera")
    browser.select(0)
    uri_1a03 = browser.hierarchy.set_index("code").loc["1A03", "uri"]
    _pane_click(browser.tree, uri_1a03, "toggle")              # a click on its caret
    codes = browser.hierarchy["code"].tolist()
    assert "1A03.0" in codes and codes.index("1A03.0") == codes.index("1A03") + 1
    _pane_click(browser.tree, uri_1a03, "toggle")
    assert "1A03.0" not in browser.hierarchy["code"].tolist()
    # a click on a node opens it, keeping the branches open
    _pane_click(browser.tree, uri_1a03)
    assert browser.entity["code"] == "1A03"
    assert "1A03.0" in browser.hierarchy["code"].tolist()


def test_links_in_the_entity_open_that_entity(browser):
    browser.show("8B20")
    html = browser.details.html
    assert "Exclusions" in html and "sequelae of stroke" in html
    excluded = browser.entity_terms.query("kind == 'exclusion'").iloc[0][
        "linearization_reference"]
    assert f'data-ref="{excluded}"' in html
    _pane_click(browser.details, excluded)
    assert browser.entity["uri"] == excluded
    # and the breadcrumb: up to the block
    parent = browser.ancestors.iloc[-1]["uri"]
    _pane_click(browser.details, parent)
    assert browser.entity["uri"] == parent


def test_all_chapters_at_the_top_of_the_tree(browser):
    _pane_click(browser.tree, "", "chapters")
    tree = browser.hierarchy
    assert len(tree) >= 26 and tree["code"].tolist()[:2] == ["01", "02"]
    browser.select("1A00")              # the branch opens under its chapter, chapters stay
    tree = browser.hierarchy
    assert tree.iloc[0]["code"] == "01" and "02" in tree[tree["depth"] == 0]["code"].tolist()


def test_basket_add_remove_clear(browser):
    browser.search("cholera")
    browser.select(0)
    browser.add_button.click()
    browser.add_button.click()           # twice: still one row
    assert browser.selection["code"].tolist() == ["1A00"]
    browser.up()
    browser.add()
    assert browser.selection["code"].isna().sum() == 0  # a block is named by its range
    assert browser.selection["code"].tolist() == ["1A00", "1A00-1A0Z"]
    assert browser.basket_grid.df["code"].tolist() == ["1A00", "1A00-1A0Z"]
    assert browser.basket_grid.visible_columns == ["code", "title", "class_kind", "chapter"]
    browser.remove_button.click()        # nothing highlighted: says so
    assert "Click a basket row" in browser.message.value and len(browser.selection) == 2
    browser.basket_grid._handle_event({"event": "open", "row": 0})   # click a basket row
    browser.remove_button.click()
    assert browser.selection["code"].tolist() == ["1A00-1A0Z"]
    browser.add(CHOLERA)
    browser.remove("1A00")
    assert browser.selection["code"].tolist() == ["1A00-1A0Z"]
    browser.clear_button.click()
    assert browser.selection.empty and browser.clear_button.disabled


def test_copy_puts_tab_separated_rows_on_the_clipboard(browser):
    browser.show(CHOLERA)
    browser.add()
    lines = browser.copy_button.copy_text.splitlines()
    assert lines == ["code\ttitle\tchapter\turi", f"1A00\tCholera\t01\t{CHOLERA}"]
    assert 'data-action="copy"' in browser.copy_button.html
    browser.copy_button._handle({"event": "copied", "ok": True})   # the browser did it
    assert "Copied 1 basket row" in browser.message.value
    browser.copy_button._handle({"event": "copied", "ok": False})
    assert "refused" in browser.message.value


def test_export_csv_and_parquet(browser, tmp_path):
    browser.show(CHOLERA)
    browser.add()
    browser.show("8B20")
    browser.add()
    csv = browser.export(tmp_path / "basket.csv")
    assert csv.is_absolute() and pd.read_csv(csv, dtype=str)["code"].tolist() == ["1A00", "8B20"]
    parquet = browser.export(tmp_path / "basket.parquet")
    back = pd.read_parquet(parquet)
    assert back["code"].tolist() == ["1A00", "8B20"] and list(back.columns) == list(
        browser.selection.columns)
    with pytest.raises(ValueError, match="csv"):
        browser.export(tmp_path / "basket.xlsx")
    # the buttons write where the File box says, with their own suffix
    browser.export_path.value = str(tmp_path / "mine.csv")
    browser.parquet_button.click()
    assert (tmp_path / "mine.parquet").exists() and "Saved 2 rows to" in browser.message.value
    browser.csv_button.click()
    assert (tmp_path / "mine.csv").read_text().startswith("code,title,")


def test_errors_show_in_the_widget_not_as_tracebacks(browser, icd):
    bad = icd.base_url + "/icd/release/11/2026-01/mms/999999999"
    assert browser.show(bad) is None
    assert isinstance(browser.error, NotFound)
    assert "999999999" in browser.message.value and "[icd]" in browser.message.value
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


def test_panes_ignore_malformed_events(browser):
    browser.tree._handle({"event": "open"})            # no ref
    browser.tree._handle(["not", "a", "dict"])
    browser.details._handle({"event": 5, "ref": CHOLERA})
    assert browser.entity is None and browser.error is None


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
    _click_result(browser, 0)
    browser.add()
    assert browser.results.iloc[0]["code"] == "1A00"
    assert_no_secret(browser, form.session.flow.current.access_token,
                     sb.credentials("icd")["client_secret"])


def test_browser_on_an_already_connected_form(sb):
    form = CredentialForm("icd", sandbox=sb, live=False)
    form.connect()
    browser = IcdBrowser(form)
    assert browser.session is form.session and "sandbox" in browser.header.value


def test_browser_refuses_another_provider(sb):
    with pytest.raises(ValueError):
        IcdBrowser(CredentialForm("itcare", sandbox=sb, live=False))


def test_no_progress_bars_from_a_session_that_shows_them(sb, capsys):
    """A form's session shows progress bars (progress=True): the browser's own calls don't."""
    session = explorer.connect("icd", sandbox=True, cache=False, progress=True,
                               **sb.credentials("icd"))
    browser = IcdBrowser(session)
    browser.show(CHOLERA)
    browser.show_chapters()
    captured = capsys.readouterr()
    assert "it/s" not in captured.err + captured.out
    session.close()
