// Pushing an OCI image layout to a repository. Per blob: HEAD, and skip it when the registry
// has it; else mount it from `mountFrom` (same registry, e.g. the base image's repository);
// else upload it from disk. Then child manifests by digest, then the tagged manifest: the
// registry checks every referenced blob at manifest PUT, so the order matters.
import type { RegistryClient } from "./client.ts";
import { RegistryError } from "./errors.ts";
import { readLayoutImage, type LayoutBlob } from "./layout-reader.ts";
import { mapLimit } from "./map-limit.ts";
import { DEFAULT_UPLOAD_SIZES, uploadBlob, type UploadSizes } from "./upload.ts";

/** What to push where. */
export interface PushImageOptions {
  /** An OCI image layout directory (builder/oci/layout.ts writes one per function). */
  layoutDir: string;
  /** Which image of the layout (its ref.name tag); defaults to the only one. */
  layoutTag?: string;
  /** Target repository on the client's registry, e.g. `team/hello`. */
  repository: string;
  /** Target tag. */
  tag: string;
  /** A repository on the same registry that may hold some blobs already (e.g. the base image's). */
  mountFrom?: string;
  /** Upload shape (tests force small chunks). */
  upload?: Partial<UploadSizes>;
  /** Blobs in flight at once. */
  concurrency?: number;
  /** Called as each blob is done (for progress output). */
  onBlob?: (blob: PushedBlob) => void;
}

/** What happened to one blob. */
export interface PushedBlob {
  digest: string;
  size: number;
  mediaType: string;
  action: "skipped" | "mounted" | "uploaded";
  /** Bytes sent for it (0 unless uploaded). */
  bytesUploaded: number;
}

/** A finished push. */
export interface PushResult {
  /** Digest of the tagged manifest (or index): pull by `<repo>@<digest>` for exactly this image. */
  manifestDigest: string;
  mediaType: string;
  /** `registry/repository:tag@digest`. */
  reference: string;
  /** Blob bytes sent (manifests not counted). */
  bytesUploaded: number;
  /** Configs and layers, in layout order. */
  blobs: PushedBlob[];
}

const DEFAULT_CONCURRENCY = 3;

/** Pushes the layout's image to `repository:tag` on the client's registry. */
export async function pushImageLayout(client: RegistryClient, options: PushImageOptions): Promise<PushResult> {
  const image = await readLayoutImage(options.layoutDir, options.layoutTag);
  const sizes: UploadSizes = { ...DEFAULT_UPLOAD_SIZES, ...options.upload };
  const blobs = await mapLimit(image.blobs, options.concurrency ?? DEFAULT_CONCURRENCY, async (blob) => {
    const pushed = await pushBlob(client, options.repository, blob, options.mountFrom, sizes);
    options.onBlob?.(pushed);
    return pushed;
  });
  for (const child of image.children) await client.putManifest(options.repository, child.digest, child.bytes, child.mediaType);
  const stored = await client.putManifest(options.repository, options.tag, image.root.bytes, image.root.mediaType);
  if (stored !== image.root.digest) {
    // The registry rewrote our bytes: the digest we report would not pull this image.
    throw new RegistryError(`put manifest "${options.tag}" in ${client.registry}/${options.repository}: the registry stored it as ${stored}, not ${image.root.digest}`, {
      registry: client.registry, repository: options.repository, digest: image.root.digest, operation: "put manifest",
    });
  }
  return {
    manifestDigest: image.root.digest,
    mediaType: image.root.mediaType,
    reference: `${client.registry}/${options.repository}:${options.tag}@${image.root.digest}`,
    bytesUploaded: blobs.reduce((sum, b) => sum + b.bytesUploaded, 0),
    blobs,
  };
}

/** HEAD, else mount, else upload one blob. */
async function pushBlob(client: RegistryClient, repository: string, blob: LayoutBlob, mountFrom: string | undefined, sizes: UploadSizes): Promise<PushedBlob> {
  const done = (action: PushedBlob["action"], bytesUploaded = 0): PushedBlob => ({ digest: blob.digest, size: blob.size, mediaType: blob.mediaType, action, bytesUploaded });
  // pull+push scope even for the HEAD: the token fetched here then serves the upload too.
  if (await client.hasBlob(repository, blob.digest, ["pull", "push"])) return done("skipped");
  const mount = mountFrom !== undefined && mountFrom !== repository ? { digest: blob.digest, from: mountFrom } : undefined;
  const start = await client.startUpload(repository, mount);
  if (start.mounted) return done("mounted");
  // A refused mount answers 202 with an ordinary upload session: use it rather than opening another.
  return done("uploaded", await uploadBlob(client, repository, blob, start.location, sizes));
}
