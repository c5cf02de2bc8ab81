import { relative } from "node:path";
import type { BuildResult } from "../../builder/index.ts";
import { parseVerbArgs } from "../args.ts";
import { loadAndBuild } from "../build-function.ts";
import { UsageError } from "../errors.ts";
import { checkImageOptions, imageFromBuild, type FunctionImageOptions } from "../image-build.ts";
import { imageLines, imageSummary } from "../image-report.ts";
import { report, type Io } from "../io.ts";

const USAGE =
  "build [dir] [--force] [--image REF [--push] [--base host|scratch|oci:PATH[:TAG]|REF] [--insecure-registry]]   " +
  "(--image writes an OCI layout to <dir>/.skiff/images/<name>, on the host's node unless --base says otherwise; " +
  "--push sends it to REF: loopback registries over http, others over https unless --insecure-registry)";

const OPTIONS = {
  force: { type: "boolean", default: false },
  image: { type: "string" },
  base: { type: "string" },
  push: { type: "boolean", default: false },
  "insecure-registry": { type: "boolean", default: false },
} as const;

/** `skiff build`: bundles a function into <dir>/.skiff/build/<name>/; with --image, also an OCI image (and pushes it with --push). */
export async function run(argv: string[], io: Io): Promise<number> {
  const { values, positionals } = parseVerbArgs(argv, OPTIONS, USAGE);
  if (positionals.length > 1) throw new UsageError("expected at most one directory", USAGE);
  const json = values.json as boolean;
  const imageOptions = readImageFlags(values, json ? undefined : (line) => io.err(line));
  const dir = positionals[0] ?? ".";
  const result = await loadAndBuild(dir, { force: values.force as boolean });
  const image = imageOptions && (await imageFromBuild(result, dir, imageOptions));
  report(io, json, { ...buildSummary(result), ...(image && { image: imageSummary(image) }) }, [buildLine(result), ...(image ? imageLines(image) : [])].join("\n"));
  return 0;
}

/** The image flags, checked before any bundling (a bad reference or base is a usage error); undefined without --image. */
function readImageFlags(values: Record<string, unknown>, onProgress: ((line: string) => void) | undefined): FunctionImageOptions | undefined {
  const image = values.image as string | undefined;
  const base = values.base as string | undefined;
  const push = values.push as boolean;
  const insecure = values["insecure-registry"] as boolean;
  if (image === undefined) {
    if (base !== undefined || push || insecure) throw new UsageError("--base, --push and --insecure-registry need --image REF", USAGE);
    return undefined;
  }
  checkImageOptions({ image, ...(base !== undefined && { base }) }, USAGE);
  return { image, push, insecure, ...(base !== undefined && { base }), ...(onProgress && { onProgress }) };
}

function buildSummary(result: BuildResult) {
  return { name: result.spec.name, outDir: result.outDir, bundle: result.bundlePath, rebuilt: result.rebuilt, durationMs: Math.round(result.durationMs), inputsHash: result.manifest.inputsHash };
}

function buildLine(result: BuildResult): string {
  const where = relative(process.cwd(), result.outDir) || ".";
  const ms = Math.round(result.durationMs);
  return result.rebuilt ? `built ${result.spec.name} -> ${where} in ${ms}ms` : `${result.spec.name} is up to date (${where})`;
}
