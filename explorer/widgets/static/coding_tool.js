// explorer CodingTool (explorer/widgets/coding_tool.py): WHO's ICD-11 Embedded Coding Tool
// (ECT 1.8.0, vendored) in a notebook output.
//
// * The ECT's script and style come from the kernel once per page ({event: "assets"}, two
//   binary buffers): nothing is fetched from the internet, nothing big sits in widget state.
// * The ECT is one object per page (global settings and callbacks); a registry on globalThis
//   routes its callbacks to the right view: picks by the ECT's iNo, token requests to the
//   view used last.
// * Tokens: getNewTokenFunction sends {event: "token", id} to the kernel, which answers
//   {event: "token", id, token} (or {error}). The token is handed to the ECT and kept nowhere
//   else: never in the model, never in the DOM.

const REGISTRY = "__explorerIcdEct";
const TOKEN_TIMEOUT_MS = 60000;

function registry() {
  if (!globalThis[REGISTRY]) {
    globalThis[REGISTRY] = { loading: null, views: new Map(), active: null, count: 0 };
  }
  return globalThis[REGISTRY];
}

function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text != null) node.textContent = text;
  return node;
}

function text(buffer) {
  return new TextDecoder().decode(buffer);
}

// The ECT, loaded once per page from the kernel's copy.
function loadEct(model) {
  const reg = registry();
  if (globalThis.ECT && globalThis.ECT.Handler) return Promise.resolve(globalThis.ECT);
  if (reg.loading) return reg.loading;
  reg.loading = new Promise((resolve, reject) => {
    const timer = setTimeout(() => fail(new Error("the kernel did not send the coding tool")),
      TOKEN_TIMEOUT_MS);
    function fail(error) {
      clearTimeout(timer);
      model.off("msg:custom", onMessage);
      reg.loading = null;
      reject(error);
    }
    function onMessage(msg, buffers) {
      if (!msg || msg.event !== "assets") return;
      clearTimeout(timer);
      model.off("msg:custom", onMessage);
      if (!buffers || buffers.length < 2) {
        fail(new Error("the kernel sent no coding tool"));
        return;
      }
      const style = el("style");
      style.id = "explorer-icd11ect-style";
      style.textContent = text(buffers[1]);
      document.head.append(style);
      // A classic script (the bundle is not strict-mode code). The UMD wrapper must set the
      // global ECT, not hand it to a module system the page may have (RequireJS, CommonJS).
      const source = `(function (define, module, exports) {\n${text(buffers[0])}\n}).call(window);` +
        `\n//# sourceURL=icd11ect-${msg.version || ""}.js`;
      const url = URL.createObjectURL(new Blob([source], { type: "text/javascript" }));
      const script = el("script");
      script.src = url;
      script.onload = () => {
        URL.revokeObjectURL(url);
        if (globalThis.ECT && globalThis.ECT.Handler) resolve(globalThis.ECT);
        else fail(new Error("the coding tool did not start"));
      };
      script.onerror = () => {
        URL.revokeObjectURL(url);
        fail(new Error("the coding tool's script was refused by the page"));
      };
      document.head.append(script);
    }
    model.on("msg:custom", onMessage);
    model.send({ event: "assets" });
  });
  return reg.loading;
}

// The ECT's callbacks, the same for every view: they route to the views.
function callbacks(reg) {
  const viewFor = () => reg.views.get(reg.active) || [...reg.views.values()].pop();
  return {
    getNewTokenFunction: () => {
      const view = viewFor();
      return view ? view.token() : Promise.reject(new Error("no coding tool on the page"));
    },
    selectedEntityFunction: (entity) => {
      const view = reg.views.get(String(entity && entity.iNo));
      if (view) view.picked(entity);
    },
  };
}

// Resolves once ``node`` is in the document (the ECT finds its elements with querySelector).
function attached(node) {
  return new Promise((resolve) => {
    const check = () => (node.isConnected ? resolve() : requestAnimationFrame(check));
    check();
  });
}

