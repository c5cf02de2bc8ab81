// Writes an OCI image layout (image-layout.md): oci-layout, blobs/sha256/<hex>, index.json.
// Each file lands by write-to-temp + rename, blobs before the index that names them, so a
// reader (skopeo, umoci, a concurrent build) never sees an index pointing at a missing or
// half-written blob. Blobs are content-addressed, so an existing blob is already correct and
// is kept as-is: a code-only rebuild writes just the bundle layer, config and manifest.
import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdir, readdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
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

/** Writes the image into the layout at `layoutDir` under `tag` (other tags stay), then drops unreferenced blobs. */
export async function writeImageLayout(layoutDir: string, image: Image, tag: string): Promise<void> {
  const blobDir = join(layoutDir, "blobs", "sha256");
  await mkdir(blobDir, { recursive: true });
  for (const layer of image.layers) await writeBlob(blobDir, layer.digest, layer.blob);
  await writeBlob(blobDir, image.configDescriptor.digest, image.config);
  await writeBlob(blobDir, image.manifestDescriptor.digest, image.manifest);
  await writeAtomic(join(layoutDir, "oci-layout"), canonicalJson({ imageLayoutVersion: "1.0.0" }));
  const index = makeLayoutIndex(await readIndexManifests(layoutDir), image.manifestDescriptor, tag);
  await writeAtomic(join(layoutDir, "index.json"), canonicalJson(index));
  await removeUnreferencedBlobs(layoutDir, index.manifests as Descriptor[]);
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

async function writeBlob(blobDir: string, digest: string, data: Uint8Array): Promise<void> {
  const path = join(blobDir, digest.replace(/^sha256:/, ""));
  if (existsSync(path)) return;
  await writeAtomic(path, data);
}

async function writeAtomic(path: string, data: string | Uint8Array): Promise<void> {
  const temp = `${path}.tmp-${process.pid}-${randomBytes(4).toString("hex")}`;
  try {
    await writeFile(temp, data);
    await rename(temp, path);
  } finally {
    await rm(temp, { force: true });
  }
}

/** Deletes blobs no tagged manifest reaches, so rebuilds do not grow the layout forever. */
async function removeUnreferencedBlobs(layoutDir: string, manifests: readonly Descriptor[]): Promise<void> {
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
}
