// Everything a model function needs beyond the plain runtime, behind one module so the
// runtime can import() it only when a function defines `model`: plain HTTP functions then
// never parse it at cold start (the bundler puts it in its own chunk).
export { ModelServer } from "./model-server.ts";
export { mountOip } from "./routes.ts";
