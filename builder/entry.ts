// The generated parts of a bundle: the entry module that starts a replica around the user's
// default export, and the banner that lets bundled CommonJS code run as ESM.
import type { FunctionSpec } from "../spec/types.ts";
import { stableJson } from "./hash.ts";

/** Name the generated entry carries in esbuild messages and source maps. */
export const ENTRY_SOURCEFILE = "<skiff-entry>";

/**
 * The entry module: imports the user's function and starts a replica with the spec baked in.
 * baseDir is where the bundle lives at run time, so assets resolve beside it wherever it is copied.
 */
export function makeEntrySource(entryPath: string, spec: FunctionSpec): string {
  return [
    `import fn from ${JSON.stringify(entryPath)};`,
    `import { startReplica } from "skiff/runtime";`,
    `import { dirname } from "node:path";`,
    `import { fileURLToPath } from "node:url";`,
    `startReplica(fn, { spec: ${stableJson(spec)}, baseDir: dirname(fileURLToPath(import.meta.url)) });`,
    "",
  ].join("\n");
}

/**
 * Banner giving bundled CommonJS a `require` (for externals and node builtins) and the file
 * names. esbuild reserves the name `require` at the top level, but not `__filename` or
 * `__dirname`: an ESM dependency declaring `const __dirname = ...` (a common idiom) would
 * collide with a banner declaring them. So those live under private names, and DEFINE maps
 * the free identifiers onto them; declared ones are left alone.
 */
export const BANNER = [
  `import { createRequire as __skiffCreateRequire } from "node:module";`,
  `import { fileURLToPath as __skiffFileURLToPath } from "node:url";`,
  `import { dirname as __skiffDirname } from "node:path";`,
  `const require = __skiffCreateRequire(import.meta.url);`,
  `const __skiff_filename = __skiffFileURLToPath(import.meta.url);`,
  `const __skiff_dirname = __skiffDirname(__skiff_filename);`,
].join("\n");

/** Compile-time replacements: production mode, and free `__filename`/`__dirname` onto the banner's. */
export const DEFINE: Readonly<Record<string, string>> = {
  "process.env.NODE_ENV": '"production"',
  __filename: "__skiff_filename",
  __dirname: "__skiff_dirname",
};
