// Where things are: the build output of a function, and this repository's runtime, found
// from the builder's own file so functions outside the repository build too.
import { isAbsolute, join, relative, resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";

/** Root of this repository (the folder holding builder/ and runtime/). */
export const REPO_ROOT = fileURLToPath(new URL("..", import.meta.url)).replace(/[\\/]$/, "");

/** The module `skiff/runtime` resolves to. */
export const RUNTIME_ENTRY = join(REPO_ROOT, "runtime", "index.ts");

/** Stub of node:http2 given to @hono/node-server in bundles (see runtime/shims/). */
export const HTTP2_STUB = join(REPO_ROOT, "runtime", "shims", "http2-for-node-server.ts");

/** Fallback node_modules for bare imports a function's own node_modules lacks (hono etc.). */
export const REPO_NODE_MODULES = join(REPO_ROOT, "node_modules");

/** Default output folder of a function's build: `<dir>/.skiff/build/<name>`. */
export function defaultOutDir(dir: string, name: string): string {
  return join(resolve(dir), ".skiff", "build", name);
}

/** True when `path` is `root` or inside it. */
export function isInside(root: string, path: string): boolean {
  const rel = relative(root, path);
  return rel === "" || (!rel.startsWith(`..${sep}`) && rel !== ".." && !isAbsolute(rel));
}

/** How a file is named to users and in the manifest: relative (posix) inside `dir`, else absolute. */
export function displayPath(dir: string, path: string): string {
  const abs = resolve(dir, path);
  return isInside(dir, abs) ? toPosix(relative(dir, abs)) : abs;
}

/** Forward slashes, so manifests are the same on every platform. */
export function toPosix(path: string): string {
  return path.split(sep).join("/");
}
