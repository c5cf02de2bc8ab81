// buildImageLayout: turns a finished build into an OCI image layout. The shell around the pure
// pieces: reads the output folder, asks git for the revision, writes the layout.
import { execFile } from "node:child_process";
import { resolve } from "node:path";
import { promisify } from "node:util";
import type { BuildResult } from "../build.ts";
import { listFiles } from "../hash.ts";
import { makeImage, ociArchitecture, parseSourceDateEpoch } from "./image.ts";
import { makeLayerPlan, readLayer, type LayerKind } from "./layers.ts";
import { defaultImageLayoutDir, writeImageLayout } from "./layout.ts";
import { parseImageReference, type ImageReference } from "./reference.ts";

/** What to write. */
export interface BuildImageOptions {
  /** Function directory: the layout goes to `<dir>/.skiff/images/<name>` unless layoutDir is set. */
  dir: string;
  /** Image reference; its tag names the image in the layout. */
  reference: string;
  layoutDir?: string;
  /** SOURCE_DATE_EPOCH (seconds) for mtimes and `created`; defaults to the environment's, else 0. */
  sourceDateEpoch?: string;
  /** Source revision label; defaults to `git rev-parse HEAD` in dir, else the build's inputs hash. */
  revision?: string;
}

/** A written image. */
export interface ImageLayoutResult {
  reference: ImageReference;
  layoutDir: string;
  /** `sha256:<hex>` of the manifest: the image's identity. */
  manifestDigest: string;
  configDigest: string;
  layers: { kind: LayerKind; digest: string; diffId: string; size: number }[];
  revision: string;
}

/** Writes `build` as an image (app layers only, no base yet) into an OCI layout. */
export async function buildImageLayout(build: BuildResult, options: BuildImageOptions): Promise<ImageLayoutResult> {
  const reference = parseImageReference(options.reference);
  const dir = resolve(options.dir);
  const layoutDir = resolve(options.layoutDir ?? defaultImageLayoutDir(dir, build.spec.name));
  const epochSec = parseSourceDateEpoch(options.sourceDateEpoch ?? process.env.SOURCE_DATE_EPOCH);
  const plans = makeLayerPlan(await listFiles(build.outDir), Object.keys(build.manifest.assets));
  const layers = [];
  // One at a time: layers may hold large models, each is held in memory while it is written.
  for (const plan of plans) layers.push(await readLayer(build.outDir, plan, epochSec));
  const revision = options.revision ?? (await readGitRevision(dir)) ?? build.manifest.inputsHash;
  const image = makeImage({
    spec: build.spec,
    layers,
    revision,
    inputsHash: build.manifest.inputsHash,
    architecture: ociArchitecture(process.arch),
    createdSec: epochSec,
  });
  await writeImageLayout(layoutDir, image, reference.tag);
  return {
    reference,
    layoutDir,
    manifestDigest: image.manifestDescriptor.digest,
    configDigest: image.configDescriptor.digest,
    layers: layers.map(({ kind, digest, diffId, size }) => ({ kind, digest, diffId, size })),
    revision,
  };
}

/** The commit checked out at dir, or undefined outside a git work tree (or without git). */
async function readGitRevision(dir: string): Promise<string | undefined> {
  try {
    const { stdout } = await promisify(execFile)("git", ["-C", dir, "rev-parse", "--verify", "HEAD"], { timeout: 5_000 });
    const rev = stdout.trim();
    return /^[0-9a-f]{40,64}$/.test(rev) ? rev : undefined;
  } catch {
    return undefined;
  }
}
