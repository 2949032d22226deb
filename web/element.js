// <value-playground>: the Valuescape playground as a custom element.
//
// Attributes:
//   base="./pkg/"   where the bundles are (default ./pkg/ relative to the page)
//   backend="webgl2" force a backend (default: WebGPU when available and built, else WebGL2;
//                   with `global`, the page's `?backend=webgl2|webgpu` also forces it)
//   hash-state      read the initial state from location.hash and keep the hash in sync
//   hash="#v1.…"    the initial state, where the page's own URL does not hold it (without
//                   hash-state)
//   global          expose the handle as window.valuescape
//
// The element fills its box with a canvas and an accessible status line that mirrors the
// panel's planning status and error message.

import { loadPlayground } from "./loader.js";

let counter = 0;

// Defaults with zero specificity, so that any page rule (e.g. `position: fixed`) wins.
function installBaseStyle() {
  if (document.getElementById("value-playground-style")) return;
  const style = document.createElement("style");
  style.id = "value-playground-style";
  style.textContent =
    ":where(value-playground){display:block;position:relative;min-height:320px;overflow:hidden}";
  document.head.prepend(style);
}

export class ValuePlayground extends HTMLElement {
  constructor() {
    super();
    this.playground = null;
    this.module = null;
    this.backend = null;
    this._listeners = [];
    this.ready = new Promise((resolve, reject) => {
      this._resolve = resolve;
      this._reject = reject;
    });
  }

