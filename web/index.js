// @valuescape/playground: the loader and the <value-playground> element.
export { BACKENDS, chooseBackend, loadPlayground } from "./loader.js";
export { ValuePlayground } from "./element.js";
