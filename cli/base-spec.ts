// What `--base` names, parsed purely (no I/O) so a bad value is a usage error before any
// bundling: the host's node, no base at all, a local OCI layout, or an image in a registry.
import { isAbsolute, resolve } from "node:path";
import { ImageReferenceError, parsePullReference, type PullReference } from "../builder/index.ts";

/** A base image to build on. */
export type BaseSpec =
  /** The host's node and the shared libraries it loads (builder/oci/host-base.ts). */
  | { kind: "host" }
  /** No base: the app layers only; the image cannot run alone (it needs `node` on PATH). */
  | { kind: "scratch" }
  /** An OCI image layout on disk (skopeo's `oci:PATH[:TAG]`); without a tag, its only image. */
  | { kind: "layout"; dir: string; tag?: string }
  /** An image in a registry, `[registry/]repo[:tag][@sha256:…]`. */
  | { kind: "registry"; ref: PullReference; text: string };

/** The base when `--base` is absent: an image that runs as built (see cli/image-build.ts). */
export const DEFAULT_BASE = "host";

/** Why a `--base` value is not understood (the CLI turns it into a usage error). */
export class BaseSpecError extends Error {
  override readonly name = "BaseSpecError";
}

/**
 * Parses `host`, `scratch`, `oci:PATH[:TAG]` or a registry reference. As skopeo does, the first
 * colon after `oci:` ends the path (`oci:/a/b:v1` is /a/b tagged v1); a relative path is taken
 * from `cwd`.
 */
export function parseBaseSpec(text: string, cwd: string = process.cwd()): BaseSpec {
  if (text === "host") return { kind: "host" };
  if (text === "scratch") return { kind: "scratch" };
  if (text.startsWith("oci:")) return parseLayoutSpec(text, cwd);
  try {
    return { kind: "registry", ref: parsePullReference(text), text };
  } catch (error) {
    if (!(error instanceof ImageReferenceError)) throw error;
    throw new BaseSpecError(`--base: ${error.message} (expected host, scratch, oci:PATH[:TAG] or [registry/]repo[:tag][@sha256:…])`, { cause: error });
  }
}

function parseLayoutSpec(text: string, cwd: string): BaseSpec {
  const rest = text.slice("oci:".length);
  const colon = rest.indexOf(":");
  const path = colon === -1 ? rest : rest.slice(0, colon);
  const tag = colon === -1 ? undefined : rest.slice(colon + 1);
  if (path === "") throw new BaseSpecError(`--base "${text}": oci: needs a layout directory, e.g. oci:./base-layout:latest`);
  if (tag === "") throw new BaseSpecError(`--base "${text}": the tag after the path is empty; drop the colon or name a tag`);
  const dir = isAbsolute(path) ? path : resolve(cwd, path);
  return tag === undefined ? { kind: "layout", dir } : { kind: "layout", dir, tag };
}

/** How a base is named in output: the spec as the user would write it. */
export function formatBaseSpec(spec: BaseSpec): string {
  switch (spec.kind) {
    case "host":
    case "scratch":
      return spec.kind;
    case "layout":
      return `oci:${spec.dir}${spec.tag === undefined ? "" : `:${spec.tag}`}`;
    case "registry":
      return spec.text;
  }
}
