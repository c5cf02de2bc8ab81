// Building a function's OCI image and, optionally, pushing it: what `skiff build --image` does,
// and what `skiff deploy --kube` reuses. Flags are checked first (checkImageOptions, pure), so a
// bad reference fails as a usage error before any bundling; then bundle, base, layout, push.
import {
  buildImageLayout, DockerConfigError, ImageReferenceError, parseImageReference, pushImageToReference, RegistryError,
  type BuildResult, type CredentialSource, type ImageLayoutResult, type ImageReference, type PushResult,
} from "../builder/index.ts";
import { BaseSpecError, DEFAULT_BASE, parseBaseSpec, type BaseSpec } from "./base-spec.ts";
import { loadAndBuild } from "./build-function.ts";
import { CliError, UsageError } from "./errors.ts";
import { resolveBase, type ResolvedBase } from "./image-base.ts";
import { formatBytes } from "./io.ts";

/** What image to make of a function, and where it goes. */
export interface FunctionImageOptions {
  /** `[registry/]repo[:tag]`: names the image in the layout, and the push target. */
  image: string;
  /** `host` (default), `scratch`, `oci:PATH[:TAG]` or a registry reference (see cli/base-spec.ts). */
  base?: string;
  /** Push the image to `image` once the layout is written. */
  push?: boolean;
  /** Plain http to registries off loopback (loopback ones always get plain http). */
  insecure?: boolean;
  /** Bundle again even when nothing changed. */
  force?: boolean;
  /** Skiff's cache root for bases (default `${XDG_CACHE_HOME:-~/.cache}/skiff`). */
  cacheDir?: string;
  /** Registry credentials for pull and push (default: Docker's config file, $DOCKER_CONFIG). */
  credentials?: CredentialSource;
  /** Human progress lines (base pull, blobs pushed); the CLI prints them to stderr. */
  onProgress?: (message: string) => void;
}

/** A built (and maybe pushed) function image. */
export interface FunctionImage {
  build: BuildResult;
  base: ResolvedBase;
  /** The OCI layout at `<dir>/.skiff/images/<name>`, tagged with the reference's tag. */
  layout: ImageLayoutResult;
  /** Set when pushed: `reference` is `registry/repo:tag@sha256:…`, per-blob actions in `blobs`. */
  push?: PushResult & { target: ImageReference };
}

/** The flags, checked: a bad reference or base is a UsageError (exit 2), raised before any work. */
export function checkImageOptions(options: Pick<FunctionImageOptions, "image" | "base">, usage?: string): { target: ImageReference; base: BaseSpec } {
  try {
    return { target: parseImageReference(options.image), base: parseBaseSpec(options.base ?? DEFAULT_BASE) };
  } catch (error) {
    if (error instanceof ImageReferenceError || error instanceof BaseSpecError) throw new UsageError(error.message, usage);
    throw error;
  }
}

/** Bundles the function in `dir` (unless up to date), writes its image on the base, and pushes it if asked. */
export async function buildFunctionImage(dir: string, options: FunctionImageOptions): Promise<FunctionImage> {
  const checked = checkImageOptions(options);
  const build = await loadAndBuild(dir, { force: options.force ?? false });
  return { build, ...(await imageFromBuild(build, dir, options, checked.base)) };
}

/** The image of a finished build (for callers that bundled already). */
export async function imageFromBuild(build: BuildResult, dir: string, options: FunctionImageOptions, baseSpec?: BaseSpec): Promise<Omit<FunctionImage, "build">> {
  const spec = baseSpec ?? checkImageOptions(options).base;
  const base = await resolveBase(spec, {
    ...(options.cacheDir !== undefined && { cacheDir: options.cacheDir }),
    ...(options.insecure !== undefined && { insecure: options.insecure }),
    ...(options.credentials && { credentials: options.credentials }),
    ...(options.onProgress && { onProgress: options.onProgress }),
  });
  const layout = await writeLayout(build, dir, options.image, base);
  if (!options.push) return { base, layout };
  return { base, layout, push: await pushLayout(layout, options, base) };
}

async function writeLayout(build: BuildResult, dir: string, image: string, base: ResolvedBase): Promise<ImageLayoutResult> {
  try {
    return await buildImageLayout(build, { dir, reference: image, ...(base.image && { base: base.image }) });
  } catch (error) {
    throw new CliError(`failed to write the image of "${build.spec.name}" on base ${base.name}: ${(error as Error).message}`, { cause: error });
  }
}

/**
 * Pushes the layout's image. Blobs the target has are skipped (HEAD); a base pulled from the same
 * registry lends its blobs by cross-repository mount, so the base is never uploaded there.
 */
async function pushLayout(layout: ImageLayoutResult, options: FunctionImageOptions, base: ResolvedBase): Promise<PushResult & { target: ImageReference }> {
  const mountFrom = base.source?.registry === layout.reference.registry ? base.source.repository : undefined;
  options.onProgress?.(`pushing ${options.image}${mountFrom ? ` (base blobs mounted from ${mountFrom})` : ""}`);
  try {
    return await pushImageToReference(options.image, {
      layoutDir: layout.layoutDir,
      layoutTag: layout.reference.tag,
      ...(mountFrom !== undefined && { mountFrom }),
      ...(options.insecure !== undefined && { insecure: options.insecure }),
      ...(options.credentials && { credentials: options.credentials }),
      onBlob: (blob) => options.onProgress?.(`  ${blob.action} ${blob.digest.slice(0, 19)} (${formatBytes(blob.size)})`),
    });
  } catch (error) {
    if (error instanceof RegistryError || error instanceof DockerConfigError) throw new CliError(`cannot push ${options.image}: ${error.message}`, { cause: error });
    throw error;
  }
}
