import { SpecError } from "./errors.ts";

// Patterns are kept free of lookarounds so they also hold as RE2 patterns in a
// Kubernetes CRD's OpenAPI schema (the JSON Schema is derived from the zod schema).

/** A duration string: one or more `<number><unit>` parts, unit ms, s, m or h (e.g. `1m30s`). */
export const DURATION_PATTERN = "^([0-9]+(\\.[0-9]+)?(ms|h|m|s))+$";
/** A size string: `<number><unit>` with unit b, kb, mb, gb (or KiB, MiB, GiB), any case; or whole bytes. */
export const SIZE_PATTERN = "^([0-9]+|[0-9]+(\\.[0-9]+)?([kKmMgG][iI]?[bB]|[bB]))$";
/** A non-negative Kubernetes resource quantity, e.g. `1`, `0.5`, `500m`, `512Mi`, `1G`, `1e3`. */
export const QUANTITY_PATTERN = "^([0-9]+(\\.[0-9]*)?|\\.[0-9]+)([KMGTPE]i|[numkMGTPE]|[eE][+-]?[0-9]+)?$";

/** What a duration looks like, for messages. */
export const DURATION_HINT = 'a duration like "30s" or "500ms"';
/** What a size looks like, for messages. */
export const SIZE_HINT = 'a size like "512kb", "10mb" or "1gb"';

const DURATION_RE = new RegExp(DURATION_PATTERN);
const SIZE_RE = new RegExp(SIZE_PATTERN);
const QUANTITY_RE = new RegExp(QUANTITY_PATTERN);

const DURATION_UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

// kb/mb/gb are binary (1024-based) on purpose: request-size limits are usually thought
// of that way, and it keeps "10mb" identical to "10MiB". Kubernetes quantities below
// keep their own rules (M = 10^6, Mi = 2^20).
const SIZE_UNIT_BYTES: Record<string, number> = { b: 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 };

const QUANTITY_SUFFIX: Record<string, number> = {
  "": 1, n: 1e-9, u: 1e-6, m: 1e-3, k: 1e3, M: 1e6, G: 1e9, T: 1e12, P: 1e15, E: 1e18,
  Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, Pi: 2 ** 50, Ei: 2 ** 60,
};

/** Shows a value in a message: strings quoted, lists and mappings by kind. */
export function showValue(value: unknown): string {
  if (value === undefined) return "nothing";
  if (Array.isArray(value)) return "a list";
  if (value !== null && typeof value === "object") return "a mapping";
  if (typeof value === "string") return JSON.stringify(value);
  return String(value);
}

/** Parses `500ms`, `30s`, `5m`, `1h` or combinations like `1m30s` into milliseconds; throws SpecError. */
export function parseDuration(s: string): number {
  const ms = tryParseDuration(s);
  if (ms === undefined) throw unitError(`expected ${DURATION_HINT}, got ${showValue(s)}`);
  return ms;
}

/** Like parseDuration, but returns undefined instead of throwing. */
export function tryParseDuration(s: string): number | undefined {
  if (typeof s !== "string" || !DURATION_RE.test(s)) return undefined;
  let total = 0;
  for (const [, amount, unit] of s.matchAll(/([0-9]+(?:\.[0-9]+)?)(ms|h|m|s)/g)) {
    total += Number(amount) * (DURATION_UNIT_MS[unit!] ?? Number.NaN);
  }
  // Fractions such as "1.5ms" round to whole milliseconds, the unit every consumer uses.
  return Math.round(total);
}

/** Formats milliseconds as the shortest combined duration, e.g. 90000 -> `1m30s`, 0 -> `0s`. */
export function formatDuration(ms: number): string {
  if (ms < 0) return `-${formatDuration(-ms)}`;
  let rest = Math.round(ms);
  if (rest === 0) return "0s";
  let out = "";
  for (const [unit, size] of [["h", 3_600_000], ["m", 60_000], ["s", 1000], ["ms", 1]] as const) {
    const count = Math.floor(rest / size);
    if (count > 0) out += `${count}${unit}`;
    rest -= count * size;
  }
  return out;
}

/** Parses `512b`, `64kb`, `10mb`, `1gb` (any case; also KiB/MiB/GiB; kb = 1024 bytes) or whole bytes; throws SpecError. */
export function parseSize(s: string): number {
  const bytes = tryParseSize(s);
  if (bytes === undefined) throw unitError(`expected ${SIZE_HINT}, got ${showValue(s)}`);
  return bytes;
}

/** Like parseSize, but returns undefined instead of throwing. */
export function tryParseSize(s: string): number | undefined {
  if (typeof s !== "string" || !SIZE_RE.test(s)) return undefined;
  const match = /^([0-9.]+)([a-zA-Z]*)$/.exec(s)!;
  const unit = (match[2] ?? "").charAt(0).toLowerCase() || "b";
  return Math.round(Number(match[1]) * (SIZE_UNIT_BYTES[unit] ?? Number.NaN));
}

/** Formats bytes with the largest unit that keeps the number >= 1, e.g. 10485760 -> `10mb`, 1536 -> `1.5kb` (rounded to 2 decimals). */
export function formatSize(bytes: number): string {
  const units = [["gb", 1024 ** 3], ["mb", 1024 ** 2], ["kb", 1024]] as const;
  for (const [unit, size] of units) {
    if (Math.abs(bytes) >= size) return `${Number((bytes / size).toFixed(2))}${unit}`;
  }
  return `${Math.round(bytes)}b`;
}

/** Parses a Kubernetes quantity (`1`, `0.5`, `500m`, `512Mi`, `1G`, `1e3`) into base units (cores, bytes); throws SpecError. */
export function parseQuantity(s: string): number {
  const value = tryParseQuantity(s);
  if (value === undefined) {
    throw unitError(`expected a Kubernetes quantity like "500m", "1", "512Mi" or "1Gi", got ${showValue(s)}`);
  }
  return value;
}

/** Like parseQuantity, but returns undefined instead of throwing. */
export function tryParseQuantity(s: string): number | undefined {
  if (typeof s !== "string" || !QUANTITY_RE.test(s)) return undefined;
  const match = /^([0-9.]+)(.*)$/.exec(s)!;
  const number = Number(match[1]);
  const suffix = match[2] ?? "";
  if (/^[eE]/.test(suffix)) return number * 10 ** Number(suffix.slice(1));
  return number * (QUANTITY_SUFFIX[suffix] ?? Number.NaN);
}

/** Rounds up like Kubernetes does (MilliValue/Value), after trimming float noise such as 0.1*1000 = 100.00000000000001. */
export function ceilQuantity(value: number): number {
  return Math.ceil(Number(value.toFixed(6)));
}

function unitError(message: string): SpecError {
  return new SpecError([{ path: "", message }]);
}
