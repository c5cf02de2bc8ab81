// Pulling an image into a local content store: resolve the reference to this platform's
// manifest (resolve.ts), then fetch config and layers, each checked against its digest while it
// streams to disk. Blobs already in the store are not fetched again.
import { readFile } from "node:fs/promises";
import type { RegistryClient } from "./client.ts";
import { blobPath, hasBlob, storeBlob, storeBytes } from "./content-store.ts";
import { RegistryError, type RegistryErrorContext } from "./errors.ts";
import { mapLimit } from "./map-limit.ts";
import type { ContentDescriptor } from "./media-types.ts";
import { formatPlatform, hostPlatform, normalizeVariant, type Platform } from "./platform.ts";
import { parseOrThrow, resolveImage } from "./resolve.ts";
import { recordStoreTag } from "./store-index.ts";

/** What to pull. */
export interface PullImageOptions {
  repository: string;
  /** A tag, or a digest (`sha256:…`, verified against the manifest's bytes). */
  reference: string;
  /** Platform to choose from an index; defaults to linux on this machine's architecture. */
  platform?: Platform;
  /** Content store directory; blobs land in `<storeDir>/blobs/sha256/<hex>`. */
  storeDir: string;
  /** Fetch the layers too (default); false stops after manifest and config. */
  layers?: boolean;
  /**
   * Also record the pulled (platform) manifest under this tag in `<storeDir>/index.json`, making
   * the store an OCI layout that skopeo, umoci and readImageFromLayout read. Needs layers.
   */
  layoutTag?: string;
  concurrency?: number;
  /** Called per config/layer blob: fetched now, or found in the store. */
  onBlob?: (blob: { digest: string; size: number; action: "downloaded" | "cached" }) => void;
}

/** A pulled image: what it is made of, all in the store. */
export interface PulledImage {
  /** Digest the reference resolved to (the index's, when it named one). */
  digest: string;
  mediaType: string;
  /** The index or manifest list the reference named, when it was one. */
  index?: ContentDescriptor;
  /** The image manifest (chosen from the index when there was one), with its platform. */
  manifest: ContentDescriptor;
  config: ContentDescriptor;
  layers: ContentDescriptor[];
  /** The image config document (architecture, os, rootfs.diff_ids, history, config.Env...). */
  configJson: Record<string, unknown>;
  /** Blob bytes fetched by this pull (0 when all were in the store). */
  bytesDownloaded: number;
}

const DEFAULT_CONCURRENCY = 3;

/** Pulls `repository:reference` from the client's registry into `storeDir`. */
export async function pullImage(client: RegistryClient, options: PullImageOptions): Promise<PulledImage> {
  const platform = options.platform ?? hostPlatform();
  const context = (operation: string, digest?: string): RegistryErrorContext => ({ registry: client.registry, repository: options.repository, operation, ...(digest ? { digest } : {}) });
  const resolved = await resolveImage(client, options.repository, options.reference, platform);
  for (const doc of [resolved.index, resolved.manifest]) {
    if (doc) await storeBytes(options.storeDir, doc.descriptor, doc.bytes, context("store manifest", doc.descriptor.digest));
  }
  const { config, layers } = resolved;
  let bytesDownloaded = await pullBlob(client, options, config);
  const configText = await readFile(blobPath(options.storeDir, config.digest), "utf8");
  const configJson = parseOrThrow(() => JSON.parse(configText) as Record<string, unknown>, context(`read config ${config.digest}`, config.digest));
  // An index entry was chosen by platform already; a single image must match on its own.
  if (!resolved.index) checkConfigPlatform(configJson, platform, context(`pull "${options.reference}"`));
  if (options.layers ?? true) {
    const sizes = await mapLimit(layers, options.concurrency ?? DEFAULT_CONCURRENCY, (layer) => pullBlob(client, options, layer));
    bytesDownloaded += sizes.reduce((a, b) => a + b, 0);
    if (options.layoutTag !== undefined) await recordStoreTag(options.storeDir, withPlatform(resolved.manifest.descriptor, configJson), options.layoutTag);
  }
  const top = resolved.index ?? resolved.manifest;
  return {
    digest: top.descriptor.digest,
    mediaType: top.descriptor.mediaType,
    ...(resolved.index ? { index: resolved.index.descriptor } : {}),
    manifest: resolved.manifest.descriptor,
    config,
    layers,
    configJson,
    bytesDownloaded,
  };
}

/** Fetches one blob into the store unless it is there; returns the bytes fetched. */
async function pullBlob(client: RegistryClient, options: PullImageOptions, blob: ContentDescriptor): Promise<number> {
  if (await hasBlob(options.storeDir, blob)) {
    options.onBlob?.({ digest: blob.digest, size: blob.size, action: "cached" });
    return 0;
  }
  const context: RegistryErrorContext = { registry: client.registry, repository: options.repository, operation: `get blob ${blob.digest}`, digest: blob.digest };
  const response = await client.fetchBlob(options.repository, blob.digest);
  if (!response.body) throw new RegistryError(`get blob ${blob.digest} in ${client.registry}/${options.repository}: empty response`, context);
  const bytes = await storeBlob(options.storeDir, blob, response.body, context);
  options.onBlob?.({ digest: blob.digest, size: blob.size, action: "downloaded" });
  return bytes;
}

/** The manifest descriptor with the platform its config declares (index.json entries carry it). */
function withPlatform(d: ContentDescriptor, config: Record<string, unknown>): ContentDescriptor {
  if (typeof config.os !== "string" || typeof config.architecture !== "string") return d;
  const variant = typeof config.variant === "string" ? { variant: config.variant } : {};
  return { ...d, platform: { os: config.os, architecture: config.architecture, ...variant } };
}

/** A single-platform image must be the platform asked for (an amd64 base cannot run on arm64). */
function checkConfigPlatform(config: Record<string, unknown>, want: Platform, context: RegistryErrorContext): void {
  const has = { os: String(config.os ?? ""), architecture: String(config.architecture ?? ""), ...(typeof config.variant === "string" ? { variant: config.variant } : {}) };
  const variantOk = want.variant === undefined || normalizeVariant(want.architecture, want.variant) === normalizeVariant(has.architecture, has.variant);
  if (has.os === want.os && has.architecture === want.architecture && variantOk) return;
  throw new RegistryError(`${context.operation} in ${context.registry}/${context.repository}: the image is ${formatPlatform(has)} only, not ${formatPlatform(want)}; choose a matching platform or a multi-platform image`, context);
}
