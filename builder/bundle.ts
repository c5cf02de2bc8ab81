// One esbuild run: the options (pure, and part of the inputs hash), the call itself, and
// esbuild's messages turned into one user-facing line each.
import { build, type BuildOptions, type Message, type Metafile, type OutputFile, type Plugin } from "esbuild";
import { join, resolve } from "node:path";
import type { FunctionSpec } from "../spec/types.ts";
import { BANNER, DEFINE, ENTRY_SOURCEFILE, makeEntrySource } from "./entry.ts";
import { BuildError, formatDiagnostic, type BuildDiagnostic } from "./errors.ts";
import { displayPath } from "./paths.ts";

/** What a bundle is made from, besides the files esbuild reads. */
export interface BundleInput {
  /** Absolute function directory. */
  dir: string;
  spec: FunctionSpec;
  /** Absolute final output folder (outputs are computed for it, then written elsewhere first). */
  outDir: string;
  /** File `skiff/runtime` resolves to. */
  runtimeEntry: string;
  /** Fallback node_modules folders for bare imports. */
  nodePaths: string[];
}

/** Bundle file name inside the output folder. */
export const BUNDLE_FILE = "index.mjs";

/** esbuild options of a build, without plugins: plain data, so they can be hashed. */
export function makeBundleOptions(input: BundleInput): BuildOptions {
  return {
    absWorkingDir: input.dir,
    stdin: {
      contents: makeEntrySource(resolve(input.dir, input.spec.entry), input.spec),
      resolveDir: input.dir,
      sourcefile: ENTRY_SOURCEFILE,
      loader: "js",
    },
    outdir: input.outDir,
    entryNames: BUNDLE_FILE.replace(/\.mjs$/, ""),
    chunkNames: "chunks/[name]-[hash]",
    outExtension: { ".js": ".mjs" },
    write: false,
    bundle: true,
    // Splitting puts what is only reached through import() (the CloudEvents SDK, loaded on the
    // first event) in its own chunk: parsing it and its hoisted imports cost every cold start
    // ~10-20ms, and HTTP-only replicas never need it. index.mjs stays the one entry.
    splitting: true,
    platform: "node",
    target: "node20",
    format: "esm",
    sourcemap: "linked",
    define: { ...DEFINE },
    minifySyntax: true,
    minifyWhitespace: true,
    // No keepNames: it wraps every closure in a __name() call on the request path; source maps
    // (node --enable-source-maps) already give readable stacks.
    keepNames: false,
    legalComments: "none",
    metafile: true,
    banner: { js: BANNER },
    nodePaths: input.nodePaths,
    logLevel: "silent",
  };
}

/** The outputs of a successful esbuild run. */
export interface BundleOutput {
  files: OutputFile[];
  metafile: Metafile;
  warnings: BuildDiagnostic[];
}

/** Runs esbuild; its errors become one BuildError with a `file:line:col: text` line each. */
export async function runBundle(options: BuildOptions, plugins: Plugin[], dir: string): Promise<BundleOutput> {
  let result;
  try {
    result = await build({ ...options, plugins });
  } catch (error) {
    const messages = (error as { errors?: unknown }).errors;
    if (!Array.isArray(messages) || messages.length === 0) {
      throw new BuildError(`esbuild failed: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
    }
    const diagnostics = (messages as Message[]).map((m) => toDiagnostic(m, dir));
    throw new BuildError(diagnostics.map(formatDiagnostic).join("\n"), { cause: error, diagnostics });
  }
  if (result.metafile === undefined || result.outputFiles === undefined) throw new BuildError("esbuild returned no output");
  return { files: result.outputFiles, metafile: result.metafile, warnings: result.warnings.map((m) => toDiagnostic(m, dir)) };
}

/** An esbuild message as a diagnostic: 1-based column, file relative to the function dir when inside. */
export function toDiagnostic(message: Pick<Message, "text" | "location">, dir: string): BuildDiagnostic {
  const text = message.text.includes('for import "default"')
    ? `${message.text} (the entry must \`export default defineFunction({...})\`)`
    : message.text;
  const loc = message.location;
  if (!loc || !loc.file) return { text };
  const file = loc.file === ENTRY_SOURCEFILE || loc.file.startsWith("<") ? loc.file : displayPath(dir, loc.file);
  return { file, line: loc.line, column: loc.column + 1, text };
}
