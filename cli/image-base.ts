// Turns a `--base` spec into the base image a build stacks on. Bases are shared by every function
// on the machine, so they live in the user's cache, not in a function's .skiff:
//   ${XDG_CACHE_HOME:-~/.cache}/skiff/bases/host/      host bases (one per node binary and libs)
//   ${XDG_CACHE_HOME:-~/.cache}/skiff/bases/registry/  one content store of pulled blobs
// Function layouts hard-link base blobs from there (same filesystem), so a base costs its size once.
import { homedir } from "node:os";
import { join } from "node:path";
import {
  DockerConfigError, ensureHostBase, loadBaseFromLayout, makeBaseLayers, pullImageFromReference, RegistryError,
  type BaseImage, type CredentialSource, type OciImageConfig,
} from "../builder/index.ts";
import { formatBaseSpec, type BaseSpec } from "./base-spec.ts";
import { CliError } from "./errors.ts";
import { formatBytes } from "./io.ts";

/** A base ready to build on, and what output says about it. */
export interface ResolvedBase {
  /** Undefined for scratch: the app layers only. */
  image?: BaseImage;
  /** The spec as given (`host`, `oci:/x:y`, `registry/repo:tag`). */
  name: string;
  kind: BaseSpec["kind"];
  /** Digest of the base's manifest (for registry and layout bases, and host bases). */
  manifestDigest?: string;
  /** For a registry base: where it came from (a push to the same registry may mount its blobs). */
  source?: { registry: string; repository: string };
  /** Bytes fetched from the registry for it (0 when every blob was cached). */
  bytesDownloaded?: number;
}

/** Settings of resolveBase. */
export interface ResolveBaseOptions {
  /** Skiff's cache root (default: skiffCacheDir()). */
  cacheDir?: string;
  /** Plain http to a registry off loopback. */
  insecure?: boolean;
  /** Registry credentials (default: Docker's config file). */
  credentials?: CredentialSource;
  /** Human progress lines (a pull, a host base built for the first time). */
  onProgress?: (message: string) => void;
}

/** `${XDG_CACHE_HOME:-~/.cache}/skiff`: bases pulled or built once per machine. */
export function skiffCacheDir(env: Readonly<Record<string, string | undefined>> = process.env, home: string = homedir()): string {
  const xdg = env.XDG_CACHE_HOME;
  // XDG says a relative value is invalid and must be ignored.
  return join(xdg && xdg.startsWith("/") ? xdg : join(home, ".cache"), "skiff");
}

/** Where bases live under a cache root. */
export function baseCacheDirs(cacheDir: string) {
  return { host: join(cacheDir, "bases", "host"), registry: join(cacheDir, "bases", "registry") };
}

/** Makes `spec` into a base image: reads a layout, builds (or reuses) the host base, or pulls. */
export async function resolveBase(spec: BaseSpec, options: ResolveBaseOptions = {}): Promise<ResolvedBase> {
  const name = formatBaseSpec(spec);
  const dirs = baseCacheDirs(options.cacheDir ?? skiffCacheDir());
  switch (spec.kind) {
    case "scratch":
      return { name, kind: spec.kind };
    case "host":
      return hostBase(dirs.host);
    case "layout": {
      const image = await loadBaseFromLayout(spec.dir, spec.tag).catch((error: unknown) => {
        throw new CliError(`--base ${name}: ${(error as Error).message}`, { cause: error });
      });
      return { name, kind: spec.kind, image };
    }
    case "registry":
      return registryBase(spec, name, dirs.registry, options);
  }
}

async function hostBase(dir: string): Promise<ResolvedBase> {
  if (process.platform !== "linux") {
    // Its node binary and libraries are this machine's: only a Linux host makes a Linux image.
    throw new CliError(`the host base needs a Linux host (this is ${process.platform}): pass --base docker.io/library/node:20-bookworm-slim, or --base scratch for the app layers only`);
  }
  const base = await ensureHostBase(dir).catch((error: unknown) => {
    throw new CliError(`cannot build the host base (node ${process.execPath} and its libraries): ${(error as Error).message}; pass --base REF to use a registry image instead`, { cause: error });
  });
  return { name: "host", kind: "host", image: { layers: base.layers, config: base.config, blobDir: base.blobDir }, manifestDigest: base.manifestDigest };
}

/**
 * Pulls the base into the shared content store. The manifest is asked for on every build (a tag
 * may move), and only blobs the store lacks are fetched. The pull's own descriptors are used,
 * not a tag in the store's index.json, so concurrent builds with other bases never race.
 */
async function registryBase(spec: Extract<BaseSpec, { kind: "registry" }>, name: string, storeDir: string, options: ResolveBaseOptions): Promise<ResolvedBase> {
  options.onProgress?.(`base: pulling ${name}`);
  const pulled = await pullImageFromReference(spec.text, {
    storeDir,
    ...(options.insecure !== undefined && { insecure: options.insecure }),
    ...(options.credentials && { credentials: options.credentials }),
    onBlob: (blob) => {
      if (blob.action === "downloaded") options.onProgress?.(`  downloaded ${blob.digest.slice(0, 19)} (${formatBytes(blob.size)})`);
    },
  }).catch((error: unknown) => {
    if (error instanceof RegistryError || error instanceof DockerConfigError) throw new CliError(`cannot pull the base ${name}: ${error.message}`, { cause: error });
    throw error;
  });
  const config = pulled.configJson as OciImageConfig;
  let layers;
  try {
    layers = makeBaseLayers(pulled.layers, config);
  } catch (error) {
    throw new CliError(`--base ${name}: ${(error as Error).message}`, { cause: error });
  }
  return {
    name,
    kind: "registry",
    image: { layers, config, blobDir: storeDir },
    manifestDigest: pulled.manifest.digest,
    source: { registry: spec.ref.registry, repository: spec.ref.repository },
    bytesDownloaded: pulled.bytesDownloaded,
  };
}
