// Revisions in the cluster are named as the local store names them, `<fn>-<12 hex>`, with
// the image standing in for the bundle's files: the same image and normalized spec always
// give the same id, so a restarted controller (or a no-op edit such as `30s` -> `30000ms`)
// finds the existing Deployment instead of making a new one.
import type { FunctionSpec } from "../../spec/index.ts";
import { REVISION_HASH_CHARS, makeRevisionHash, makeRevisionId, sha256Hex } from "../store/index.ts";

/** Longest Kubernetes label value and Service name (DNS-1035 label). */
const MAX_NAME = 63;

/** The pseudo-path the image is hashed under, beside the spec (no real bundle path starts with "@"). */
const IMAGE_ENTRY = "@image";

/** A revision of a Function in the cluster. */
export interface KubeRevision {
  /** `<fn>-<12 hex>`; also the Deployment's and Service's name and the revision label's value. */
  id: string;
  fn: string;
  image: string;
  spec: FunctionSpec;
  /** Full sha256 over the image and the canonical spec. */
  contentHash: string;
}

/** The revision of `image` running `spec` (a validated, normalized spec). */
export function makeKubeRevision(image: string, spec: FunctionSpec): KubeRevision {
  const contentHash = makeRevisionHash([[IMAGE_ENTRY, sha256Hex(image)]], spec);
  return { id: makeKubeRevisionId(spec.name, contentHash), fn: spec.name, image, spec, contentHash };
}

/**
 * makeRevisionId, kept to 63 characters: the id is a label value and a Service name, so a
 * function name longer than 50 characters is cut (the hash keeps ids distinct: it covers the
 * spec, which holds the full name).
 */
export function makeKubeRevisionId(fn: string, contentHash: string): string {
  const id = makeRevisionId(fn, contentHash);
  if (id.length <= MAX_NAME) return id;
  return makeRevisionId(fn.slice(0, MAX_NAME - REVISION_HASH_CHARS - 1), contentHash);
}
