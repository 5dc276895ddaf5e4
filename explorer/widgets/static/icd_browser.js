// explorer IcdBrowser panes (explorer/widgets/icd_browser.py): the hierarchy, the entity and
// the basket's Copy button. Python builds the (escaped) HTML; this file shows it and turns
// clicks and keys into events for Python:
//   [data-ref]                      click / Enter           -> {event: "open", ref}
//   [data-action="toggle"]          click, ArrowRight/Left  -> {event: "toggle", ref}
//   [data-action="..."] (others)    click / Enter           -> {event: action, ref}
//   [data-action="copy"]            click                   -> the clipboard gets
//                                   model.get("copy_text"), then {event: "copied", ok}
// In the tree (.xib-tree), ArrowUp/ArrowDown move the focus between nodes. In a pane with
// `query_keys` on, ArrowDown in the browser's search box (.xib-query input) focuses the results grid.

function render({ model, el }) {
  el.classList.add("xib-pane-host");
  const root = document.createElement("div");
  root.setAttribute("data-lm-suppress-shortcuts", "true"); // JupyterLab: keys are ours
  el.append(root);

  function draw() {
    const kind = model.get("kind");
    root.className = `xib-pane${kind ? ` xib-${kind}` : ""}`;
    el.classList.toggle("xib-inline", kind === "copy");
    root.style.maxHeight = model.get("height") || "";
    const focused = root.contains(document.activeElement)
      ? document.activeElement.dataset.ref : null;
    root.innerHTML = model.get("html");
    const current = root.querySelector(".xib-current");
    if (current) {
      // scroll the pane (never the notebook) so the open entity is in view
      const top = current.offsetTop - root.offsetTop;
      if (top < root.scrollTop || top + current.offsetHeight > root.scrollTop + root.clientHeight) {
        root.scrollTop = Math.max(0, top - root.clientHeight / 3);
      }
    }
    if (focused) {
      const again = [...root.querySelectorAll("[data-ref]")].find((x) => x.dataset.ref === focused);
      if (again) again.focus({ preventScroll: true });
    }
  }

  async function copy() {
    const text = model.get("copy_text");
    let ok = false;
    try {
      await navigator.clipboard.writeText(text);
      ok = true;
    } catch (_error) { // no permission (or no secure context): the old way
      const area = document.createElement("textarea");
      area.value = text;
      area.style.position = "fixed";
      area.style.opacity = "0";
      document.body.append(area);
      area.select();
      try {
        ok = document.execCommand("copy");
      } catch (_e) {
        ok = false;
      }
      area.remove();
    }
    model.send({ event: "copied", ok });
  }

  function act(target) {
    const action = target.dataset.action || "open";
    if (action === "copy") {
      copy();
      return;
    }
    model.send({ event: action, ref: target.dataset.ref || null });
  }

  root.addEventListener("click", (event) => {
    const target = event.target.closest("[data-ref], [data-action]");
    if (!target || !root.contains(target)) return;
    if (target.tagName === "A" && target.target === "_blank") return; // the WHO link
    event.preventDefault();
    // a click on a tree node's caret toggles; elsewhere on the node it opens
    const caret = event.target.closest("[data-action='toggle']");
    act(caret && root.contains(caret) ? caret : target);
  });

  root.addEventListener("keydown", (event) => {
    const target = event.target.closest("[data-ref], [data-action]");
    if (!target) return;
    const nodes = [...root.querySelectorAll(".xib-node[data-ref]")];
    const i = nodes.indexOf(target);
    if (event.key === "Enter" || event.key === " ") {
      act(target);
    } else if (i >= 0 && (event.key === "ArrowDown" || event.key === "ArrowUp")) {
      const next = nodes[Math.max(0, Math.min(nodes.length - 1, i + (event.key === "ArrowDown" ? 1 : -1)))];
      next.focus();
    } else if (i >= 0 && (event.key === "ArrowRight" || event.key === "ArrowLeft")) {
      const open = target.dataset.open;
      if ((event.key === "ArrowRight" && open === "false") ||
          (event.key === "ArrowLeft" && open === "true")) {
        model.send({ event: "toggle", ref: target.dataset.ref });
      }
    } else {
      return;
    }
    event.preventDefault();
    event.stopPropagation();
  });

  // ArrowDown in the search box goes to the results (the browser's own glue)
  let browserRoot = null;
  const onQueryKey = (event) => {
    if (event.key !== "ArrowDown" || !event.target.closest(".xib-query")) return;
    const grid = browserRoot && browserRoot.querySelector(".xib-results .xg-scroll");
    if (!grid) return;
    event.preventDefault();
    event.stopPropagation();
    grid.focus();
  };
  let tries = 0;
  function hookKeys() {
    if (!model.get("query_keys") || browserRoot) return;
    browserRoot = el.closest(".xib");
    if (browserRoot) browserRoot.addEventListener("keydown", onQueryKey, true);
    else if (tries++ < 100) setTimeout(hookKeys, 100); // not in the page yet
  }

  model.on("change:html", draw);
  model.on("change:height", draw);
  model.on("change:kind", draw);
  draw();
  hookKeys();
  return () => {
    model.off("change:html", draw);
    model.off("change:height", draw);
    model.off("change:kind", draw);
    if (browserRoot) browserRoot.removeEventListener("keydown", onQueryKey, true);
    root.remove();
  };
}

export default { render };
