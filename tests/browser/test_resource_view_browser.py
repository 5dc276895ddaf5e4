"""ResourceView in a real JupyterLab at 1280×800: notebook 03's view of ITCare on the sandbox.

A throwaway notebook runs the cells of ``notebooks/03-itcare.ipynb`` that build its
``ResourceView`` (the connection and the view), and an output each Load prints the loaded
frame into. Chromium chooses the instances collection and checks the typed filters (human
labels, the API parameter on hover, a dropdown for a yes/no filter, tags for known values),
loads (100 rows in the grid), then picks "no" in the "In the patch party" dropdown and QA
among the environments (typed, then Tab), loads again: 48 rows, all QA, which Python sees
too. Layout: nothing wider than the cell, grid rows ≤ 40 px, short cells whole, the controls
in view. Screenshots go to ``test-artifacts/``.
"""

from __future__ import annotations

import pytest

from ._lab import NOTEBOOKS, layout, notebook_slice, output_of, save_figures, shot, wait_output

pytestmark = [pytest.mark.browser, pytest.mark.timeout(120)]

LOG = '''\
import ipywidgets as w

log = w.Output()


def loaded(_button):
    frame = view.frame
    log.append_stdout(f"LOADED {len(frame)} rows; environments "
                      f"{sorted(frame['environment'].unique())}; excluded from the patch party "
                      f"{sorted(bool(x) for x in frame['patchParty.excluded'].unique())}\\n")


view.load_button.on_click(loaded)  # after the view's own handler: the frame is loaded
log'''


def _filter(view, label: str):
    """The cell of the filter labelled ``label`` (its label above its input)."""
    return view.locator(".widget-vbox", has=view.page.locator(
        f".explorer-filter-label:text-is('{label}')")).last


def _column(view, label: str) -> list[str]:
    """The texts of column ``label`` in the grid's rows in view."""
    grid = view.locator(".xg")
    header = grid.locator(f".xg-hcell[data-label='{label}']")
    header.scroll_into_view_if_needed()
    index = grid.locator(".xg-hcell").evaluate_all(
        "(hs, l) => hs.findIndex((h) => h.dataset.label === l)", label)
    cells = grid.locator(f".xg-row .xg-cell[aria-colindex='{index + 1}']")
    cells.first.wait_for()  # the grid draws the columns scrolled into view on the next frame
    return cells.all_inner_texts()


def test_resource_view_load_and_filter(page, notebook):
    cells = notebook_slice(NOTEBOOKS / "03-itcare.ipynb", lambda src: "ResourceView(" in src)
    figures: dict[str, object] = {"cells_from_notebook_03": len(cells)}
    try:
        notebook("resource-view.ipynb", [*cells, LOG])
        view = page.locator(".explorer-resource-view")
        load = view.locator("button:has-text('Load')")
        load.wait_for(timeout=60_000)
        page.wait_for_function(
            "() => !document.querySelector('.explorer-resource-view button.mod-primary')"
            ".disabled")
        assert "ITCare" in view.inner_text() and "[sandbox]" in view.inner_text()

        # the instances collection and its typed filters
        collection = view.locator(".widget-dropdown", has=page.locator(
            "label:text-is('Collection')")).locator("select")
        collection.select_option("instances")
        labels = view.locator(".explorer-filter-label")
        assert labels.count() == 14, labels.all_inner_texts()  # all declared
        assert "In the patch party" in labels.all_inner_texts()
        patch = _filter(view, "In the patch party")
        assert patch.locator(".explorer-filter-label").get_attribute("title").startswith(
            "API parameter: includedInPatchParty")
        choice = patch.locator("select")
        assert choice.locator("option").all_inner_texts() == ["any", "yes", "no"]
        environments = _filter(view, "Environments").locator("input.jupyter-widget-taginput")
        for control in (collection, load, view.locator("input[type=number]"), choice,
                        environments):
            assert control.is_visible(), control
        figures["filters"] = layout(view)

        # load: the grid fills
        load.click()
        view.locator(".xg .xg-row").first.wait_for()
        view.get_by_text("100 rows × 53 columns of instances").wait_for()
        said = wait_output(page, "LOADED 100 rows")
        assert "environments ['DEVELOPMENT', 'PRODUCTION', 'QA', 'TEST']" in said, said
        first_before = view.locator(".xg-row[data-v='0']").inner_text()
        figures["loaded"] = layout(view)
        shot(output_of(view), "resource-view-1-loaded")

        # a dropdown value and a known value, load again: the rows change
        choice.select_option(label="no")
        environments.click()
        environments.press_sequentially("QA")
        # ipywidgets' TagsInput takes the text when it loses focus (in JupyterLab, Enter does
        # not add it): Tab, as a user leaving the box
        environments.press("Tab")
        _filter(view, "Environments").locator(".jupyter-widget-tag", has_text="QA").wait_for()
        load.click()
        view.get_by_text("48 rows × 53 columns of instances").wait_for()
        said = wait_output(page, "LOADED 48 rows")
        assert "environments ['QA']; excluded from the patch party [True]" in said, said
        view.locator(".xg-info", has_text="48 rows").wait_for()  # the grid has the new rows
        assert view.locator(".xg-row[data-v='0']").inner_text() != first_before
        shown = _column(view, "environment")
        assert shown and set(shown) == {"QA"}, shown
        view.locator(".xg-scroll").evaluate("e => { e.scrollLeft = 0; }")
        figures["filtered"] = layout(view)
        shot(output_of(view), "readme/resource-view")
    finally:
        save_figures("resource-view-browser", figures)
