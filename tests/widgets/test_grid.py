"""DataGrid without a browser: cell texts, what is synced, events from the frontend, column
choice, the sort order, and 10,000 rows.

Frontend messages go through the widget's real comm handler (``_handle_msg``), the way
ipywidgets delivers them from JupyterLab; frontend state changes through ``set_state``.
"""

from __future__ import annotations

import json
import time

import numpy as np
import pandas as pd
import pytest

pytest.importorskip("anywidget", reason="DataGrid needs anywidget")

import explorer  # noqa: E402
from explorer.widgets.grid import DISPLAY_CHARS, DataGrid, format_cell  # noqa: E402

from .conftest import assert_no_secret, widget_state  # noqa: E402


def frontend_sends(grid: DataGrid, content: dict) -> None:
    """A custom message from the browser (``model.send(content)`` in grid.js)."""
    grid._handle_msg({"content": {"data": {"method": "custom", "content": content}},
                      "buffers": []})


def frontend_sets(grid: DataGrid, **state) -> None:
    """A state change made in the browser (``model.set(...); model.save_changes()``)."""
    grid.set_state(state)


def decoded(grid: DataGrid) -> dict[str, list[str]]:
    """The synced texts per column, decoded as grid.js does (dict[codes[row]])."""
    data = grid._data
    out = {}
    for column in data["columns"]:
        dtype = {8: "<u1", 16: "<u2", 32: "<u4"}[column["bits"]]
        codes = np.frombuffer(bytes(column["codes"]), dtype=dtype)
        assert len(codes) == data["n"]
        out[column["label"]] = [column["dict"][c] for c in codes]
    return out