function render({ model, el: host }) {
  const reg = registry();
  reg.count += 1;
  const iNo = `xct${reg.count}${Math.random().toString(36).slice(2, 7)}`;
  host.classList.add("xct-host");
  const root = el("div", "xct");
  root.setAttribute("data-lm-suppress-shortcuts", "true"); // JupyterLab: keys are the tool's
  const head = el("div", "xct-head");
  const caption = el("span", "xct-caption");
  const status = el("span", "xct-status");
  head.append(caption, status);
  const input = el("input", "ctw-input");
  input.type = "text";
  input.autocomplete = "off";
  input.placeholder = "Type a diagnosis to search ICD-11…";
  input.setAttribute("data-ctw-ino", iNo);
  input.setAttribute("aria-label", "ICD-11 coding tool search");
  const windowDiv = el("div", "ctw-window");
  windowDiv.setAttribute("data-ctw-ino", iNo);
  const foot = el("div", "xct-foot",
    "ICD-11 © WHO 2019/2021, CC BY-ND 3.0 IGO · Embedded Coding Tool © WHO, used under " +
    "its ICD-11 licence (explorer/_vendor/icd11ect/license.pdf)");
  root.append(head, input, windowDiv, foot);
  host.append(root);

  let seq = 0;
  const pending = new Map();
  let alive = true;
  let started = false;

  function say(state, message) {
    root.dataset.state = state;
    status.textContent = message || "";
    status.className = `xct-status xct-${state}`;
    model.send({ event: "status", state: state === "error" ? `error: ${message}` : state });
  }

  const view = {
    token() {
      return new Promise((resolve, reject) => {
        const id = ++seq;
        const timer = setTimeout(() => {
          pending.delete(id);
          say("error", "the kernel did not answer the token request (is it busy?)");
          reject(new Error("token request timed out"));
        }, TOKEN_TIMEOUT_MS);
        pending.set(id, { resolve, reject, timer });
        model.send({ event: "token", id });
      });
    },
    picked(entity) {
      const fields = ["code", "title", "searchQuery", "selectedText", "bestMatchText",
        "linearizationUri", "foundationUri", "uri"];
      const plain = {};
      for (const key of fields) {
        const value = entity[key];
        if (typeof value === "string" || typeof value === "number") plain[key] = value;
      }
      model.send({ event: "select", entity: plain });
      status.className = "xct-status xct-picked";
      status.textContent = `picked ${plain.code || ""} ${plain.title || ""} → tool.selection`;
    },
  };

  function onMessage(msg) {
    if (!msg) return;
    if (msg.event === "token") {
      const waiting = pending.get(msg.id);
      if (!waiting) return;
      pending.delete(msg.id);
      clearTimeout(waiting.timer);
      if (typeof msg.token === "string" && msg.token) waiting.resolve(msg.token);
      else {
        say("error", `no token: ${msg.error || "unknown error"}`);
        waiting.reject(new Error(msg.error || "no token"));
      }
    } else if (msg.event === "search" && started) {
      globalThis.ECT.Handler.search(iNo, String(msg.q || ""));
    } else if (msg.event === "clear" && started) {
      globalThis.ECT.Handler.clear(iNo);
    }
  }
  model.on("msg:custom", onMessage);

  const markActive = () => {
    reg.active = iNo;
  };
  root.addEventListener("focusin", markActive);
  root.addEventListener("pointerdown", markActive);

  function setCaption() {
    caption.textContent = model.get("caption") || "";
  }

  async function start() {
    if (started || !alive || !model.get("api_server_url")) return;
    started = true;
    say("loading", "loading the coding tool…");
    let ECT;
    try {
      ECT = await loadEct(model);
      await attached(root);
    } catch (error) {
      started = false;
      say("error", String(error.message || error));
      return;
    }
    if (!alive) return;
    const settings = Object.assign({}, model.get("settings") || {}, {
      apiServerUrl: model.get("api_server_url"),
      apiSecured: model.get("api_secured"),
      language: model.get("language") || "en",
      autoBind: false,
    });
    if (model.get("release")) settings.minorVersion = model.get("release");
    // configure() is page-wide and disables every ECT search box until its API is checked:
    // give the other views theirs back.
    ECT.Handler.configure(settings, callbacks(reg));
    for (const [other, otherView] of reg.views) {
      if (other !== iNo && otherView.ready) ECT.Handler.enableSearchbox(other);
    }
    reg.views.set(iNo, view);
    reg.active = iNo;
    ECT.Handler.bind(iNo);
    const waitReady = () => {
      if (!alive) return;
      if (input.classList.contains("apiInitializationCompleted")) {
        view.ready = true;
        say("ready", "");
      } else setTimeout(waitReady, 100);
    };
    waitReady();
  }

  function onServer() {
    setCaption();
    if (!model.get("api_server_url")) say("waiting", "");
    start();
  }
  model.on("change:api_server_url", onServer);
  model.on("change:caption", setCaption);
  onServer();

  return () => {
    alive = false;
    reg.views.delete(iNo);
    if (reg.active === iNo) reg.active = null;
    for (const waiting of pending.values()) clearTimeout(waiting.timer);
    pending.clear();
    model.off("msg:custom", onMessage);
    model.off("change:api_server_url", onServer);
    model.off("change:caption", setCaption);
    root.remove();
  };
}

export default { render };
