// The layer cache on disk: `<layout>/skiff-layer-cache.json`, beside the blobs it names, so
// emptying or deleting the layout empties the cache too. Replaced by temp + rename, so a reader
// sees a whole file or none; a missing or unreadable one is an empty cache.
import { createHash } from "node:crypto";
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { builderFingerprint } from "../hash.ts";
import { LAYER_CACHE_FILE, parseLayerCache, serializeLayerCache, type LayerCache } from "./layer-cache.ts";
import { writeAtomic } from "./layout.ts";

/** Reads the layout's layer cache (empty when absent or corrupt). */
export async function readLayerCache(layoutDir: string): Promise<LayerCache> {
  return parseLayerCache(await readFile(join(layoutDir, LAYER_CACHE_FILE), "utf8").catch(() => undefined));
}

/** Replaces the layout's layer cache. */
export async function writeLayerCache(layoutDir: string, cache: LayerCache): Promise<void> {
  await writeAtomic(join(layoutDir, LAYER_CACHE_FILE), serializeLayerCache(cache));
}

let ownSources: Promise<string> | undefined;

/**
 * Fingerprint of the code that shapes layer bytes (this folder: plan, tar, gzip) and of the
 * builder around it: editing any of it invalidates every cached layer, so a builder change can
 * never be masked by a layer built by the old code. Computed once per process.
 */
export function layerCodeFingerprint(): Promise<string> {
  ownSources ??= (async () => {
    const dir = fileURLToPath(new URL(".", import.meta.url));
    const names = (await readdir(dir)).filter((n) => n.endsWith(".ts") && !n.endsWith(".test.ts")).sort();
    const texts = await Promise.all(names.map((n) => readFile(join(dir, n))));
    const hash = createHash("sha256").update(await builderFingerprint());
    names.forEach((name, i) => hash.update(`\0${name}\0`).update(texts[i]!));
    return hash.digest("hex");
  })();
  return ownSources;
}
