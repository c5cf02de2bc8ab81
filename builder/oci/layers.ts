// Image layers from a build's output folder, ordered by how often they change: native
// node_modules (change with dependencies), assets and models (change with data), then the
// bundle (changes with every code edit). A code-only change therefore rebuilds, and a
// registry uploads, only the last layer.
import { createHash, webcrypto } from "node:crypto";
import { readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { mapLimit } from "./registry/map-limit.ts";
import { makeTar, type TarEntry } from "./tar.ts";

/** Where the build output lives inside the image. */
export const APP_DIR = "app";

/**
 * A fixed gzip level: a different level gives different bytes and so a different digest. 6, not
 * 9: level 9 took 1.6x the bundling time for hello and was only 0.1% smaller on node_modules.
 */
export const GZIP_LEVEL = 6;

/** OCI media type of a gzip-compressed tar layer. */
export const LAYER_MEDIA_TYPE = "application/vnd.oci.image.layer.v1.tar+gzip";

/** The kinds of a build's own layers, least often changed first. */
export type AppLayerKind = "node-modules" | "assets" | "bundle";

/** A layer's kind: a build's own, or "base" (a base image's layer, e.g. the host base's). */
export type LayerKind = "base" | AppLayerKind;

/** Which output files (relative posix paths) go into which layer; empty layers are left out. */
export interface LayerPlan {
  kind: AppLayerKind;
  files: string[];
}

/** What an image needs of a layer: the digests and size (its blob may already be stored). */
export interface LayerDescriptor {
  kind: LayerKind;
  /** `sha256:<hex>` of the compressed blob (the manifest's layer digest). */
  digest: string;
  /** `sha256:<hex>` of the uncompressed tar (the config's diff_id). */
  diffId: string;
  size: number;
}

/** A finished layer: its descriptor and its compressed blob. */
export interface Layer extends LayerDescriptor {
  /** The gzip-compressed tar. */
  blob: Buffer;
}

/** One file of a layer as it goes into the tar: what the layer cache keys it by. */
export interface LayerFile {
  /** Path inside the image (under APP_DIR), posix. */
  path: string;
  /** Hex sha256 of the content. */
  sha256: string;
  /** The tar mode: 0o755 or 0o644 (see fileMode). */
  mode: number;
  size: number;
}

/** Files read at once while building a layer: enough to keep the disk busy, few enough for any fd limit. */
const READ_CONCURRENCY = 16;

/** Splits output files into layers: node_modules/, then asset files, then everything else. */
export function makeLayerPlan(files: readonly string[], assetFiles: readonly string[]): LayerPlan[] {
  const assets = new Set(assetFiles);
  const plan: Record<AppLayerKind, string[]> = { "node-modules": [], assets: [], bundle: [] };
  for (const file of [...files].sort()) {
    if (file === "node_modules" || file.startsWith("node_modules/")) plan["node-modules"].push(file);
    else if (assets.has(file)) plan.assets.push(file);
    else plan.bundle.push(file);
  }
  const order: AppLayerKind[] = ["node-modules", "assets", "bundle"];
  return order.filter((kind) => plan[kind].length > 0).map((kind) => ({ kind, files: plan[kind] }));
}

/** `sha256:<hex>` of bytes. */
export function sha256Digest(data: Uint8Array): string {
  return `sha256:${createHash("sha256").update(data).digest("hex")}`;
}

/** Tars and gzips uncompressed entries into a layer. Node's gzip header has mtime 0 and no name. */
export function makeLayer(kind: LayerKind, entries: readonly TarEntry[], mtimeSec: number): Layer {
  const tar = makeTar(entries, { mtimeSec });
  const blob = gzipSync(tar, { level: GZIP_LEVEL });
  return { kind, blob, digest: sha256Digest(blob), diffId: sha256Digest(tar), size: blob.length };
}

/** The tar mode of a file: only the executable bit survives, anything else is the builder's umask. */
export function fileMode(statMode: number): number {
  return statMode & 0o111 ? 0o755 : 0o644;
}

/**
 * Reads one plan's files from `outDir` and builds its layer under /app. Also returns the files as
 * they went in, hashed from the bytes read: the layer cache keys its entry by these, never by
 * what a manifest says, so a file changing under the build cannot file a layer under a wrong key.
 */
export async function readLayer(outDir: string, plan: LayerPlan, mtimeSec: number): Promise<{ layer: Layer; files: LayerFile[] }> {
  const read = await mapLimit(plan.files, READ_CONCURRENCY, async (file) => {
    const abs = join(outDir, file);
    const [data, info] = await Promise.all([readFile(abs), stat(abs)]);
    return { type: "file" as const, path: `${APP_DIR}/${file}`, data, mode: fileMode(info.mode) };
  });
  // WebCrypto hashes on libuv's thread pool: the file hashes come free while gzip holds this thread.
  const hashing = Promise.all(read.map(({ data }) => webcrypto.subtle.digest("SHA-256", data)));
  const layer = makeLayer(plan.kind, read, mtimeSec);
  const hashes = await hashing;
  const files = read.map(({ path, data, mode }, i) => ({ path, sha256: Buffer.from(hashes[i]!).toString("hex"), mode, size: data.length }));
  return { layer, files };
}
