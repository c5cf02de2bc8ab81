// A build's own layers for its image: each one taken from the layer cache when its inputs are
// unchanged (no read, tar or gzip: ocr-detect's 27 MB node_modules layer took ~3 s to redo),
// else built from the output folder and its blob written to the layout at once, so only one
// layer's bytes are in memory at a time.
import { stat } from "node:fs/promises";
import { join } from "node:path";
import { listFiles, sha256File } from "../hash.ts";
import { MANIFEST_FILE } from "../manifest.ts";
import type { ImageLayer } from "./image.ts";
import { readLayerCache, writeLayerCache, layerCodeFingerprint } from "./layer-cache-file.ts";
import { decideLayer, layerCacheKey, nextLayerCache, type LayerCache, type LayerCacheEntry, type LayerKeyInput } from "./layer-cache.ts";
import { APP_DIR, fileMode, GZIP_LEVEL, makeLayerPlan, readLayer, type AppLayerKind, type LayerFile, type LayerPlan } from "./layers.ts";
import { layoutBlobSize, writeLayoutBlob } from "./layout.ts";
import { mapLimit } from "./registry/map-limit.ts";

/** What the layers are made from. */
export interface AppLayersInput {
  outDir: string;
  /** Asset files (relative to outDir): they get their own layer. */
  assetFiles: readonly string[];
  /** The build manifest's content hashes of its output files (relative posix path -> hex), if known. */
  fileHashes?: Readonly<Record<string, string>>;
  layoutDir: string;
  mtimeSec: number;
}

/** The layers, which of them came from the cache, and how to record this build in the cache. */
export interface AppLayers {
  layers: ImageLayer[];
  reused: AppLayerKind[];
  /** Saves the cache once the layout is written: `liveDigests` are the blobs its GC kept. */
  saveCache(liveDigests: ReadonlySet<string>): Promise<void>;
}

const STAT_CONCURRENCY = 16;
/** Part of every key: another zlib may compress the same tar to other bytes. */
const zlibVersion = process.versions.zlib ?? "unknown";
const HEX64 = /^[0-9a-f]{64}$/;

/** Makes (or reuses) the layers of the build in `input.outDir`, bottom first. */
export async function makeAppLayers(input: AppLayersInput): Promise<AppLayers> {
  const [files, previous, fingerprint, recordedAt] = await Promise.all([
    listFiles(input.outDir),
    readLayerCache(input.layoutDir),
    layerCodeFingerprint(),
    stat(join(input.outDir, MANIFEST_FILE)).then((info) => info.mtimeMs, () => undefined),
  ]);
  const records = { hashes: input.fileHashes ?? {}, recordedAt };
  const keyOf = (kind: AppLayerKind, layerFiles: readonly LayerFile[]): string =>
    layerCacheKey({ kind, files: layerFiles, mtimeSec: input.mtimeSec, gzipLevel: GZIP_LEVEL, zlibVersion, fingerprint } satisfies LayerKeyInput);
  const current = new Map<string, LayerCacheEntry>();
  const layers: ImageLayer[] = [];
  const reused: AppLayerKind[] = [];
  for (const plan of makeLayerPlan(files, input.assetFiles)) {
    const kind = plan.kind;
    const cached = await findCached(input, plan, kind, previous, keyOf, records);
    if (cached) {
      current.set(cached.key, cached.entry);
      layers.push(cached.entry);
      reused.push(kind);
      continue;
    }
    const { layer, files: read } = await readLayer(input.outDir, plan, input.mtimeSec);
    await writeLayoutBlob(input.layoutDir, layer.digest, layer.blob);
    const entry: LayerCacheEntry = { kind, digest: layer.digest, diffId: layer.diffId, size: layer.size };
    // Keyed by the bytes actually tarred, not by the manifest's record of them.
    current.set(keyOf(kind, read), entry);
    layers.push(entry);
  }
  return {
    layers,
    reused,
    saveCache: (liveDigests) => writeLayerCache(input.layoutDir, nextLayerCache(previous, current, liveDigests)),
  };
}

/** The cache entry for this plan's files as they are now, if the layout still holds its blob. */
async function findCached(
  input: AppLayersInput,
  plan: LayerPlan,
  kind: AppLayerKind,
  cache: LayerCache,
  keyOf: (kind: AppLayerKind, files: readonly LayerFile[]) => string,
  records: Records,
): Promise<{ key: string; entry: LayerCacheEntry } | undefined> {
  // Nothing cached for this kind (a first build, an emptied layout): describing the files is wasted work.
  if (![...cache.values()].some((e) => e.kind === kind)) return undefined;
  const key = keyOf(kind, await describeFiles(input.outDir, plan, records));
  const entry = cache.get(key);
  const decision = decideLayer(entry, kind, entry && (await layoutBlobSize(input.layoutDir, entry.digest)));
  return decision.action === "reuse" ? { key, entry: decision.layer } : undefined;
}

/** The build manifest's content hashes, and when manifest.json was written (undefined: not there). */
interface Records {
  hashes: Readonly<Record<string, string>>;
  recordedAt: number | undefined;
}

/**
 * The plan's files as the cache keys them: mode and size from the file now, the content hash from
 * the build manifest, the bundle step's record of what it wrote, saving a re-read of every file.
 * A record is used only for a file not modified since manifest.json was written (the builder
 * writes it last); any other file (manifest.json itself, one edited since) is hashed now.
 */
async function describeFiles(outDir: string, plan: LayerPlan, records: Records): Promise<LayerFile[]> {
  return mapLimit(plan.files, STAT_CONCURRENCY, async (file) => {
    const abs = join(outDir, file);
    const info = await stat(abs);
    const recorded = records.hashes[file];
    const trusted = recorded !== undefined && HEX64.test(recorded) && records.recordedAt !== undefined && info.mtimeMs <= records.recordedAt;
    const sha256 = trusted ? recorded : await sha256File(abs);
    return { path: `${APP_DIR}/${file}`, sha256, mode: fileMode(info.mode), size: info.size };
  });
}