def itcare_like(n: int, extra_columns: int = 0, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    envs = np.array(["PRODUCTION", "QUALIFICATION", "DEVELOPMENT"])
    frame = pd.DataFrame({
        "id": np.arange(5_300_000, 5_300_000 + n),
        "name": [f"PETBLGLES{i:05d}" for i in range(n)],
        "environment": envs[rng.integers(0, 3, n)],
        "cpu": rng.integers(1, 64, n),
        "creationTime": pd.date_range("2023-01-01", periods=n, freq="h", tz="UTC"),
        "tags": [[{"key": "app", "value": f"web{i % 7}"}, {"key": "env", "value": "prod"}]
                 for i in range(n)],
        "network.dns": [[{"alias": f"h{i}", "domain": "sandbox.local"}] for i in range(n)],
        "comment": [None if i % 3 else "a comment" for i in range(n)],
    })
    for k in range(extra_columns):
        frame[f"col{k:02d}"] = [f"value {k}-{i}" for i in range(n)]
    return frame


# -- format_cell ----------------------------------------------------------------------------------
@pytest.mark.parametrize(("value", "text"), [
    (["a", "b"], "a, b"),
    (("a", 1, 2.5), "a, 1, 2.5"),
    ({"app": "web", "env": "prod"}, "app:web, env:prod"),
    ([{"key": "app", "value": "web"}, {"key": "env", "value": "prod"}], "app:web, env:prod"),
    ([{"Key": "Name", "Value": "db"}], "Name:db"),
    ({"key": "app", "value": "web"}, "app:web"),
    ([{"alias": "h1", "domain": "x"}, {"alias": "h2", "domain": "y"}],
     "alias:h1, domain:x; alias:h2, domain:y"),
    ({"a": [1, 2], "b": {"c": 3}}, "a:[1, 2], b:{c:3}"),
    ([], ""), ({}, ""), (None, ""), (float("nan"), ""), (np.nan, ""), (pd.NA, ""),
    (pd.NaT, ""), (np.datetime64("NaT"), ""),
    (True, "True"), (np.bool_(False), "False"), (3, "3"), (np.int64(7), "7"),
    (0.1, "0.1"), (np.float32(0.1), "0.1"), (1e20, "1e+20"),
    ("  two\n lines\t here ", "two lines here"), ("plain", "plain"),
    (b"\x00\x01", "<2 bytes>"),
    (np.array([1, 2]), "1, 2"),
    (pd.Timestamp("2024-05-01 12:00", tz="UTC"), "2024-05-01 12:00:00+00:00"),
])
def test_format_cell_is_compact_and_on_one_line(value, text):
    assert format_cell(value) == text


def test_format_cell_cuts_long_text_with_an_ellipsis():
    long = "word " * 100
    assert len(format_cell(long)) == DISPLAY_CHARS and format_cell(long).endswith("…")
    assert format_cell(long, max_chars=10) == "word word…"
    assert format_cell(long, max_chars=None) == long.strip()
    assert format_cell(["x" * 300], max_chars=50).endswith("…")


# -- what is synced -------------------------------------------------------------------------------
def test_synced_texts_are_the_formatted_cells():
    df = itcare_like(50).assign(load=np.linspace(0, 1, 50, dtype="float32"),
                                 up=[i % 2 == 0 for i in range(50)])
    df.loc[3, "cpu"] = 0
    grid = DataGrid(df)
    texts = decoded(grid)
    assert list(texts) == list(df.columns) == grid.visible_columns == grid.columns
    for label in df.columns:
        column = df[label]
        cells = column.to_numpy() if column.dtype.kind == "f" else column  # float32 scalars
        assert texts[label] == [format_cell(v) for v in cells], label
    assert texts["tags"][0] == "app:web0, env:prod"
    assert texts["comment"][1] == ""
    assert texts["load"][:2] == ["0.0", "0.020408163"] and texts["up"][:2] == ["True", "False"]
    aligns = {c["label"]: c["align"] for c in grid._data["columns"]}
    assert aligns["cpu"] == aligns["creationTime"] == "right" and aligns["name"] == "left"


def test_only_offered_columns_reach_the_browser():
    df = pd.DataFrame({"name": ["web01"], "password": ["hunter2-very-secret"],
                       "token": [{"value": "eyJsecret"}]})
    grid = DataGrid(df, columns=["name"])
    assert grid.columns == grid.visible_columns == ["name"]
    assert_no_secret(grid, "hunter2-very-secret", "eyJsecret")
    assert "web01" in widget_state(grid)
    # the offered list is kept when the data is replaced
    grid.df = df.assign(name=["db01"])
    assert grid.columns == ["name"]
    assert_no_secret(grid, "hunter2-very-secret", "eyJsecret")
    # the full row still reaches Python callbacks (Python already has it)
    rows = []
    grid.on_select(rows.append)
    frontend_sends(grid, {"event": "open", "row": 0})
    assert rows[0]["password"] == "hunter2-very-secret"


def test_full_value_on_hover_comes_from_python():
    long = "x" * (DISPLAY_CHARS + 100)
    grid = DataGrid(pd.DataFrame({"a": ["short", long]}))
    column = grid._data["columns"][0]
    cut = [column["dict"][i] for i in column["cut"]]
    assert cut == [long[:DISPLAY_CHARS - 1] + "…"]
    sent = []
    grid.send = sent.append
    frontend_sends(grid, {"event": "full", "row": 1, "column": "a"})
    assert sent == [{"event": "full", "row": 1, "column": "a", "text": long}]
    frontend_sends(grid, {"event": "full", "row": 1, "column": "nope"})
    frontend_sends(grid, {"event": "full", "row": 99, "column": "a"})
    assert len(sent) == 1


def test_odd_frames():
    empty = DataGrid()
    assert empty._data["n"] == 0 and empty.columns == [] and repr(empty).startswith(
        "<DataGrid 0 rows")
    grid = DataGrid(pd.DataFrame([[1, 2, 3]], columns=["a", "a", 5]))
    assert grid.columns == ["a", "a (2)", "5"]
    assert decoded(grid) == {"a": ["1"], "a (2)": ["2"], "5": ["3"]}
    multi = DataGrid(pd.DataFrame({("x", "y"): [1.5, None]}))
    assert decoded(multi) == {"x / y": ["1.5", ""]}
    mixed = DataGrid(pd.DataFrame({"m": [1, "b", None, [1], {"k": 1}]}))
    assert decoded(mixed) == {"m": ["1", "b", "", "1", "k:1"]}
    with pytest.raises(TypeError, match="DataFrame"):
        DataGrid([1, 2])  # type: ignore[arg-type]


def test_ten_thousand_rows_sync_compactly_and_quickly():
    df = itcare_like(10_000, extra_columns=42)
    assert df.shape == (10_000, 50)
    started = time.perf_counter()
    grid = DataGrid(df)
    encode = time.perf_counter() - started
    state = grid.get_state()
    buffers = sum(len(c["codes"]) for c in state["_data"]["columns"])
    texts = len(json.dumps([c["dict"] for c in state["_data"]["columns"]]))
    total = buffers + texts
    # one 1-4 byte code per cell, each distinct text once: well under 20 bytes a cell here
    # (42 columns of all-distinct texts); a DataFrame of repeated values costs far less
    assert total < 20 * df.size, total
    assert encode < 10, encode
    repetitive = DataGrid(df[["environment", "cpu", "tags"]])
    small = sum(len(c["codes"]) + len(json.dumps(c["dict"]))
                for c in repetitive._data["columns"])
    assert small < 4 * 10_000 * 3


# -- events from the browser ------------------------------------------------------------------
def test_a_click_or_enter_opens_the_row_for_python():
    df = itcare_like(5).set_index("name")
    opened = []
    grid = DataGrid(df, on_select=opened.append)
    frontend_sends(grid, {"event": "open", "row": 3})
    assert grid.selected == 3 and grid.selected_label == "PETBLGLES00003"
    assert isinstance(opened[0], pd.Series) and opened[0].name == "PETBLGLES00003"
    assert opened[0]["tags"] == df["tags"].iloc[3]  # the row itself, not its texts
    pd.testing.assert_series_equal(grid.selected_row, df.iloc[3])
    for bad in ({"event": "open", "row": 99}, {"event": "open", "row": -1},
                {"event": "open", "row": "3"}, {"event": "open", "row": True},
                {"event": "open"}, {"event": "nonsense", "row": 1}, ["not", "a", "dict"]):
        frontend_sends(grid, bad)  # type: ignore[arg-type]
    assert len(opened) == 1 and grid.selected == 3
    grid.on_select(opened.append, remove=True)
    frontend_sends(grid, {"event": "open", "row": 1})
    assert len(opened) == 1 and grid.selected == 1


def test_arrow_keys_move_the_selection_without_opening():
    opened, moved = [], []
    grid = DataGrid(itcare_like(5), on_select=opened.append)
    grid.observe(lambda change: moved.append(change["new"]), "selected")
    frontend_sets(grid, selected=2)
    frontend_sets(grid, selected=3)
    assert moved == [2, 3] and opened == [] and grid.selected_row["id"] == 5_300_003


def test_python_highlights_a_row():
    df = itcare_like(5).set_index("name")
    opened = []
    grid = DataGrid(df, on_select=opened.append)
    grid.selected = 4
    assert grid.get_state("selected") == {"selected": 4}
    grid.selected_label = "PETBLGLES00001"
    assert grid.selected == 1 and opened == []
    grid.selected_label = None
    assert grid.selected is None and grid.selected_row is None
    with pytest.raises(Exception, match="outside"):
        grid.selected = 5
    with pytest.raises(KeyError):
        grid.selected_label = "nope"
    grid.selected = 2
    grid.df = df.head(3)  # new data: nothing selected
    assert grid.selected is None


# -- columns --------------------------------------------------------------------------------------
def test_choosing_columns():
    df = itcare_like(3)
    grid = DataGrid(df, visible_columns=["name", "cpu"])
    assert grid.visible_columns == ["name", "cpu"] and len(grid.columns) == len(df.columns)
    frontend_sets(grid, visible_columns=["cpu", "tags"])  # the chooser's checkboxes
    assert grid.visible_columns == ["cpu", "tags"]
    assert list(grid.view().columns) == ["cpu", "tags"]
    with pytest.raises(Exception, match="unknown column"):
        grid.visible_columns = ["cpu", "nope"]
    grid.visible_columns = ["cpu", "cpu", "name"]
    assert grid.visible_columns == ["cpu", "name"]
    # new data with the same columns keeps the hidden ones hidden; new columns show
    grid.df = df.assign(extra=1)
    assert grid.visible_columns == ["name", "cpu", "extra"]
    grid.df = pd.DataFrame({"other": [1]})
    assert grid.visible_columns == ["other"]
    grid = DataGrid(pd.DataFrame([[1, 2]], columns=[10, 20]), visible_columns=[20])
    assert grid.visible_columns == ["20"]


# -- sorting --------------------------------------------------------------------------------------
def test_sort_order_numbers_text_dates_and_empties():
    df = pd.DataFrame({
        "n": [10, 9, None, 100, 9],
        "t": ["web10", "Web9", "", "web1", None],
        "d": pd.to_datetime(["2024-03-01", None, "2024-01-01", "2025-01-01", "2023-01-01"]),
        "tags": [["b"], [], ["a"], ["c", "d"], ["a"]],
    })
    grid = DataGrid(df)
    assert grid.order().tolist() == [0, 1, 2, 3, 4]

    def order(column, ascending=True):
        grid.sort_by, grid.ascending = column, ascending
        return grid.order().tolist()

    assert order("n") == [1, 4, 0, 3, 2]           # by value; ties keep their order
    assert order("n", False) == [3, 0, 1, 4, 2]     # empties last either way
    assert order("t") == [3, 1, 0, 2, 4]            # naturally, case-insensitively
    assert order("t", False) == [0, 1, 3, 2, 4]
    assert order("d") == [4, 2, 0, 3, 1]
    assert order("tags", False) == [3, 0, 2, 4, 1]
    frontend_sets(grid, sort_by="n", ascending=False)  # a header click in the browser
    assert grid.view()["n"].tolist()[:3] == [100, 10, 9]
    with pytest.raises(Exception, match="unknown column"):
        grid.sort_by = "nope"
    grid.df = df[["t"]]  # the sorted column is gone: unsorted
    assert grid.sort_by is None


# -- real frames ----------------------------------------------------------------------------------
def test_an_itcare_sandbox_frame(sb):
    session = explorer.connect("itcare", sandbox=sb)
    try:
        frame = session.instances(limit=20)
    finally:
        session.close()
    grid = DataGrid(frame)
    texts = decoded(grid)
    assert len(texts["name"]) == len(frame) and texts["name"][0] == frame["name"].iloc[0]
    assert texts["tags"][0].startswith("app:") and "owner:" in texts["tags"][0]
    assert texts["creationTime"][0].startswith(str(frame["creationTime"].iloc[0])[:10])
    creds = sb.credentials("itcare")
    assert_no_secret(grid, creds["client_id"], creds["client_secret"])


def test_static_assets_are_package_data():
    from explorer.widgets import grid as module

    js = (module._STATIC / "grid.js").read_text()
    css = (module._STATIC / "grid.css").read_text()
    assert "export default" in js and ".xg-row" in css
    assert "http://" not in js + css and "https://" not in js + css  # nothing from the net
    assert DataGrid(pd.DataFrame({"a": [1]}))._esm == js
