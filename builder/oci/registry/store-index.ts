// Makes a content store an OCI image layout: `oci-layout` plus an index.json entry per pulled
// tag, so skopeo (`oci:DIR:TAG`), umoci and builder/oci/base.ts's readImageFromLayout can read
// a pulled base like a built image. Written by temp file + rename, blobs already in place.
import { randomBytes } from "node:crypto";
import { mkdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { canonicalJson, type Descriptor } from "../image.ts";
import { makeLayoutIndex } from "../layout.ts";
import { parseIndex, type ContentDescriptor } from "./media-types.ts";

/** Records `manifest` under `tag` in `<storeDir>/index.json` (other tags stay). */
export async function recordStoreTag(storeDir: string, manifest: ContentDescriptor, tag: string): Promise<void> {
  await mkdir(storeDir, { recursive: true });
  const previous = await readFile(join(storeDir, "index.json"), "utf8").then((text) => parseIndex(JSON.parse(text)), () => [] as ContentDescriptor[]);
  const index = makeLayoutIndex(previous.map(toDescriptor), toDescriptor(manifest), tag);
  await writeAtomic(join(storeDir, "oci-layout"), canonicalJson({ imageLayoutVersion: "1.0.0" }));
  await writeAtomic(join(storeDir, "index.json"), canonicalJson(index));
}

function toDescriptor(d: ContentDescriptor): Descriptor {
  const { os, architecture } = d.platform ?? {};
  return {
    mediaType: d.mediaType,
    digest: d.digest,
    size: d.size,
    ...(d.annotations ? { annotations: d.annotations } : {}),
    ...(os && architecture ? { platform: { ...d.platform, os, architecture } } : {}),
  };
}

async function writeAtomic(path: string, text: string): Promise<void> {
  const temp = `${path}.tmp-${process.pid}-${randomBytes(4).toString("hex")}`;
  try {
    await writeFile(temp, text);
    await rename(temp, path);
  } finally {
    await rm(temp, { force: true });
  }
}
