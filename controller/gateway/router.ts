// Pure request routing: which function a request path names, the path the replica sees, and
// which revision of a traffic split serves it.
import { NAME_PATTERN } from "../../spec/index.ts";
import type { TrafficTarget } from "./types.ts";

/** Where a request goes, from its path alone. */
export type ParsedPath =
  | { kind: "function"; name: string; valid: boolean; path: string }
  | { kind: "platform"; path: string }
  | { kind: "none"; path: string };

/** Prefix of the function routes. */
export const FUNCTION_PREFIX = "/fn/";
/** Prefix of the gateway's own endpoints (health, metrics); never forwarded. */
export const PLATFORM_PREFIX = "/_skiff/";

/**
 * Splits a request target: `/fn/hello/a/b?x=1` -> function "hello", path `/a/b?x=1`;
 * `/fn/hello` and `/fn/hello?x=1` -> `/` and `/?x=1`. The rest is forwarded byte for byte
 * (no decoding) so the replica sees exactly what the client sent.
 */
export function parseGatewayPath(target: string): ParsedPath {
  const path = stripOrigin(target);
  if (path.startsWith(PLATFORM_PREFIX)) return { kind: "platform", path };
  if (!path.startsWith(FUNCTION_PREFIX)) return path === "/fn" || path.startsWith("/fn?") ? fnWithoutName(path) : { kind: "none", path };
  const afterPrefix = path.slice(FUNCTION_PREFIX.length);
  const end = firstIndexOf(afterPrefix, "/?");
  const name = afterPrefix.slice(0, end);
  const rest = afterPrefix.slice(end);
  const forwarded = rest.startsWith("/") ? rest : `/${rest}`;
  return { kind: "function", name, valid: isFunctionName(name), path: forwarded };
}

/** True when `name` is a DNS-1123 label that a function could have. */
export function isFunctionName(name: string): boolean {
  return NAME_PATTERN.test(name);
}

/**
 * Picks one revision, weighted by percent: `random` is a uniform [0, 1) source (Math.random, or
 * a seeded one in tests). Undefined when no target has a positive share.
 */
export function pickTarget(targets: ReadonlyArray<TrafficTarget>, random: () => number): string | undefined {
  // The common case (one revision at 100%) skips the random draw.
  if (targets.length === 1) return targets[0]!.percent > 0 ? targets[0]!.revision : undefined;
  let total = 0;
  for (const t of targets) if (t.percent > 0) total += t.percent;
  if (total <= 0) return undefined;
  let point = random() * total;
  let last: string | undefined;
  for (const t of targets) {
    if (t.percent <= 0) continue;
    last = t.revision;
    if (point < t.percent) return t.revision;
    point -= t.percent;
  }
  // Floating point can leave `point` a hair above the last share; it belongs to the last target.
  return last;
}

/** `/fn` alone names no function: reported as an invalid (empty) name. */
function fnWithoutName(path: string): ParsedPath {
  const query = path.indexOf("?");
  return { kind: "function", name: "", valid: false, path: query < 0 ? "/" : `/${path.slice(query)}` };
}

/** Absolute-form targets (`GET http://host/fn/x`, sent to proxies) carry an origin to drop. */
function stripOrigin(target: string): string {
  if (target.startsWith("/")) return target;
  const match = /^[a-z][a-z0-9+.-]*:\/\/[^/?#]*/i.exec(target);
  if (!match) return `/${target}`;
  const rest = target.slice(match[0].length);
  return rest.startsWith("/") ? rest : `/${rest}`;
}

/** Index of the first character of `text` found in `chars`, or text.length. */
function firstIndexOf(text: string, chars: string): number {
  for (let i = 0; i < text.length; i++) if (chars.includes(text[i]!)) return i;
  return text.length;
}
