// explorer DataGrid: a virtualised grid for the DataGrid widget (explorer/widgets/grid.py).
//
// Rows have a fixed height and are absolutely positioned inside a tall body; only the rows
// in view (plus a few) exist in the DOM, and in them only the cells of the columns in view
// (a spacer stands for the columns scrolled past on the left). The data arrives column-wise: per column the
// distinct display texts ("dict") and one code per row, so sorting a column is ranking its
// distinct texts, then a counting sort of the rows. Events go to Python: model.send({event}).

const ROW_H = 26; // px; grid.py's ROW_HEIGHT
const OVERSCAN = 6; // rows rendered above and below the visible ones
const COL_OVERSCAN = 1; // columns rendered left and right of the visible ones
const KEY_SYNC_MS = 120; // arrow keys: sync the selection to Python after this pause
const MIN_W = 36; // narrowest column when resizing, px

function codesOf(column, n) {
  const view = column.codes;
  if (!n || !view) return new Uint8Array(0);
  const bytes = column.bits / 8;
  const Type = bytes === 1 ? Uint8Array : bytes === 2 ? Uint16Array : Uint32Array;
  const offset = view.byteOffset;
  if (offset % bytes === 0) return new Type(view.buffer, offset, n);
  return new Type(view.buffer.slice(offset, offset + bytes * n));
}

function decode(data) {
  const n = (data && data.n) | 0;
  const columns = ((data && data.columns) || []).map((c) => ({
    label: c.label,
    dict: c.dict,
    codes: codesOf(c, n),
    ordered: c.ordered,
    ranks: null, // per code, its place in ascending order (computed on the first sort)
    cut: new Set(c.cut || []),
    align: c.align,
    width: c.width,
    chars: c.chars || 0,
  }));
  return { n, columns, byLabel: new Map(columns.map((c) => [c.label, c])) };
}

const COLLATOR = new Intl.Collator(undefined, { numeric: true, sensitivity: "base" });

// Per code, its place in ascending order: numbers and dates come in value order; texts are
// compared naturally (web9 before web10), case-insensitively. Empty texts go last.
function ranksOf(column) {
  if (column.ranks) return column.ranks;
  const dict = column.dict;
  const k = dict.length;
  const codes = Array.from({ length: k }, (_, i) => i);
  if (!column.ordered) codes.sort((a, b) => COLLATOR.compare(dict[a], dict[b]) || a - b);
  const ranks = new Uint32Array(k);
  let r = 0;
  for (const code of codes) if (dict[code] !== "") ranks[code] = r++;
  column.filled = r; // how many non-empty texts
  for (const code of codes) if (dict[code] === "") ranks[code] = r++;
  column.ranks = ranks;
  return ranks;
}

// Row order for a sort: a stable counting sort by rank; empties last in both directions.
function sortOrder(data, label, ascending) {
  const n = data.n;
  const order = new Int32Array(n);
  const column = label == null ? null : data.byLabel.get(label);
  if (!column) {
    for (let i = 0; i < n; i++) order[i] = i;
    return order;
  }
  const ranks = ranksOf(column);
  const k = ranks.length;
  const filled = column.filled;
  const key = new Uint32Array(k);
  for (let code = 0; code < k; code++) {
    const r = ranks[code];
    key[code] = ascending || r >= filled ? r : filled - 1 - r;
  }
  const codes = column.codes;
  const start = new Uint32Array(k + 1);
  for (let i = 0; i < n; i++) start[key[codes[i]] + 1]++;
  for (let r = 1; r <= k; r++) start[r] += start[r - 1];
  for (let i = 0; i < n; i++) order[start[key[codes[i]]]++] = i;
  return order;
}

function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text != null) node.textContent = text;
  return node;
}

