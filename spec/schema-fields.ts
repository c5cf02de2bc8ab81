import { z } from "zod";
import {
  DURATION_HINT, DURATION_PATTERN, QUANTITY_PATTERN, SIZE_HINT, SIZE_PATTERN,
  formatDuration, formatSize, showValue, tryParseDuration, tryParseQuantity, tryParseSize,
} from "./units.ts";

// Leaf schemas of function.yaml. Every check of a leaf shares one message builder, so a
// field always says the same "expected <what>, got <value>" whichever rule it broke.

type IssueInput = { readonly input?: unknown };

/**
 * JSON Schema keywords (in makeFunctionSpecJsonSchema's output) carrying the ranges that the
 * transforms below check after parsing, which a pattern cannot say. The CRD generator turns
 * them into CEL rules, so a range is declared once, here.
 */
export const UNIT_META = {
  /** `{ minMs, maxMs? }` on a duration string. */
  duration: "x-skiff-duration",
  /** `{ minBytes, maxBytes }` on a size (string or whole bytes). */
  size: "x-skiff-size",
  /** `{ positive: true }` on a Kubernetes quantity (string or number). */
  quantity: "x-skiff-quantity",
} as const;

/** An error map giving `required` for a missing value and `expected <what>, got <value>` otherwise. */
export function expected(what: string): (issue: IssueInput) => string {
  return (issue) => (issue.input === undefined ? "required" : `expected ${what}, got ${showValue(issue.input)}`);
}

/** An integer in [min, max] (max optional). */
export function intField(min: number, max?: number) {
  const what = max === undefined ? `an integer >= ${min}` : `an integer between ${min} and ${max}`;
  const error = expected(what);
  const schema = z.number({ error }).int({ error }).min(min, { error });
  return max === undefined ? schema : schema.max(max, { error });
}

/** A boolean (YAML 1.2: only true/false, so "yes" is a string and rejected). */
export function boolField() {
  return z.boolean({ error: expected("a boolean") });
}

/** A non-empty string. */
export function textField() {
  const error = expected("a non-empty string");
  return z.string({ error }).min(1, { error });
}

/** A string matching `pattern`, described by `what` in messages. */
export function patternField(pattern: RegExp, what: string) {
  const error = expected(what);
  return z.string({ error }).regex(pattern, { error });
}

/** A duration string in [minMs, maxMs] (maxMs optional), parsed to milliseconds. */
export function durationField(minMs: number, maxMs?: number) {
  const error = (issue: IssueInput): string => {
    const hint = typeof issue.input === "number" ? ` (add a unit, e.g. "${issue.input}s")` : "";
    return `${expected(DURATION_HINT)(issue)}${hint}`;
  };
  const range = maxMs === undefined
    ? `of at least ${formatDuration(minMs)}`
    : `between ${formatDuration(minMs)} and ${formatDuration(maxMs)}`;
  return z.string({ error }).regex(new RegExp(DURATION_PATTERN), { error }).transform((text, ctx) => {
    const ms = tryParseDuration(text)!;
    if (ms >= minMs && (maxMs === undefined || ms <= maxMs)) return ms;
    ctx.issues.push({ code: "custom", input: text, message: `expected a duration ${range}, got ${showValue(text)}` });
    return z.NEVER;
  }).meta({ [UNIT_META.duration]: maxMs === undefined ? { minMs } : { minMs, maxMs } });
}

/** A size (`10mb`, or whole bytes as a number) in [minBytes, maxBytes], parsed to bytes. */
export function sizeField(minBytes: number, maxBytes: number) {
  const error = expected(`${SIZE_HINT} (units b, kb, mb, gb; kb = 1024 bytes)`);
  // Every branch carries the message too: when one branch matches the type, zod reports
  // that branch's issue instead of the union's.
  const input = z.union([
    z.number({ error }).int({ error }).min(0, { error }),
    z.string({ error }).regex(new RegExp(SIZE_PATTERN), { error }),
  ], { error });
  return input.transform((value, ctx) => {
    const bytes = typeof value === "number" ? value : tryParseSize(value)!;
    if (bytes >= minBytes && bytes <= maxBytes) return bytes;
    const range = `between ${formatSize(minBytes)} and ${formatSize(maxBytes)}`;
    ctx.issues.push({ code: "custom", input: value, message: `expected a size ${range}, got ${showValue(value)}` });
    return z.NEVER;
  }).meta({ [UNIT_META.size]: { minBytes, maxBytes } });
}

/** A positive Kubernetes quantity (string or number), `examples` shown in messages; keeps the text and its value in base units. */
export function quantityField(examples: string) {
  const error = expected(`a positive Kubernetes quantity like ${examples}`);
  const input = z.union([
    z.number({ error }).positive({ error }),
    z.string({ error }).regex(new RegExp(QUANTITY_PATTERN), { error }),
  ], { error });
  return input.transform((value, ctx) => {
    const text = String(value);
    const amount = tryParseQuantity(text);
    if (amount !== undefined && amount > 0) return { text, amount };
    ctx.issues.push({ code: "custom", input: value, message: error({ input: value }) });
    return z.NEVER;
  }).meta({ [UNIT_META.quantity]: { positive: true } });
}

/** A path relative to the function directory that cannot escape it; `extensions` limits the file type. */
export function relativePathField(extensions?: readonly string[]) {
  return textField().superRefine((path, ctx) => {
    if (path === "") return; // already reported by textField
    const segments = path.split(/[\\/]/);
    if (path.startsWith("/") || path.startsWith("\\") || /^[A-Za-z]:/.test(path) || segments.includes("..")) {
      const message = `expected a path inside the function directory (relative, without ".."), got ${showValue(path)}`;
      ctx.addIssue({ code: "custom", input: path, message });
      return;
    }
    if (extensions && !extensions.some((ext) => path.endsWith(ext))) {
      const list = `${extensions.slice(0, -1).join(", ")} or ${extensions.at(-1)}`;
      ctx.addIssue({ code: "custom", input: path, message: `expected a ${list} file, got ${showValue(path)}` });
    }
  });
}

/** A list whose every entry is `item`, with a length in [min, max]; `what` describes it in messages. */
export function listField<T extends z.ZodType>(item: T, what: string, min = 0, max?: number) {
  // A length error counts entries; "got a list" would not say what is wrong.
  const error = (issue: IssueInput): string => {
    if (!Array.isArray(issue.input)) return expected(what)(issue);
    const count = issue.input.length;
    return `expected ${what}, got ${count} ${count === 1 ? "entry" : "entries"}`;
  };
  let schema = z.array(item, { error });
  if (min > 0) schema = schema.min(min, { error });
  return max === undefined ? schema : schema.max(max, { error });
}