  connectedCallback() {
    if (this._started) return;
    this._started = true;
    const id = `valuescape-canvas-${++counter}`;
    installBaseStyle();
    this.innerHTML = "";
    const canvas = document.createElement("canvas");
    canvas.id = id;
    canvas.tabIndex = 0;
    canvas.setAttribute("aria-label", "Valuescape 3D view and panel");
    canvas.style.cssText = "display:block;width:100%;height:100%;outline:none";
    const status = document.createElement("div");
    status.className = "valuescape-status";
    status.setAttribute("role", "status");
    status.setAttribute("aria-live", "polite");
    status.style.cssText =
      "position:absolute;right:8px;bottom:8px;max-width:60%;max-height:30%;overflow:hidden;" +
      "padding:4px 8px;" +
      "font:13px system-ui,sans-serif;color:#eee;background:rgba(0,0,0,.55);border-radius:4px;" +
      "pointer-events:none;white-space:pre-wrap";
    status.textContent = "loading...";
    this.append(canvas, status);
    this.status = status;

    const on = (name, fn) => {
      window.addEventListener(name, fn);
      this._listeners.push([name, fn]);
    };
    on("valuescape:ready", () => (status.textContent = ""));
    on("valuescape:plan", (e) => {
      status.dataset.state = "ok";
      const steps = e.detail?.steps ?? [];
      const ok = steps.length > 0 && steps.every((s) => s.target_reached);
      status.textContent = `planned ${steps.length} step(s) in ${e.detail?.timing_ms?.total?.toFixed?.(0) ?? "?"} ms${ok ? "" : " (target not reached)"}`;
    });
    on("valuescape:error", (e) => {
      status.dataset.state = "error";
      status.textContent = `Plan failed: ${e.detail?.text ?? e.detail?.message ?? "unknown error"}`;
    });
    on("valuescape:notice", (e) => {
      status.dataset.state = "notice";
      status.textContent = e.detail?.message ?? "";
    });
    // The GPU device was lost: the renderer cannot draw again on this page (one playground per
    // page), so a page that gave us its URL (global + hash-state) is restarted from the state's
    // hash on the WebGL2 bundle (the CPU path). A listener may preventDefault() to handle it.
    on("valuescape:devicelost", (e) => {
      status.dataset.state = "notice";
      status.textContent = `${e.detail?.message ?? "The GPU device was lost."}`;
      setTimeout(() => {
        if (e.defaultPrevented) return;
        if (!(this.hasAttribute("global") && this.hasAttribute("hash-state"))) {
          status.textContent += " Reload the page to continue.";
          return;
        }
        // No reload loop: at most 3 restarts a minute.
        const key = "valuescape-restarts";
        const recent = JSON.parse(sessionStorage.getItem(key) ?? "[]").filter((t) => Date.now() - t < 60_000);
        if (recent.length >= 3) {
          status.textContent += " Reload the page to continue.";
          return;
        }
        sessionStorage.setItem(key, JSON.stringify([...recent, Date.now()]));
        // What was typed and not submitted is not in the hash: carried over, put back below.
        if (e.detail?.draft) sessionStorage.setItem("valuescape-draft", e.detail.draft);
        const u = new URL(location.href);
        u.searchParams.set("backend", "webgl2");
        u.hash = e.detail?.hash ?? location.hash;
        status.textContent += " Restarting on the WebGL2 (CPU) path...";
        location.replace(u.href);
      }, 0);
    });
    const syncHash = this.hasAttribute("hash-state");
    let lastHash = syncHash ? location.hash : "";
    if (syncHash) {
      on("valuescape:state", (e) => {
        const h = e.detail?.hash;
        if (h && h !== location.hash) {
          lastHash = h;
          history.replaceState(null, "", h);
        }
      });
      on("hashchange", () => {
        if (location.hash !== lastHash && this.playground) {
          lastHash = location.hash;
          this.playground.setHash(location.hash);
        }
      });
    }

    loadPlayground({
      canvas: `#${id}`,
      base: this.getAttribute("base") ?? undefined,
      backend:
        this.getAttribute("backend") ??
        (this.hasAttribute("global")
          ? new URLSearchParams(location.search).get("backend") ?? undefined
          : undefined),
      hash: syncHash ? location.hash : (this.getAttribute("hash") ?? ""),
    }).then(
      ({ playground, module, backend }) => {
        this.playground = playground;
        this.module = module;
        this.backend = backend;
        this.dataset.backend = backend;
        if (this.hasAttribute("global")) window.valuescape = this.api();
        const draft = sessionStorage.getItem("valuescape-draft");
        if (draft != null && this.hasAttribute("hash-state")) {
          sessionStorage.removeItem("valuescape-draft");
          playground.setDraft(draft);
        }
        this._resolve(this.api());
      },
      (err) => {
        status.dataset.state = "error";
        status.textContent = `Valuescape could not start: ${err?.message ?? err}`;
        console.error("valuescape: could not start", err);
        this._reject(err);
      },
    );
  }

  disconnectedCallback() {
    for (const [name, fn] of this._listeners) window.removeEventListener(name, fn);
    this._listeners = [];
    this.playground?.destroy();
  }

  /** The JS API: state(), setState(obj), replaceState(obj), hash(), setHash(h), status(),
   * tier(), layout(), setCompute("gpu" | "cpu"), loseGpuDevice(), setMeshOnly(on), setDraft(text),
   * presets(), destroy(). */
  api() {
    const el = this;
    return {
      element: el,
      backend: el.backend,
      state: () => el.playground.state(),
      setState: (s) => el.playground.setState(s),
      replaceState: (s) => el.playground.replaceState(s),
      hash: () => el.playground.hash(),
      setHash: (h) => el.playground.setHash(h),
      status: () => el.playground.status(),
      tier: () => el.playground.tier(),
      layout: () => el.playground.layout(),
      setCompute: (kind) => el.playground.setCompute(String(kind)),
      loseGpuDevice: () => el.playground.loseGpuDevice(),
      setMeshOnly: (on) => el.playground.setMeshOnly(!!on),
      setDraft: (text) => el.playground.setDraft(String(text)),
      presets: () => el.module.presets(),
      destroy: () => el.playground.destroy(),
    };
  }
}

if (!customElements.get("value-playground")) {
  customElements.define("value-playground", ValuePlayground);
}