function render({ model, el: host }) {
  // ipywidgets' layout owns the host element's inline style: ours goes on an inner root
  host.classList.add("xg-host");
  const root = el("div", "xg");
  root.setAttribute("data-lm-suppress-shortcuts", "true"); // JupyterLab: keys are ours
  host.append(root);
  const bar = el("div", "xg-bar");
  const chooserButton = el("button", "xg-columns-button", "Columns ▾");
  chooserButton.type = "button";
  chooserButton.title = "Choose the columns shown";
  const info = el("span", "xg-info");
  bar.append(chooserButton, info);
  const scroller = el("div", "xg-scroll");
  scroller.tabIndex = 0;
  scroller.setAttribute("role", "grid");
  const canvas = el("div", "xg-canvas");
  const head = el("div", "xg-head");
  head.setAttribute("role", "row");
  const body = el("div", "xg-body");
  const empty = el("div", "xg-empty");
  canvas.append(head, body);
  scroller.append(canvas, empty);
  const menu = el("div", "xg-menu");
  menu.hidden = true;
  root.append(bar, scroller, menu);

  let data = decode(model.get("_data"));
  let order = new Int32Array(0); // view index -> row position
  let where = new Int32Array(0); // row position -> view index
  let shown = []; // visible columns (decoded), in order
  let selected = model.get("selected");
  let live = new Map(); // view index -> row element
  let shape = 0; // bumps when the cells a row needs change; rows of another shape are rebuilt
  let colLeft = [0]; // x of each shown column's left edge, then the total width
  let c0 = 0; // the first and last shown columns rendered in rows
  let c1 = -1;
  let pad = -1; // px of the spacer before column c0
  let frame = 0;
  let keyTimer = null;
  const widths = new Map(); // label -> px, kept while the widget lives (user resizes)

  let grow = -1; // the shown column that takes the spare width, and how much it takes
  let spare = 0;
  const width = (c) => widths.get(c.label) || c.width;
  const shownWidth = (i) => width(shown[i]) + (i === grow ? spare : 0);

  // Room left of the grid's width goes to the text column with the longest texts (not one
  // the user sized):
  // long titles are not cut while the grid shows empty space.
  function fit() {
    let total = 0;
    let best = -1;
    const wanted = model.get("stretch");
    shown.forEach((c, i) => {
      total += width(c);
      if (c.align !== "right" && !widths.has(c.label) &&
          (best < 0 || c.chars > shown[best].chars)) best = i;
    });
    const named = shown.findIndex((c) => c.label === wanted && !widths.has(c.label));
    if (named >= 0) best = named;
    const room = Math.max(0, Math.floor(scroller.clientWidth - total - 1));
    const changed = room !== spare || best !== grow;
    grow = room > 0 ? best : -1;
    spare = grow < 0 ? 0 : room;
    if (changed) {
      shown.forEach((_c, i) => canvas.style.setProperty(`--xg-w${i}`, `${shownWidth(i)}px`));
      measureColumns();
    }
    return changed;
  }

  // The height is a maximum: a grid of a few rows is only as tall as they are.
  function setHeight() {
    root.style.maxHeight = model.get("height") || "320px";
  }

  function setInfo() {
    const rows = data.n === 1 ? "row" : "rows";
    info.textContent = `${data.n.toLocaleString("en-US")} ${rows} · ` +
      `${shown.length} of ${data.columns.length} columns`;
  }

  function resort() {
    order = sortOrder(data, model.get("sort_by"), model.get("ascending"));
    where = new Int32Array(data.n);
    for (let v = 0; v < order.length; v++) where[order[v]] = v;
  }

  function buildHead() {
    head.replaceChildren();
    const sortBy = model.get("sort_by");
    const ascending = model.get("ascending");
    let total = 0;
    shown.forEach((c, i) => {
      const cell = el("div", "xg-hcell");
      cell.setAttribute("role", "columnheader");
      cell.dataset.label = c.label;
      cell.style.width = `var(--xg-w${i})`;
      if (c.align === "right") cell.classList.add("xg-right");
      const name = el("span", "xg-hname", c.label);
      const arrow = el("span", "xg-sort", c.label === sortBy ? (ascending ? "▲" : "▼") : "");
      cell.title = `${c.label} — click to sort`;
      if (c.label === sortBy) {
        cell.classList.add("xg-sorted");
        cell.setAttribute("aria-sort", ascending ? "ascending" : "descending");
      }
      const grip = el("span", "xg-resize");
      grip.title = "Drag to resize";
      cell.append(name, arrow, grip);
      head.append(cell);
      canvas.style.setProperty(`--xg-w${i}`, `${width(c)}px`);
    });
    grow = -1;
    spare = 0;
    measureColumns();
    fit();
  }

  function measureColumns() {
    colLeft = [0];
    shown.forEach((_c, i) => colLeft.push(colLeft[colLeft.length - 1] + shownWidth(i)));
    canvas.style.setProperty("--xg-total", `${colLeft[colLeft.length - 1]}px`);
  }

  // The shown columns in horizontal view, plus COL_OVERSCAN on each side.
  function columnRange() {
    const left = scroller.scrollLeft;
    const right = left + Math.max(scroller.clientWidth, 1);
    const last = shown.length - 1;
    let a = 0;
    while (a < last && colLeft[a + 1] <= left) a++;
    let b = a;
    while (b < last && colLeft[b + 1] < right) b++;
    return [Math.max(0, a - COL_OVERSCAN), Math.min(last, b + COL_OVERSCAN)];
  }

  function relayout() {
    const labels = model.get("visible_columns") || [];
    shown = labels.map((x) => data.byLabel.get(x)).filter(Boolean);
    shape++;
    c1 = -1;
    buildHead();
    for (const row of live.values()) row.remove();
    live = new Map();
    body.style.height = `${data.n * ROW_H}px`;
    scroller.setAttribute("aria-rowcount", String(data.n + 1));
    scroller.setAttribute("aria-colcount", String(shown.length));
    empty.hidden = data.n > 0 && shown.length > 0;
    root.classList.toggle("xg-is-empty", !empty.hidden);
    empty.textContent = data.n === 0 ? "No rows." : "No columns shown: use Columns ▾.";
    setInfo();
    draw();
  }

  function fill(row, v) {
    const pos = order[v];
    row.style.top = `${v * ROW_H}px`;
    row.dataset.v = v;
    row.dataset.pos = pos;
    row.setAttribute("aria-rowindex", String(v + 2)); // 1 is the header
    row.classList.toggle("xg-odd", v % 2 === 1);
    row.classList.toggle("xg-selected", pos === selected);
    row.setAttribute("aria-selected", pos === selected ? "true" : "false");
    if (row._shape !== shape) {
      row.replaceChildren(el("div", "xg-pad"));
      for (let i = c0; i <= c1; i++) {
        const cell = el("div", shown[i].align === "right" ? "xg-cell xg-right" : "xg-cell");
        cell.setAttribute("role", "gridcell");
        cell.setAttribute("aria-colindex", String(i + 1));
        cell.style.width = `var(--xg-w${i})`;
        cell._c = i;
        row.append(cell);
      }
      row._shape = shape;
    }
    const cells = row.children;
    for (let i = c0; i <= c1; i++) {
      const c = shown[i];
      const cell = cells[i - c0 + 1];
      cell.textContent = c.dict[c.codes[pos]];
      cell.removeAttribute("title"); // set on hover: the full value
    }
  }

  function draw() {
    frame = 0;
    if (!shown.length || !data.n) return;
    const [a, b] = columnRange();
    if (a !== c0 || b !== c1) {
      c0 = a;
      c1 = b;
      shape++;
    }
    if (pad !== colLeft[c0]) {
      pad = colLeft[c0];
      canvas.style.setProperty("--xg-pad", `${pad}px`);
    }
    const top = scroller.scrollTop - head.offsetHeight;
    const first = Math.max(0, Math.floor(top / ROW_H) - OVERSCAN);
    const last = Math.min(data.n - 1,
      Math.ceil((top + scroller.clientHeight) / ROW_H) + OVERSCAN);
    const spare = [];
    for (const [v, row] of live) {
      if (v < first || v > last) {
        live.delete(v);
        spare.push(row);
      }
    }
    for (let v = first; v <= last; v++) {
      const kept = live.get(v);
      if (kept) {
        if (kept._shape !== shape) fill(kept, v);
        continue;
      }
      let row = spare.pop();
      if (!row) {
        row = el("div", "xg-row");
        row.setAttribute("role", "row");
        body.append(row);
      }
      fill(row, v);
      live.set(v, row);
    }
    for (const row of spare) row.remove();
  }

  function schedule() {
    if (!frame) frame = requestAnimationFrame(draw);
  }

  function refreshSelection() {
    for (const row of live.values()) {
      const on = Number(row.dataset.pos) === selected;
      row.classList.toggle("xg-selected", on);
      row.setAttribute("aria-selected", on ? "true" : "false");
    }
  }

  // Scroll row ``pos`` into view: just enough for a step, to the middle for a jump.
  function reveal(pos, jump = false) {
    if (pos == null || pos < 0 || pos >= data.n) return;
    const headH = head.offsetHeight;
    const top = where[pos] * ROW_H; // in the body
    const view = scroller.clientHeight - headH;
    const scrollTop = scroller.scrollTop;
    if (top >= scrollTop && top + ROW_H <= scrollTop + view) return;
    if (jump) scroller.scrollTop = Math.max(0, top - (view - ROW_H) / 2);
    else if (top < scrollTop) scroller.scrollTop = top;
    else scroller.scrollTop = top + ROW_H - view;
    schedule();
  }

  function choose(pos, sync) {
    selected = pos;
    refreshSelection();
    reveal(pos);
    clearTimeout(keyTimer);
    keyTimer = null;
    if (sync === "now") {
      model.set("selected", pos);
      model.save_changes();
    } else if (sync === "later") {
      keyTimer = setTimeout(() => {
        keyTimer = null;
        model.set("selected", selected);
        model.save_changes();
      }, KEY_SYNC_MS);
    }
  }

  function open(pos) {
    choose(pos, "now");
    model.send({ event: "open", row: pos });
  }

  // -- events -------------------------------------------------------------------------------
  const onScroll = () => schedule();
  scroller.addEventListener("scroll", onScroll, { passive: true });

  body.addEventListener("click", (event) => {
    const row = event.target.closest(".xg-row");
    if (!row) return;
    scroller.focus({ preventScroll: true });
    open(Number(row.dataset.pos));
  });

  body.addEventListener("mouseover", (event) => {
    const cell = event.target.closest(".xg-cell");
    if (!cell || cell.hasAttribute("title")) return;
    const row = cell.parentElement;
    const c = shown[cell._c];
    if (!c) return;
    const pos = Number(row.dataset.pos);
    const code = c.codes[pos];
    cell.title = c.dict[code];
    if (c.cut.has(code)) model.send({ event: "full", row: pos, column: c.label });
  });

  function onMessage(msg) {
    if (!msg || msg.event !== "full") return;
    const i = shown.findIndex((c) => c.label === msg.column);
    if (i < 0) return;
    for (const row of live.values()) {
      if (Number(row.dataset.pos) !== msg.row) continue;
      for (const cell of row.children) if (cell._c === i) cell.title = msg.text;
    }
  }
  model.on("msg:custom", onMessage);

  scroller.addEventListener("keydown", (event) => {
    if (event.target !== scroller) return;
    const page = Math.max(1, Math.floor((scroller.clientHeight - head.offsetHeight) / ROW_H) - 1);
    const steps = { ArrowDown: 1, ArrowUp: -1, PageDown: page, PageUp: -page,
      Home: -Infinity, End: Infinity };
    if (event.key in steps && data.n) {
      const current = selected == null ? -1 : where[selected];
      let v = selected == null && steps[event.key] < 0 ? 0 : current + steps[event.key];
      if (!Number.isFinite(v)) v = v < 0 ? 0 : data.n - 1;
      v = Math.max(0, Math.min(data.n - 1, v));
      choose(order[v], "later");
    } else if (event.key === "Enter" && selected != null) {
      open(selected);
    } else if (event.key === "Escape") {
      closeMenu();
    } else if (!["ArrowLeft", "ArrowRight"].includes(event.key)) {
      return; // leave other keys (Tab, shortcuts with modifiers) alone
    }
    if (event.key !== "ArrowLeft" && event.key !== "ArrowRight") event.preventDefault();
    event.stopPropagation();
  });

  // header: click sorts (ascending, descending, unsorted); the grip resizes
  head.addEventListener("click", (event) => {
    if (event.target.closest(".xg-resize")) return;
    const cell = event.target.closest(".xg-hcell");
    if (!cell) return;
    const label = cell.dataset.label;
    const sortBy = model.get("sort_by");
    if (sortBy !== label) {
      model.set("sort_by", label);
      model.set("ascending", true);
    } else if (model.get("ascending")) {
      model.set("ascending", false);
    } else {
      model.set("sort_by", null);
      model.set("ascending", true);
    }
    model.save_changes();
  });

  head.addEventListener("pointerdown", (event) => {
    const grip = event.target.closest(".xg-resize");
    if (!grip) return;
    event.preventDefault();
    event.stopPropagation();
    const cell = grip.parentElement;
    const i = Array.prototype.indexOf.call(head.children, cell);
    const c = shown[i];
    const x0 = event.clientX;
    const w0 = shownWidth(i);
    grip.setPointerCapture(event.pointerId);
    const move = (e) => {
      const w = Math.max(MIN_W, Math.round(w0 + e.clientX - x0));
      widths.set(c.label, w);
      canvas.style.setProperty(`--xg-w${i}`, `${w}px`);
      if (i === grow) spare = 0;
      measureColumns();
      fit();
      schedule();
    };
    const up = () => {
      grip.removeEventListener("pointermove", move);
      grip.removeEventListener("pointerup", up);
      grip.removeEventListener("pointercancel", up);
    };
    grip.addEventListener("pointermove", move);
    grip.addEventListener("pointerup", up);
    grip.addEventListener("pointercancel", up);
  });

  // -- the column chooser -------------------------------------------------------------------
  function buildMenu() {
    menu.replaceChildren();
    const filter = el("input", "xg-filter");
    filter.type = "search";
    filter.placeholder = "filter columns";
    const actions = el("div", "xg-menu-actions");
    const all = el("button", "xg-link", "all");
    const none = el("button", "xg-link", "none");
    all.type = none.type = "button";
    actions.append(all, none);
    const list = el("div", "xg-menu-list");
    const visible = new Set(model.get("visible_columns") || []);
    for (const c of data.columns) {
      const item = el("label", "xg-menu-item");
      const box = el("input");
      box.type = "checkbox";
      box.checked = visible.has(c.label);
      box.value = c.label;
      item.append(box, el("span", null, c.label));
      item.title = c.label;
      list.append(item);
    }
    const apply = () => {
      const boxes = list.querySelectorAll("input[type=checkbox]");
      model.set("visible_columns", [...boxes].filter((b) => b.checked).map((b) => b.value));
      model.save_changes();
    };
    list.addEventListener("change", apply);
    const setAll = (on) => {
      for (const item of list.children) {
        if (!item.hidden) item.firstChild.checked = on;
      }
      apply();
    };
    all.addEventListener("click", () => setAll(true));
    none.addEventListener("click", () => setAll(false));
    filter.addEventListener("input", () => {
      const q = filter.value.toLowerCase();
      for (const item of list.children) item.hidden = !item.title.toLowerCase().includes(q);
    });
    menu.addEventListener("keydown", (event) => {
      event.stopPropagation();
      if (event.key === "Escape") {
        closeMenu();
        chooserButton.focus();
      }
    });
    menu.append(filter, actions, list);
  }

  function onOutside(event) {
    if (!menu.contains(event.target) && event.target !== chooserButton) closeMenu();
  }

  function closeMenu() {
    if (menu.hidden) return;
    menu.hidden = true;
    chooserButton.setAttribute("aria-expanded", "false");
    document.removeEventListener("pointerdown", onOutside, true);
  }

  chooserButton.addEventListener("click", () => {
    if (!menu.hidden) {
      closeMenu();
      return;
    }
    buildMenu();
    menu.style.top = `${bar.offsetHeight}px`;
    menu.hidden = false;
    chooserButton.setAttribute("aria-expanded", "true");
    document.addEventListener("pointerdown", onOutside, true);
    menu.querySelector(".xg-filter").focus({ preventScroll: true });
  });

  // -- changes from Python (and echoes of ours) ---------------------------------------------
  const onData = () => {
    data = decode(model.get("_data"));
    selected = model.get("selected");
    resort();
    closeMenu();
    relayout();
  };
  const onColumns = () => {
    relayout();
    if (!menu.hidden) {
      const visible = new Set(model.get("visible_columns") || []);
      for (const box of menu.querySelectorAll(".xg-menu-list input")) {
        box.checked = visible.has(box.value);
      }
    }
  };
  const onSort = () => {
    resort();
    buildHead();
    for (const [v, row] of live) fill(row, v);
    scroller.scrollTop = 0; // a new order: show its top
    schedule();
  };
  const onSelected = () => {
    if (keyTimer) return; // a keyboard move is about to be synced: ours is newer
    selected = model.get("selected");
    refreshSelection();
    reveal(selected, true);
  };
  model.on("change:_data", onData);
  model.on("change:visible_columns", onColumns);
  model.on("change:sort_by", onSort);
  model.on("change:ascending", onSort);
  model.on("change:selected", onSelected);
  const onHeight = () => {
    setHeight();
    schedule();
  };
  model.on("change:height", onHeight);
  const onStretch = () => {
    fit();
    schedule();
  };
  model.on("change:stretch", onStretch);

  const resize = new ResizeObserver(() => {
    fit();
    schedule();
  });
  resize.observe(scroller);

  setHeight();
  resort();
  relayout();
  if (selected != null) requestAnimationFrame(() => reveal(selected, true));

  return () => {
    resize.disconnect();
    clearTimeout(keyTimer);
    if (frame) cancelAnimationFrame(frame);
    document.removeEventListener("pointerdown", onOutside, true);
    model.off("msg:custom", onMessage);
    model.off("change:_data", onData);
    model.off("change:visible_columns", onColumns);
    model.off("change:sort_by", onSort);
    model.off("change:ascending", onSort);
    model.off("change:selected", onSelected);
    model.off("change:height", onHeight);
    model.off("change:stretch", onStretch);
    root.remove();
  };
}

export default { render };
