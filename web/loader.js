// Valuescape loader: picks a bundle (WebGPU when the browser has it and the bundle was
// built, WebGL2 otherwise), instantiates it and starts the playground on a canvas.
//
//   import { loadPlayground } from "./loader.js";
//   const pg = await loadPlayground({ canvas: "#c", base: "./pkg/", hash: location.hash });
//
// Bundles live in `${base}${backend}/valuescape_web.js`; `${base}bundles.json` lists the
// backends that were built (`{"bundles": ["webgl2"]}`), so no request is made for a bundle
// that does not exist.

/** Backends in order of preference. */
export const BACKENDS = ["webgpu", "webgl2"];

async function builtBundles(base) {
  try {
    const r = await fetch(new URL("bundles.json", base), { cache: "no-cache" });
    if (r.ok) {
      const j = await r.json();
      if (Array.isArray(j.bundles) && j.bundles.length) return j.bundles;
    }
  } catch (_) {
    // fall through
  }
  return ["webgl2"];
}

async function hasWebGpu() {
  try {
    if (!("gpu" in navigator) || !navigator.gpu) return false;
    const adapter = await navigator.gpu.requestAdapter();
    return !!adapter;
  } catch (_) {
    return false;
  }
}

/**
 * The backend to load: `prefer` if given and built; else WebGPU if built and available;
 * else WebGL2.
 */
export async function chooseBackend(base, prefer) {
  const built = await builtBundles(base);
  if (prefer && built.includes(prefer)) return prefer;
  if (built.includes("webgpu") && (await hasWebGpu())) return "webgpu";
  return "webgl2";
}

/**
 * Loads a bundle and starts the playground on `canvas` (a CSS selector).
 * Resolves to `{ playground, module, backend }`.
 */
export async function loadPlayground({ canvas, base, hash = "", backend } = {}) {
  const baseUrl = new URL(base ?? "./pkg/", document.baseURI);
  const chosen = await chooseBackend(baseUrl, backend);
  const dir = new URL(`${chosen}/`, baseUrl);
  const module = await import(new URL("valuescape_web.js", dir).href);
  await module.default({ module_or_path: new URL("valuescape_web_bg.wasm", dir) });
  const playground = module.start(canvas, hash);
  return { playground, module, backend: chosen };
}
