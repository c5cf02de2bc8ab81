// The image config and manifest, built purely from layers, the function spec and an optional
// base. Serialized with sorted keys and no whitespace so the same input always hashes to the
// same digest.
import type { FunctionSpec } from "../../spec/types.ts";
import type { BaseLayer, OciImageConfig } from "./base.ts";
import { baseHistory, checkBasePlatform, mergeImageEnv, ociLayerMediaType } from "./base-config.ts";
import { APP_DIR, LAYER_MEDIA_TYPE, sha256Digest, type LayerDescriptor } from "./layers.ts";

/** OCI media types used here. */
export const MEDIA_TYPES = {
  manifest: "application/vnd.oci.image.manifest.v1+json",
  config: "application/vnd.oci.image.config.v1+json",
  index: "application/vnd.oci.image.index.v1+json",
  layer: LAYER_MEDIA_TYPE,
} as const;

/** Replicas run as this uid:gid (the "nonroot" user of distroless images), never root. */
export const IMAGE_USER = "65532:65532";

/** The port the runtime listens on inside the image (DESIGN: $PORT, default 8080). */
export const IMAGE_PORT = 8080;

/** A content descriptor (digest and size of a blob). */
export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  annotations?: Record<string, string>;
  platform?: { architecture: string; os: string };
}

/** A layer of the image being made: a blob to write, or one the layout already holds (layer cache). */
export type ImageLayer = LayerDescriptor & { blob?: Buffer };

/** What an image is made of besides its layers. */
export interface ImageInput {
  spec: FunctionSpec;
  /** The build's layers, bottom first; those with a blob are written, the others must be in the layout. */
  layers: readonly ImageLayer[];
  /** Source revision (git commit, else the build's inputs hash) for the revision label. */
  revision: string;
  /** The build's inputs hash, kept as a label to trace an image back to its build. */
  inputsHash: string;
  /** OCI architecture name (see ociArchitecture). */
  architecture: string;
  /** Seconds since the epoch for `created` and history (SOURCE_DATE_EPOCH, else 0). */
  createdSec: number;
  /** Layers and config to build on (its blobs are copied by writeImageLayout); none: app layers only. */
  base?: { layers: readonly BaseLayer[]; config: OciImageConfig };
}

/** A finished image: config and manifest as the exact bytes to store, and their descriptors. */
export interface Image {
  config: Buffer;
  configDescriptor: Descriptor;
  manifest: Buffer;
  manifestDescriptor: Descriptor;
  /** Layers built here: with their bytes, or without when the layout holds them already. */
  layers: readonly ImageLayer[];
  /** Layers taken from a base (bottom first): their blobs live in the base's blob dir. */
  baseLayers: readonly BaseLayer[];
}

/** JSON with keys sorted at every level and no whitespace: equal values give equal bytes. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => {
    if (v === null || typeof v !== "object" || Array.isArray(v)) return v;
    const sorted: Record<string, unknown> = {};
    for (const k of Object.keys(v).sort()) sorted[k] = (v as Record<string, unknown>)[k];
    return sorted;
  });
}

/** Maps Node's process.arch to the OCI/Go architecture name. */
export function ociArchitecture(nodeArch: string): string {
  const names: Record<string, string> = { x64: "amd64", arm64: "arm64", arm: "arm", ia32: "386", ppc64: "ppc64le", s390x: "s390x", riscv64: "riscv64", loong64: "loong64" };
  const name = names[nodeArch];
  if (name === undefined) throw new Error(`no OCI architecture known for Node's "${nodeArch}"`);
  return name;
}

/** SOURCE_DATE_EPOCH as whole seconds (0 when unset or empty); anything else is an error. */
export function parseSourceDateEpoch(value: string | undefined): number {
  if (value === undefined || value.trim() === "") return 0;
  if (!/^\d+$/.test(value.trim())) throw new Error(`SOURCE_DATE_EPOCH must be whole seconds since 1970, got "${value}"`);
  return Number(value.trim());
}

/** The environment of a replica: the base's (PATH), defaults, then the function's declared env (sorted) over them. */
export function makeImageEnv(env: Readonly<Record<string, string>>, baseEnv?: readonly string[]): string[] {
  return mergeImageEnv(baseEnv, [["PORT", String(IMAGE_PORT)], ["NODE_ENV", "production"]], env);
}

/** `created` as RFC 3339 without fractions. */
export function formatCreated(createdSec: number): string {
  return new Date(createdSec * 1000).toISOString().replace(/\.000Z$/, "Z");
}

/** The image config JSON value (OCI config.md): ours on top of the base's, if any. */
export function makeImageConfig(input: ImageInput): Record<string, unknown> {
  const created = formatCreated(input.createdSec);
  const base = input.base ?? { layers: [], config: {} };
  checkBasePlatform(base.config, input.architecture);
  return {
    architecture: input.architecture,
    os: "linux",
    created,
    config: {
      User: IMAGE_USER,
      WorkingDir: `/${APP_DIR}`,
      // `node` comes from the base (found on its PATH); without a base the image cannot run alone.
      Entrypoint: ["node", "--enable-source-maps", `/${APP_DIR}/index.mjs`],
      Env: makeImageEnv(input.spec.env, base.config.config?.Env),
      ExposedPorts: { ...base.config.config?.ExposedPorts, [`${IMAGE_PORT}/tcp`]: {} },
      Labels: {
        ...base.config.config?.Labels,
        "org.opencontainers.image.revision": input.revision,
        "org.opencontainers.image.title": input.spec.name,
        "dev.skiff.function": input.spec.name,
        "dev.skiff.inputs-hash": input.inputsHash,
      },
    },
    rootfs: { type: "layers", diff_ids: [...base.layers.map((l) => l.diffId), ...input.layers.map((l) => l.diffId)] },
    history: [
      ...(base.layers.length > 0 ? baseHistory(base.layers, base.config, created) : []),
      ...input.layers.map((l) => ({ created, created_by: `skiff build: ${l.kind} layer` })),
    ],
  };
}

/** Builds config and manifest bytes for a function's layers on its base (if any). */
export function makeImage(input: ImageInput): Image {
  return assembleImage(makeImageConfig(input), input.layers, input.base?.layers ?? [], input.architecture);
}

/** Serializes a config value and the manifest naming it, base layers first (Docker types renamed to OCI). */
export function assembleImage(configValue: unknown, layers: readonly ImageLayer[], baseLayers: readonly BaseLayer[], architecture: string): Image {
  const config = Buffer.from(canonicalJson(configValue));
  const configDescriptor: Descriptor = { mediaType: MEDIA_TYPES.config, digest: sha256Digest(config), size: config.length };
  const manifestValue = {
    schemaVersion: 2,
    mediaType: MEDIA_TYPES.manifest,
    config: configDescriptor,
    layers: [
      ...baseLayers.map((l) => ({ mediaType: ociLayerMediaType(l.mediaType), digest: l.digest, size: l.size })),
      ...layers.map((l) => ({ mediaType: MEDIA_TYPES.layer, digest: l.digest, size: l.size })),
    ],
  };
  const manifest = Buffer.from(canonicalJson(manifestValue));
  const manifestDescriptor: Descriptor = {
    mediaType: MEDIA_TYPES.manifest,
    digest: sha256Digest(manifest),
    size: manifest.length,
    platform: { architecture, os: "linux" },
  };
  return { config, configDescriptor, manifest, manifestDescriptor, layers, baseLayers };
}
