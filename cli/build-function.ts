import { resolve } from "node:path";
import { buildFunction, type BuildResult } from "../builder/index.ts";
import { loadFunctionSpec } from "../spec/index.ts";

/** Reads function.yaml in `dir` and bundles the function (skipped when nothing changed). */
export async function loadAndBuild(dir: string, options: { force?: boolean } = {}): Promise<BuildResult> {
  const absolute = resolve(dir);
  const spec = await loadFunctionSpec(absolute);
  return buildFunction({ dir: absolute, spec, force: options.force ?? false });
}
