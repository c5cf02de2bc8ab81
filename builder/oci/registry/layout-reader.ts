// Reads what a push needs from an OCI image layout (as builder/oci/layout.ts writes it): the
// tagged entry of index.json, its manifest (or index and child manifests) as exact bytes, and
// the config and layer blobs as files, checked to be there with the right size.
import { readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import { REF_NAME } from "../layout.ts";
import { blobPath, verifyBytes } from "./content-store.ts";
import { classifyManifest, parseImageManifest, parseIndex, type ContentDescriptor } from "./media-types.ts";
import type { BlobFile } from "./upload.ts";

/** A manifest or index to PUT: its exact bytes. */
export interface LayoutManifest {
  digest: string;
  mediaType: string;
  bytes: Buffer;
}

/** A config or layer blob to push. */
export interface LayoutBlob extends BlobFile {
  mediaType: string;
  role: "config" | "layer";
}

/** Everything a push sends, in the order the registry needs it. */
export interface LayoutImage {
  /** The tagged entry: an image manifest, or an index of them. */
  root: LayoutManifest;
  /** Child manifests of an index (pushed by digest before the index); empty for a single image. */
  children: LayoutManifest[];
  /** Every layer and config, deduplicated, layers before their config. */
  blobs: LayoutBlob[];
}

/** Picks the index.json entry tagged `tag`; without a tag, the only entry. */
export function selectLayoutEntry(manifests: readonly ContentDescriptor[], tag: string | undefined, layoutDir: string): ContentDescriptor {
  const tags = manifests.map((d) => d.annotations?.[REF_NAME]).filter((t): t is string => t !== undefined);
  if (tag === undefined) {
    if (manifests.length === 1) return manifests[0]!;
    throw new Error(`the image layout ${layoutDir} holds ${manifests.length} images; name one by tag (${tags.join(", ") || "none are tagged"})`);
  }
  const found = manifests.find((d) => d.annotations?.[REF_NAME] === tag);
  if (!found) throw new Error(`the image layout ${layoutDir} has no image tagged "${tag}" (it has ${tags.join(", ") || "no tags"})`);
  return found;
}

/** Reads the image tagged `tag` (or the only one) from the layout at `layoutDir`. */
export async function readLayoutImage(layoutDir: string, tag?: string): Promise<LayoutImage> {
  const indexText = await readFile(join(layoutDir, "index.json"), "utf8").catch((error: Error) => {
    throw new Error(`${layoutDir} is not an OCI image layout (no readable index.json: ${error.message}); build it with skiff build --image`, { cause: error });
  });
  const entry = selectLayoutEntry(parseIndex(JSON.parse(indexText)), tag, layoutDir);
  const root = await readManifest(layoutDir, entry);
  const rootDoc: unknown = JSON.parse(root.bytes.toString("utf8"));
  const children: LayoutManifest[] = [];
  const images: LayoutManifest[] = [];
  if (classifyManifest(entry.mediaType, rootDoc).kind === "index") {
    for (const child of parseIndex(rootDoc)) children.push(await readManifest(layoutDir, child));
    images.push(...children);
  } else {
    images.push(root);
  }
  const blobs = new Map<string, LayoutBlob>();
  for (const image of images) {
    const { config, layers } = parseImageManifest(JSON.parse(image.bytes.toString("utf8")));
    for (const d of layers) blobs.set(d.digest, await layoutBlob(layoutDir, d, "layer"));
    if (!blobs.has(config.digest)) blobs.set(config.digest, await layoutBlob(layoutDir, config, "config"));
  }
  return { root, children, blobs: [...blobs.values()] };
}

async function readManifest(layoutDir: string, d: ContentDescriptor): Promise<LayoutManifest> {
  const bytes = await readFile(blobPath(layoutDir, d.digest)).catch((error: Error) => {
    throw new Error(`the image layout ${layoutDir} lacks manifest ${d.digest} (${error.message}); rebuild the image`, { cause: error });
  });
  verifyBytes(bytes, d, { registry: "local", operation: `read manifest from ${layoutDir}` });
  const mediaType = d.mediaType || classifyManifest(undefined, JSON.parse(bytes.toString("utf8"))).mediaType;
  return { digest: d.digest, mediaType, bytes };
}

async function layoutBlob(layoutDir: string, d: ContentDescriptor, role: LayoutBlob["role"]): Promise<LayoutBlob> {
  const path = blobPath(layoutDir, d.digest);
  const info = await stat(path).catch(() => undefined);
  if (!info || info.size !== d.size) {
    const what = info ? `is ${info.size} bytes, not ${d.size}` : "is missing";
    throw new Error(`blob ${d.digest} of the image layout ${layoutDir} ${what}; rebuild the image`);
  }
  return { digest: d.digest, size: d.size, mediaType: d.mediaType, role, path };
}
