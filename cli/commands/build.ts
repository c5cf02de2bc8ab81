import { relative } from "node:path";
import { parseVerbArgs } from "../args.ts";
import { loadAndBuild } from "../build-function.ts";
import { UsageError } from "../errors.ts";
import { report, type Io } from "../io.ts";

const USAGE = "build [dir] [--force]";

/** `skiff build`: bundles a function into <dir>/.skiff/build/<name>/. */
export async function run(argv: string[], io: Io): Promise<number> {
  const { values, positionals } = parseVerbArgs(argv, { force: { type: "boolean", default: false } }, USAGE);
  if (positionals.length > 1) throw new UsageError("expected at most one directory", USAGE);
  const result = await loadAndBuild(positionals[0] ?? ".", { force: values.force as boolean });
  const where = relative(process.cwd(), result.outDir) || ".";
  report(
    io,
    values.json as boolean,
    { name: result.spec.name, outDir: result.outDir, bundle: result.bundlePath, rebuilt: result.rebuilt, durationMs: Math.round(result.durationMs), inputsHash: result.manifest.inputsHash },
    result.rebuilt ? `built ${result.spec.name} -> ${where} in ${Math.round(result.durationMs)}ms` : `${result.spec.name} is up to date (${where})`,
  );
  return 0;
}
