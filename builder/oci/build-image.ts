// buildImageLayout: turns a finished build into an OCI image layout. The shell around the pure
// pieces: makes (or reuses, see app-layers.ts) the layers, reads the revision, writes the layout.
import { resolve } from "node:path";
import type { BuildResult } from "../build.ts";
import { makeAppLayers } from "./app-layers.ts";
import type { BaseImage, OciImageConfig } from "./base.ts";
import { readGitRevision } from "./git-revision.ts";
import { makeImage, ociArchitecture, parseSourceDateEpoch } from "./image.ts";
import type { AppLayerKind, LayerKind } from "./layers.ts";
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
  /** Source revision label; defaults to the commit checked out at dir (git-revision.ts), else the build's inputs hash. */
  revision?: string;
  /** Image to build on (its layers first, its Env/PATH and labels kept); none: app layers only. */
  base?: BaseImage;
}

/**
 * What an image is built from: a build's output folder, its spec, and its manifest's assets and
 * inputs hash; with the manifest's output file hashes, unchanged layers come from the layer cache
 * without hashing their files again.
 */
export type ImageBuildInput = Pick<BuildResult, "spec" | "outDir"> & {
  manifest: Pick<BuildResult["manifest"], "assets" | "inputsHash"> & Partial<Pick<BuildResult["manifest"], "files">>;
};

/** A written image. */
export interface ImageLayoutResult {
  reference: ImageReference;
  layoutDir: string;
  /** `sha256:<hex>` of the manifest: the image's identity. */
  manifestDigest: string;
  configDigest: string;
  /** Every layer, bottom first: the base's (kind "base"), then the build's. */
  layers: { kind: LayerKind; digest: string; diffId: string; size: number }[];
  /** The build's layers taken from the layout's layer cache (not tarred or compressed again). */
  reusedLayers: AppLayerKind[];
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
  const [app, gitRevision] = await Promise.all([
    makeAppLayers({
      outDir: build.outDir,
      assetFiles: Object.keys(build.manifest.assets),
      ...(build.manifest.files && { fileHashes: build.manifest.files }),
      layoutDir,
      mtimeSec: epochSec,
    }),
    options.revision === undefined ? readGitRevision(dir) : undefined,
  ]);
  const layers = app.layers;
  const revision = options.revision ?? gitRevision ?? build.manifest.inputsHash;
  const image = makeImage({
    spec: build.spec,
    layers,
    revision,
    inputsHash: build.manifest.inputsHash,
    architecture: ociArchitecture(process.arch),
    createdSec: epochSec,
    ...(options.base && { base: options.base }),
  });
  const { liveDigests } = await writeImageLayout(layoutDir, image, reference.tag, options.base?.blobDir);
  await app.saveCache(liveDigests);
  const baseLayers = image.baseLayers.map(({ digest, diffId, size }) => ({ kind: "base" as const, digest, diffId, size }));
  return {
    reference,
    layoutDir,
    manifestDigest: image.manifestDescriptor.digest,
    configDigest: image.configDescriptor.digest,
    layers: [...baseLayers, ...layers.map(({ kind, digest, diffId, size }) => ({ kind, digest, diffId, size }))],
    reusedLayers: app.reused,
    revision,
    config: JSON.parse(image.config.toString("utf8")) as OciImageConfig,
  };
}
