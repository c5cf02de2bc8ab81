// The layer cache's decisions, pure. A layer's bytes are a function of its files (tar path,
// content hash, mode, size), the mtime epoch, the gzip level and zlib, and the code that tars and
// compresses: those, hashed, are its key. An entry maps a key to the digest, diff id and size the
// layer had; it is only used when the layout still holds that blob at that size. Entries are
// written only from layers built from bytes actually read (see readLayer), so an entry can be
// missing or stale, never wrong: either way the layer is built again.
import { createHash } from "node:crypto";
import type { AppLayerKind, LayerDescriptor, LayerFile } from "./layers.ts";
import { canonicalJson } from "./image.ts";

/** Bumped when the cache file's shape or the key's meaning changes: older files are ignored. */
export const LAYER_CACHE_FORMAT = 1;

/** The cache file, beside the layout's index.json. */
export const LAYER_CACHE_FILE = "skiff-layer-cache.json";

/** Everything a layer's bytes depend on. */
export interface LayerKeyInput {
  kind: AppLayerKind;
  /** Sorted as the layer plan lists them. */
  files: readonly LayerFile[];
  mtimeSec: number;
  gzipLevel: number;
  /** zlib's version: another deflate implementation may compress the same tar differently. */
  zlibVersion: string;
  /** Hash of the builder code that lays out, tars and compresses layers. */
  fingerprint: string;
}

/** A cached layer: what the image needs of it, its blob being in the layout already. */
export type LayerCacheEntry = LayerDescriptor & { kind: AppLayerKind };

/** Key (hex) -> entry. */
export type LayerCache = Map<string, LayerCacheEntry>;

const DIGEST = /^sha256:[0-9a-f]{64}$/;
const KINDS: readonly string[] = ["node-modules", "assets", "bundle"];

/** The key of a layer: sha256 of the canonical JSON of its inputs. */
export function layerCacheKey(input: LayerKeyInput): string {
  const files = input.files.map((f) => [f.path, f.sha256, f.mode, f.size]);
  const value = { format: LAYER_CACHE_FORMAT, ...input, files };
  return createHash("sha256").update(canonicalJson(value)).digest("hex");
}

/** Parses the cache file; anything unreadable counts as no entry (the layer is then built). */
export function parseLayerCache(text: string | undefined): LayerCache {
  const cache: LayerCache = new Map();
  if (text === undefined) return cache;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return cache;
  }
  const file = value as { format?: unknown; entries?: unknown } | null;
  if (!file || typeof file !== "object" || file.format !== LAYER_CACHE_FORMAT || !file.entries || typeof file.entries !== "object") return cache;
  for (const [key, entry] of Object.entries(file.entries as Record<string, unknown>)) {
    if (/^[0-9a-f]{64}$/.test(key) && isEntry(entry)) cache.set(key, { kind: entry.kind, digest: entry.digest, diffId: entry.diffId, size: entry.size });
  }
  return cache;
}

function isEntry(value: unknown): value is LayerCacheEntry {
  const e = value as Partial<Record<keyof LayerCacheEntry, unknown>> | null;
  return !!e && typeof e === "object" && typeof e.kind === "string" && KINDS.includes(e.kind)
    && typeof e.digest === "string" && DIGEST.test(e.digest) && typeof e.diffId === "string" && DIGEST.test(e.diffId)
    && typeof e.size === "number" && Number.isSafeInteger(e.size) && e.size >= 0;
}

/** What to do with one layer. */
export type LayerDecision = { action: "reuse"; layer: LayerCacheEntry } | { action: "build"; reason: "no entry" | "other kind" | "blob missing" | "blob size differs" };

/**
 * Reuse an entry only if it is for this kind and the layout still holds its blob at its size
 * (`blobSize`, undefined when absent): blobs are named by their digest, so the right size at the
 * right name is the blob the entry was written for.
 */
export function decideLayer(entry: LayerCacheEntry | undefined, kind: AppLayerKind, blobSize: number | undefined): LayerDecision {
  if (entry === undefined) return { action: "build", reason: "no entry" };
  if (entry.kind !== kind) return { action: "build", reason: "other kind" };
  if (blobSize === undefined) return { action: "build", reason: "blob missing" };
  if (blobSize !== entry.size) return { action: "build", reason: "blob size differs" };
  return { action: "reuse", layer: entry };
}

/**
 * The cache to write after a build: this build's layers, then earlier entries, keeping only those
 * whose blob the layout still holds (`liveDigests`, after its garbage collection) and one key per
 * digest, so the file stays as small as the layout's set of layers.
 */
export function nextLayerCache(previous: LayerCache, current: ReadonlyMap<string, LayerCacheEntry>, liveDigests: ReadonlySet<string>): LayerCache {
  const next: LayerCache = new Map();
  const digests = new Set<string>();
  for (const [key, entry] of [...current, ...previous]) {
    if (next.has(key) || digests.has(entry.digest) || !liveDigests.has(entry.digest)) continue;
    next.set(key, entry);
    digests.add(entry.digest);
  }
  return next;
}

/** The cache file's text: keys sorted, so the same cache gives the same bytes. */
export function serializeLayerCache(cache: LayerCache): string {
  return `${canonicalJson({ format: LAYER_CACHE_FORMAT, entries: Object.fromEntries(cache) })}\n`;
}
