import { relative } from "node:path";
import { buildImageLayout, ImageReferenceError, parseImageReference, type BuildResult, type ImageLayoutResult } from "../../builder/index.ts";
import { parseVerbArgs } from "../args.ts";
import { loadAndBuild } from "../build-function.ts";
import { CliError, UsageError } from "../errors.ts";
import { report, type Io } from "../io.ts";

// The image has the app layers only (no --base yet), so it needs `node` from a base image to run.
const USAGE =
  "build [dir] [--force] [--image REF]   (--image writes an OCI layout to <dir>/.skiff/images/<name>: app layers only, " +
  "run it on a base image that provides node; --base and --push are not implemented yet)";

/** `skiff build`: bundles a function into <dir>/.skiff/build/<name>/; with --image, also an OCI image layout. */
export async function run(argv: string[], io: Io): Promise<number> {
  const { values, positionals } = parseVerbArgs(
    argv,
    { force: { type: "boolean", default: false }, image: { type: "string" }, base: { type: "string" }, push: { type: "boolean", default: false } },
    USAGE,
  );
  if (positionals.length > 1) throw new UsageError("expected at most one directory", USAGE);
  const image = values.image as string | undefined;
  checkImageFlags(image, values.base as string | undefined, values.push as boolean);
  const dir = positionals[0] ?? ".";
  const result = await loadAndBuild(dir, { force: values.force as boolean });
  const layout = image === undefined ? undefined : await writeImage(result, dir, image);
  const json = values.json as boolean;
  report(io, json, { ...buildSummary(result), ...(layout && { image: imageSummary(layout) }) }, [buildLine(result), ...(layout ? [imageLine(layout)] : [])].join("\n"));
  return 0;
}

/** Fails fast, before any bundling, on a bad reference or a flag whose part is not built yet. */
function checkImageFlags(image: string | undefined, base: string | undefined, push: boolean): void {
  if ((base !== undefined || push) && image === undefined) throw new UsageError("--base and --push need --image REF", USAGE);
  if (base !== undefined) throw new UsageError("--base is not implemented yet (it needs the registry client); images hold the app layers only", USAGE);
  if (push) throw new UsageError("--push is not implemented yet; copy the layout with `skopeo copy oci:<layout>:<tag> docker://<REF>`", USAGE);
  if (image === undefined) return;
  try {
    parseImageReference(image);
  } catch (error) {
    if (error instanceof ImageReferenceError) throw new UsageError(error.message, USAGE);
    throw error;
  }
}

async function writeImage(result: BuildResult, dir: string, image: string): Promise<ImageLayoutResult> {
  try {
    return await buildImageLayout(result, { dir, reference: image });
  } catch (error) {
    throw new CliError(`failed to write the image of "${result.spec.name}": ${(error as Error).message}`, { cause: error });
  }
}

function buildSummary(result: BuildResult) {
  return { name: result.spec.name, outDir: result.outDir, bundle: result.bundlePath, rebuilt: result.rebuilt, durationMs: Math.round(result.durationMs), inputsHash: result.manifest.inputsHash };
}

function imageSummary(layout: ImageLayoutResult) {
  const { registry, repository, tag } = layout.reference;
  return { reference: `${registry}/${repository}:${tag}`, tag, layout: layout.layoutDir, manifestDigest: layout.manifestDigest, configDigest: layout.configDigest, layers: layout.layers, revision: layout.revision };
}

function buildLine(result: BuildResult): string {
  const where = relative(process.cwd(), result.outDir) || ".";
  const ms = Math.round(result.durationMs);
  return result.rebuilt ? `built ${result.spec.name} -> ${where} in ${ms}ms` : `${result.spec.name} is up to date (${where})`;
}

function imageLine(layout: ImageLayoutResult): string {
  const where = relative(process.cwd(), layout.layoutDir) || ".";
  return `image ${layout.manifestDigest} -> ${where} (tag ${layout.reference.tag}; oci:${where}:${layout.reference.tag})`;
}
