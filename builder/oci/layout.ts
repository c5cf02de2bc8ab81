// Writes an OCI image layout (image-layout.md): oci-layout, blobs/sha256/<hex>, index.json.
// Each file lands by write-to-temp + rename, blobs before the index that names them, so a
// reader (skopeo, umoci, a concurrent build) never sees an index pointing at a missing or
// half-written blob. Blobs are content-addressed, so an existing blob of the right size is
// kept as-is: a code-only rebuild writes just the bundle layer, config and manifest.
import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { copyFile, link, mkdir, readdir, readFile, rename, rm, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { BaseLayer } from "./base.ts";
import { canonicalJson, MEDIA_TYPES, type Descriptor, type Image } from "./image.ts";

/** The annotation skopeo (`oci:DIR:TAG`) and umoci (`DIR:TAG`) resolve tags by. */
export const REF_NAME = "org.opencontainers.image.ref.name";

/** Default layout folder of a function's image: `<dir>/.skiff/images/<name>`. */
export function defaultImageLayoutDir(functionDir: string, name: string): string {
  return join(functionDir, ".skiff", "images", name);
}

/** The index.json value: the previous entries of other tags, then this tag's manifest. */
export function makeLayoutIndex(previous: readonly Descriptor[], manifest: Descriptor, tag: string): Record<string, unknown> {
  const others = previous.filter((d) => d.annotations?.[REF_NAME] !== tag);
  const entry: Descriptor = { ...manifest, annotations: { [REF_NAME]: tag } };
  const manifests = [...others, entry].sort((a, b) => (a.annotations?.[REF_NAME] ?? "").localeCompare(b.annotations?.[REF_NAME] ?? ""));
  return { schemaVersion: 2, mediaType: MEDIA_TYPES.index, manifests };
}

/**
 * Writes the image into the layout at `layoutDir` under `tag` (other tags stay), then drops
 * unreferenced blobs. Base layers are copied from `baseBlobDir` (`<dir>/blobs/sha256/<hex>`).
 */
export async function writeImageLayout(layoutDir: string, image: Image, tag: string, baseBlobDir?: string): Promise<{ liveDigests: Set<string> }> {
  const blobDir = join(layoutDir, "blobs", "sha256");
  await mkdir(blobDir, { recursive: true });
  if (image.baseLayers.length > 0 && baseBlobDir === undefined) throw new Error("the image has base layers but no base blob dir to copy them from");
  for (const layer of image.baseLayers) await copyBaseBlob(baseBlobDir!, blobDir, layer);
  for (const layer of image.layers) {
    if (layer.blob) await writeBlob(blobDir, layer.digest, layer.blob);
    else if ((await layoutBlobSize(layoutDir, layer.digest)) !== layer.size) throw new Error(`layer ${layer.digest} (${layer.kind}) is not in ${layoutDir} at ${layer.size} bytes`);
  }
  await writeBlob(blobDir, image.configDescriptor.digest, image.config);
  await writeBlob(blobDir, image.manifestDescriptor.digest, image.manifest);
  await writeAtomic(join(layoutDir, "oci-layout"), canonicalJson({ imageLayoutVersion: "1.0.0" }));
  const index = makeLayoutIndex(await readIndexManifests(layoutDir), image.manifestDescriptor, tag);
  await writeAtomic(join(layoutDir, "index.json"), canonicalJson(index));
  return { liveDigests: await removeUnreferencedBlobs(layoutDir, index.manifests as Descriptor[]) };
}

/** The manifests of an existing layout's index.json; none when absent or unreadable (we then rewrite it). */
async function readIndexManifests(layoutDir: string): Promise<Descriptor[]> {
  const text = await readFile(join(layoutDir, "index.json"), "utf8").catch(() => undefined);
  if (text === undefined) return [];
  try {
    const value = JSON.parse(text) as { manifests?: unknown };
    const manifests = Array.isArray(value.manifests) ? (value.manifests as Descriptor[]) : [];
    // Keep only entries whose manifest blob is still there: a damaged layout heals itself.
    return manifests.filter((d) => typeof d.digest === "string" && existsSync(blobPath(layoutDir, d.digest)));
  } catch {
    return [];
  }
}

function blobPath(layoutDir: string, digest: string): string {
  return join(layoutDir, "blobs", "sha256", digest.replace(/^sha256:/, ""));
}

/** The size of a blob in the layout, or undefined when it is not there (or the digest is malformed). */
export async function layoutBlobSize(layoutDir: string, digest: string): Promise<number | undefined> {
  if (!/^sha256:[0-9a-f]{64}$/.test(digest)) return undefined;
  const info = await stat(blobPath(layoutDir, digest)).catch(() => undefined);
  return info?.isFile() ? info.size : undefined;
}

/** Stores a blob under its digest in the layout, unless it is there already (blobs are content-addressed). */
export async function writeLayoutBlob(layoutDir: string, digest: string, data: Uint8Array): Promise<void> {
  const blobDir = join(layoutDir, "blobs", "sha256");
  await mkdir(blobDir, { recursive: true });
  await writeBlob(blobDir, digest, data);
}

async function writeBlob(blobDir: string, digest: string, data: Uint8Array): Promise<void> {
  const path = join(blobDir, digest.replace(/^sha256:/, ""));
  // Kept when there at the right size; a truncated one (a crash, a full disk) is replaced.
  if ((await stat(path).catch(() => undefined))?.size === data.length) return;
  await writeAtomic(path, data);
}

/**
 * Copies a base layer's blob, as a hard link when both dirs share a filesystem: blobs are
 * immutable (named by their content), so sharing the inode costs nothing and saves a 40 MB copy
 * per function image. The size is checked; the digest was checked when the base was fetched or built.
 */
async function copyBaseBlob(fromLayoutDir: string, toBlobDir: string, layer: BaseLayer): Promise<void> {
  // The digest becomes a file name: only a well-formed one may.
  if (!/^sha256:[0-9a-f]{64}$/.test(layer.digest)) throw new Error(`base layer digest "${layer.digest}" is not a sha256 digest`);
  const hex = layer.digest.slice("sha256:".length);
  const target = join(toBlobDir, hex);
  if (existsSync(target)) return;
  const source = join(fromLayoutDir, "blobs", "sha256", hex);
  const info = await stat(source).catch((cause: unknown) => {
    throw new Error(`base layer ${layer.digest} is missing from ${fromLayoutDir}`, { cause });
  });
  if (info.size !== layer.size) throw new Error(`base layer ${layer.digest} in ${fromLayoutDir} is ${info.size} bytes, expected ${layer.size}`);
  const temp = `${target}.tmp-${process.pid}-${randomBytes(4).toString("hex")}`;
  try {
    await link(source, temp).catch(() => copyFile(source, temp));
    await rename(temp, target);
  } finally {
    await rm(temp, { force: true });
  }
}

/** Writes a file by temp + rename: a reader sees the old file or the new one, never half of one. */
export async function writeAtomic(path: string, data: string | Uint8Array): Promise<void> {
  const temp = `${path}.tmp-${process.pid}-${randomBytes(4).toString("hex")}`;
  try {
    await writeFile(temp, data);
    await rename(temp, path);
  } catch (error) {
    // After a successful rename there is no temp file left to remove.
    await rm(temp, { force: true });
    throw error;
  }
}

/** Deletes blobs no tagged manifest reaches, so rebuilds do not grow the layout forever; returns those kept. */
async function removeUnreferencedBlobs(layoutDir: string, manifests: readonly Descriptor[]): Promise<Set<string>> {
  const keep = new Set<string>();
  for (const descriptor of manifests) {
    keep.add(descriptor.digest);
    const manifest = JSON.parse(await readFile(blobPath(layoutDir, descriptor.digest), "utf8")) as { config: Descriptor; layers: Descriptor[] };
    for (const d of [manifest.config, ...manifest.layers]) keep.add(d.digest);
  }
  const blobDir = join(layoutDir, "blobs", "sha256");
  for (const name of await readdir(blobDir)) {
    // Temp files of a concurrent writer are left to it.
    if (!name.includes(".tmp-") && !keep.has(`sha256:${name}`)) await rm(join(blobDir, name), { force: true });
  }
  return keep;
}
