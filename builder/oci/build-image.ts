// buildImageLayout: turns a finished build into an OCI image layout. The shell around the pure
// pieces: reads the output folder, asks git for the revision, writes the layout.
import { execFile } from "node:child_process";
import { resolve } from "node:path";
import { promisify } from "node:util";
import type { BuildResult } from "../build.ts";
import { listFiles } from "../hash.ts";
import type { BaseImage, OciImageConfig } from "./base.ts";
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
  /** Image to build on (its layers first, its Env/PATH and labels kept); none: app layers only. */
  base?: BaseImage;
}

/** What an image is built from: a build's output folder, its spec, and its manifest's assets and inputs hash. */
export type ImageBuildInput = Pick<BuildResult, "spec" | "outDir"> & { manifest: Pick<BuildResult["manifest"], "assets" | "inputsHash"> };

/** A written image. */
export interface ImageLayoutResult {
  reference: ImageReference;
  layoutDir: string;
  /** `sha256:<hex>` of the manifest: the image's identity. */
  manifestDigest: string;
  configDigest: string;
  /** Every layer, bottom first: the base's (kind "base"), then the build's. */
  layers: { kind: LayerKind; digest: string; diffId: string; size: number }[];
  revision: string;
  /** The image config as written (Entrypoint, User, Env, ...), e.g. for a container runtime. */
  config: OciImageConfig;
}

/** Writes `build` as an image into an OCI layout: on `options.base` when given, else app layers only. */
export async function buildImageLayout(build: ImageBuildInput, options: BuildImageOptions): Promise<ImageLayoutResult> {
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
    ...(options.base && { base: options.base }),
  });
  await writeImageLayout(layoutDir, image, reference.tag, options.base?.blobDir);
  const baseLayers = image.baseLayers.map(({ digest, diffId, size }) => ({ kind: "base" as const, digest, diffId, size }));
  return {
    reference,
    layoutDir,
    manifestDigest: image.manifestDescriptor.digest,
    configDigest: image.configDescriptor.digest,
    layers: [...baseLayers, ...layers.map(({ kind, digest, diffId, size }) => ({ kind, digest, diffId, size }))],
    revision,
    config: JSON.parse(image.config.toString("utf8")) as OciImageConfig,
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
