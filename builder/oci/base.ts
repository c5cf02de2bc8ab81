// Base images: what a build stacks its layers on. A base is layer descriptors, the base's config
// JSON and a folder holding its blobs as `blobs/sha256/<hex>`; an OCI layout is one such folder,
// and a registry pull into a local blob dir produces the same shape.
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { MEDIA_TYPES, ociArchitecture } from "./image.ts";
import { REF_NAME } from "./layout.ts";

/** A layer of a base image, as its manifest (digest, size, media type) and config (diff id) describe it. */
export interface BaseLayer {
  mediaType: string;
  /** `sha256:<hex>` of the blob as stored (compressed). */
  digest: string;
  size: number;
  /** `sha256:<hex>` of the uncompressed tar (the config's rootfs.diff_ids entry). */
  diffId: string;
}

/** One history entry of an image config (config.md). */
export interface OciHistory {
  created?: string;
  created_by?: string;
  author?: string;
  comment?: string;
  empty_layer?: boolean;
}

/** The run defaults of an image config, as far as skiff reads or writes them. */
export interface OciRunConfig {
  User?: string;
  Env?: string[];
  Entrypoint?: string[];
  Cmd?: string[];
  WorkingDir?: string;
  ExposedPorts?: Record<string, object>;
  Labels?: Record<string, string>;
  StopSignal?: string;
}

/** An image config JSON (config.md); unknown members are kept when read, and ignored. */
export interface OciImageConfig {
  architecture?: string;
  os?: string;
  variant?: string;
  created?: string;
  config?: OciRunConfig;
  rootfs?: { type: string; diff_ids: string[] };
  history?: OciHistory[];
}

/** A base image: layers bottom first, its config, and where its blobs are (`<blobDir>/blobs/sha256/<hex>`). */
export interface BaseImage {
  layers: BaseLayer[];
  config: OciImageConfig;
  blobDir: string;
}

/** An image read from a layout: a base plus the manifest's identity. */
export interface LayoutImage extends BaseImage {
  manifestDigest: string;
}

const DIGEST = /^sha256:[0-9a-f]{64}$/;

const MANIFEST_TYPES = new Set<string>([MEDIA_TYPES.manifest, "application/vnd.docker.distribution.manifest.v2+json"]);
const INDEX_TYPES = new Set<string>([MEDIA_TYPES.index, "application/vnd.docker.distribution.manifest.list.v2+json"]);

/** Path of a blob under a blob dir; the digest is checked first, since it becomes a file name. */
export function blobPath(blobDir: string, digest: string): string {
  if (!DIGEST.test(digest)) throw new Error(`"${digest}" is not a sha256 digest`);
  return join(blobDir, "blobs", "sha256", digest.slice("sha256:".length));
}

/** Pairs a manifest's layers with the config's diff ids; they must correspond one to one. */
export function makeBaseLayers(layers: readonly { mediaType: string; digest: string; size: number }[], config: OciImageConfig): BaseLayer[] {
  const diffIds = config.rootfs?.diff_ids ?? [];
  if (diffIds.length !== layers.length) {
    throw new Error(`base image has ${layers.length} layers but its config lists ${diffIds.length} diff_ids`);
  }
  return layers.map((layer, i) => {
    const diffId = diffIds[i]!;
    if (!DIGEST.test(layer.digest) || !DIGEST.test(diffId)) throw new Error(`base layer ${i} has a malformed digest or diff id`);
    return { mediaType: layer.mediaType, digest: layer.digest, size: layer.size, diffId };
  });
}

interface Descriptor {
  mediaType?: string;
  digest: string;
  size: number;
  annotations?: Record<string, string>;
  platform?: { architecture?: string; os?: string };
}

/**
 * Reads the image tagged `tag` from an OCI layout (skopeo's `oci:DIR:TAG`); without a tag, the
 * layout's only image, else "latest". A tag naming an index resolves to the linux image of `architecture`.
 */
export async function readImageFromLayout(dir: string, tag?: string, architecture?: string): Promise<LayoutImage> {
  const index = await readJson<{ manifests?: Descriptor[] }>(join(dir, "index.json"), `OCI layout ${dir}`);
  const entries = index.manifests ?? [];
  const entry = tag === undefined && entries.length === 1 ? entries[0]! : entries.find((d) => d.annotations?.[REF_NAME] === (tag ?? "latest"));
  if (!entry) {
    const tags = entries.map((d) => d.annotations?.[REF_NAME]).filter(Boolean);
    throw new Error(`OCI layout ${dir} has no image tagged "${tag ?? "latest"}" (tags: ${tags.join(", ") || "none"})`);
  }
  const manifestDescriptor = await resolveIndex(dir, entry, architecture);
  const manifest = await readJson<{ config: Descriptor; layers: Descriptor[] }>(blobPath(dir, manifestDescriptor.digest), `manifest of ${dir}`);
  const config = await readJson<OciImageConfig>(blobPath(dir, manifest.config.digest), `image config of ${dir}`);
  const layers = makeBaseLayers(manifest.layers.map((l) => ({ mediaType: l.mediaType ?? MEDIA_TYPES.layer, digest: l.digest, size: l.size })), config);
  return { layers, config, blobDir: dir, manifestDigest: manifestDescriptor.digest };
}

/** Reads a base image (layers, config, blob dir) from an OCI layout; see readImageFromLayout for tag rules. */
export async function loadBaseFromLayout(dir: string, tag?: string): Promise<BaseImage> {
  const { layers, config, blobDir } = await readImageFromLayout(dir, tag);
  return { layers, config, blobDir };
}

/** Follows an index (multi-platform image) down to the manifest for linux/`architecture`. */
async function resolveIndex(dir: string, descriptor: Descriptor, architecture: string | undefined, depth = 0): Promise<Descriptor> {
  if (descriptor.mediaType === undefined || MANIFEST_TYPES.has(descriptor.mediaType)) return descriptor;
  if (!INDEX_TYPES.has(descriptor.mediaType) || depth > 3) throw new Error(`unsupported manifest media type "${descriptor.mediaType}" in ${dir}`);
  const index = await readJson<{ manifests?: Descriptor[] }>(blobPath(dir, descriptor.digest), `image index of ${dir}`);
  const wanted = architecture ?? ociArchitecture(process.arch);
  const match = (index.manifests ?? []).find((d) => d.platform?.os === "linux" && d.platform.architecture === wanted);
  if (!match) throw new Error(`image index in ${dir} has no linux/${wanted} image`);
  return resolveIndex(dir, match, architecture, depth + 1);
}

async function readJson<T>(path: string, what: string): Promise<T> {
  const text = await readFile(path, "utf8").catch((cause: unknown) => {
    throw new Error(`cannot read the ${what} (${path}): ${(cause as Error).message}`, { cause });
  });
  try {
    return JSON.parse(text) as T;
  } catch (cause) {
    throw new Error(`the ${what} (${path}) is not valid JSON`, { cause });
  }
}
