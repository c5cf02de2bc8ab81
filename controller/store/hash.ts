// Content addressing of revisions: the same files and spec always give the same id, on
// every machine, so re-deploying unchanged code reuses the stored revision.
import { createHash } from "node:crypto";
import type { FunctionSpec } from "../../spec/types.ts";
import type { Isolation } from "../types.ts";

/** Hex digits of the content hash kept in a revision id (48 bits: collisions within one function are negligible). */
export const REVISION_HASH_CHARS = 12;

/** Hex sha256 of a string or bytes. */
export function sha256Hex(data: string | Uint8Array): string {
  return createHash("sha256").update(data).digest("hex");
}

/** JSON with object keys sorted at every level and no whitespace; undefined members dropped. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(sortKeys(value));
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value === null || typeof value !== "object") return value;
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(value).sort()) {
    const member = (value as Record<string, unknown>)[key];
    if (member !== undefined) out[key] = sortKeys(member);
  }
  return out;
}

/**
 * The revision content hash: sha256 over sorted `(path, sha256(content))` pairs, then the canonical
 * spec JSON, then the isolation unless it is the default (so process revisions keep their ids).
 */
export function makeRevisionHash(fileHashes: Iterable<readonly [string, string]>, spec: FunctionSpec, isolation: Isolation = "process"): string {
  const pairs = [...fileHashes].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const hash = createHash("sha256");
  // NUL and newline cannot occur in a valid path or a hex digest, so the framing is unambiguous.
  for (const [path, digest] of pairs) hash.update(`${path}\0${digest}\n`);
  hash.update(`spec\0${canonicalJson(spec)}`);
  if (isolation !== "process") hash.update(`\nisolation\0${isolation}`);
  return hash.digest("hex");
}

/** The revision id for a content hash: `<fn>-<first 12 hex>`. */
export function makeRevisionId(name: string, contentHash: string): string {
  return `${name}-${contentHash.slice(0, REVISION_HASH_CHARS)}`;
}
