// Extending a base image's config, purely: what of the base a function image keeps (its Env with
// PATH, its history and labels) and what the function's image decides itself (Entrypoint, User,
// WorkingDir; the base's Cmd is dropped, or it would be appended to our Entrypoint).
import type { BaseLayer, OciHistory, OciImageConfig } from "./base.ts";

/** PATH of an image whose base does not set one (the Debian default). */
export const DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/** Docker schema2 layer types and the OCI types that name the same bytes (image-spec media-types.md). */
const DOCKER_TO_OCI_LAYER: Record<string, string> = {
  "application/vnd.docker.image.rootfs.diff.tar.gzip": "application/vnd.oci.image.layer.v1.tar+gzip",
  "application/vnd.docker.image.rootfs.diff.tar": "application/vnd.oci.image.layer.v1.tar",
  "application/vnd.docker.image.rootfs.diff.tar.zstd": "application/vnd.oci.image.layer.v1.tar+zstd",
};
const OCI_LAYER_TYPES = new Set(Object.values(DOCKER_TO_OCI_LAYER));

/** The OCI media type a base layer is written under: Docker types are renamed (same bytes), others refused. */
export function ociLayerMediaType(mediaType: string): string {
  if (OCI_LAYER_TYPES.has(mediaType)) return mediaType;
  const oci = DOCKER_TO_OCI_LAYER[mediaType];
  if (oci === undefined) throw new Error(`base layer media type "${mediaType}" is not supported (expected a tar, tar+gzip or tar+zstd layer)`);
  return oci;
}

/**
 * The image's Env: the base's variables in their order, PATH from the base (the default when it
 * has none), then `defaults` and the function's declared env (sorted) over them.
 */
export function mergeImageEnv(baseEnv: readonly string[] | undefined, defaults: ReadonlyArray<readonly [string, string]>, env: Readonly<Record<string, string>>): string[] {
  const merged = new Map<string, string>();
  for (const entry of baseEnv ?? []) {
    const eq = entry.indexOf("=");
    if (eq > 0) merged.set(entry.slice(0, eq), entry.slice(eq + 1));
  }
  if (!merged.has("PATH")) merged.set("PATH", DEFAULT_PATH);
  for (const [key, value] of defaults) merged.set(key, value);
  for (const key of Object.keys(env).sort()) merged.set(key, env[key]!);
  return [...merged].map(([k, v]) => `${k}=${v}`);
}

/** The base's history when it matches its layers (one non-empty entry per layer), else one entry per layer. */
export function baseHistory(layers: readonly BaseLayer[], config: OciImageConfig, created: string): OciHistory[] {
  const history = config.history ?? [];
  if (history.length > 0 && history.filter((h) => !h.empty_layer).length === layers.length) return history;
  return layers.map((l) => ({ created, created_by: `base layer ${l.digest.slice("sha256:".length, "sha256:".length + 12)}` }));
}

/** Refuses a base that cannot run what this build makes (another OS or CPU). */
export function checkBasePlatform(config: OciImageConfig, architecture: string): void {
  if (config.os !== undefined && config.os !== "linux") throw new Error(`base image is for os "${config.os}", not linux`);
  if (config.architecture !== undefined && config.architecture !== architecture) {
    throw new Error(`base image is for ${config.architecture}, but this build is for ${architecture} (native modules are built for the host)`);
  }
}
