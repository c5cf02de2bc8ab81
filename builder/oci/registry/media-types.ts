// Manifest media types a registry may answer with, OCI and Docker schema 2 alike, and how to
// tell an index (a list of per-platform manifests) from a single-image manifest.

/** Manifest media types, OCI and Docker. */
export const MANIFEST_TYPES = {
  ociIndex: "application/vnd.oci.image.index.v1+json",
  ociManifest: "application/vnd.oci.image.manifest.v1+json",
  dockerList: "application/vnd.docker.distribution.manifest.list.v2+json",
  dockerManifest: "application/vnd.docker.distribution.manifest.v2+json",
} as const;

/** Docker schema 1 (deprecated, signed JWS): we refuse it with a clear error rather than misread it. */
const SCHEMA1_TYPES = new Set([
  "application/vnd.docker.distribution.manifest.v1+json",
  "application/vnd.docker.distribution.manifest.v1+prettyjws",
]);

const INDEX_TYPES = new Set<string>([MANIFEST_TYPES.ociIndex, MANIFEST_TYPES.dockerList]);
const IMAGE_TYPES = new Set<string>([MANIFEST_TYPES.ociManifest, MANIFEST_TYPES.dockerManifest]);

/**
 * The Accept header for manifest GETs. All four are needed: without the OCI types distribution
 * 2.8 answers 404 MANIFEST_UNKNOWN for an OCI image ("accept header does not support OCI").
 */
export const MANIFEST_ACCEPT = [MANIFEST_TYPES.ociIndex, MANIFEST_TYPES.dockerList, MANIFEST_TYPES.ociManifest, MANIFEST_TYPES.dockerManifest].join(", ");

/** Whether a media type names an index or manifest list. */
export function isIndexMediaType(mediaType: string): boolean {
  return INDEX_TYPES.has(mediaType);
}

/** Whether a media type names a single-image manifest. */
export function isImageManifestMediaType(mediaType: string): boolean {
  return IMAGE_TYPES.has(mediaType);
}

/** What a manifest document is, and the media type it is stored (and must be re-pushed) under. */
export interface ManifestKind {
  kind: "index" | "manifest";
  mediaType: string;
}

/**
 * Classifies manifest bytes by the response's Content-Type, else the document's own
 * `mediaType`, else its shape (`manifests` vs `config`+`layers`). Throws on schema 1 or unknown.
 */
export function classifyManifest(contentType: string | null | undefined, document: unknown): ManifestKind {
  const header = (contentType ?? "").split(";")[0]!.trim().toLowerCase();
  const doc = (typeof document === "object" && document !== null ? document : {}) as { mediaType?: unknown; manifests?: unknown; config?: unknown; layers?: unknown };
  const declared = typeof doc.mediaType === "string" ? doc.mediaType : "";
  for (const type of [header, declared]) {
    if (SCHEMA1_TYPES.has(type)) throw new Error(`Docker schema 1 manifests (${type}) are not supported; re-push the image with a current docker or skopeo`);
    if (INDEX_TYPES.has(type)) return { kind: "index", mediaType: type };
    if (IMAGE_TYPES.has(type)) return { kind: "manifest", mediaType: type };
  }
  // No usable type (old registries answer application/json): OCI allows an absent mediaType.
  if (Array.isArray(doc.manifests)) return { kind: "index", mediaType: MANIFEST_TYPES.ociIndex };
  if (doc.config !== undefined && Array.isArray(doc.layers)) return { kind: "manifest", mediaType: MANIFEST_TYPES.ociManifest };
  throw new Error(`unsupported manifest media type "${header || declared || "(none)"}"`);
}

/** A descriptor inside a manifest or index. */
export interface ContentDescriptor {
  mediaType: string;
  digest: string;
  size: number;
  annotations?: Record<string, string>;
  platform?: { os?: string; architecture?: string; variant?: string };
}

const DIGEST = /^sha256:[a-f0-9]{64}$/;

function checkDescriptor(value: unknown, where: string): ContentDescriptor {
  const d = value as Partial<ContentDescriptor> | null;
  if (typeof d !== "object" || d === null || typeof d.digest !== "string" || !DIGEST.test(d.digest) || typeof d.size !== "number" || d.size < 0) {
    throw new Error(`${where} is not a descriptor with a sha256 digest and a size`);
  }
  return { ...d, mediaType: typeof d.mediaType === "string" ? d.mediaType : "" } as ContentDescriptor;
}

/** The config and layers of an image manifest, checked to be sha256 descriptors. */
export function parseImageManifest(document: unknown): { config: ContentDescriptor; layers: ContentDescriptor[] } {
  const doc = document as { config?: unknown; layers?: unknown } | null;
  if (typeof doc !== "object" || doc === null || !Array.isArray(doc.layers)) throw new Error("image manifest has no layers list");
  return { config: checkDescriptor(doc.config, "the manifest's config"), layers: doc.layers.map((l, i) => checkDescriptor(l, `layer ${i} of the manifest`)) };
}

/** The entries of an index or manifest list. */
export function parseIndex(document: unknown): ContentDescriptor[] {
  const doc = document as { manifests?: unknown } | null;
  if (typeof doc !== "object" || doc === null || !Array.isArray(doc.manifests)) throw new Error("index has no manifests list");
  return doc.manifests.map((m, i) => checkDescriptor(m, `entry ${i} of the index`));
}
