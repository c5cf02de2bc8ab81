// Building blocks of the CRD's CEL rules. Each rule restates, for the apiserver, a check
// that spec/ makes in TypeScript after a pattern matched (ranges, reserved names, cross-field
// rules); the table in crd-cases.ts holds both sides to the same verdicts.
import { formatDuration, formatSize } from "../../spec/index.ts";
import type { CelRule } from "./openapi.ts";

/** A CEL string literal; raw (r'...') so regex backslashes stay as written. */
export function celString(text: string): string {
  if (!text.includes("'") && !text.includes("\n")) return `r'${text}'`;
  return `'${text.replace(/\\/g, "\\\\").replace(/'/g, "\\'").replace(/\n/g, "\\n")}'`;
}

/**
 * A duration string within [minMs, maxMs]. Go's time.ParseDuration (CEL's duration()) reads
 * every string spec's DURATION_PATTERN admits; the match guard keeps a malformed value to the
 * pattern's own error instead of adding an evaluation error.
 */
export function durationRangeRule(pattern: string, range: { minMs: number; maxMs?: number }): CelRule | undefined {
  const { minMs, maxMs } = range;
  if (minMs <= 0 && maxMs === undefined) return undefined;
  const checks: string[] = [];
  if (minMs > 0) checks.push(`duration(self) >= duration('${formatDuration(minMs)}')`);
  if (maxMs !== undefined) checks.push(`duration(self) <= duration('${formatDuration(maxMs)}')`);
  const what = maxMs === undefined ? `of at least ${formatDuration(minMs)}` : `between ${formatDuration(minMs)} and ${formatDuration(maxMs)}`;
  return { rule: `!self.matches(${celString(pattern)}) || (${checks.join(" && ")})`, message: `must be a duration ${what}` };
}

/** Bytes of a size string (spec's parseSize: kb/mb/gb are 1024-based, the first letter picks the unit). */
const SIZE_BYTES_CEL =
  "double(self.find('^[0-9.]+')) * {'': 1.0, 'b': 1.0, 'k': 1024.0, 'm': 1048576.0, 'g': 1073741824.0}[self.find('[a-zA-Z]').lowerAscii()]";

/**
 * A size (whole bytes, or a string like "10mb") within [minBytes, maxBytes]. spec rounds a
 * fractional size to whole bytes before the range check, hence the half-byte margins.
 */
export function sizeRangeRule(pattern: string, range: { minBytes: number; maxBytes: number }): CelRule {
  const { minBytes, maxBytes } = range;
  const ints = `self >= ${minBytes} && self <= ${maxBytes}`;
  const strings = `!self.matches(${celString(pattern)}) || (${SIZE_BYTES_CEL} >= ${minBytes - 0.5} && ${SIZE_BYTES_CEL} < ${maxBytes + 0.5})`;
  return {
    rule: `type(self) == int ? (${ints}) : (${strings})`,
    message: `must be a size between ${formatSize(minBytes)} and ${formatSize(maxBytes)}`,
  };
}

/** A quantity string above zero: its mantissa has a non-zero digit ("0", "0.0Gi" and "0e3" are zero). */
export function positiveQuantityRule(pattern: string): CelRule {
  return {
    rule: `type(self) == int || !self.matches(${celString(pattern)}) || self.find('^[0-9.]*').matches('[1-9]')`,
    message: "must be a quantity greater than zero",
  };
}

/**
 * CEL for spec's subjectMatches(pattern, subject): whether the concrete NATS `subject` is
 * one the `pattern` consumes. Token by token (a regex built from the pattern would be exact
 * too, but the apiserver prices a regex made at run time far above its cost limit). Both
 * must have matched their patterns first, so tokens are non-empty and ">" is only last.
 * Needs CEL's two-variable comprehensions (Kubernetes 1.33+).
 */
export function subjectMatchesCel(pattern: string, subject: string): string {
  const want = `${pattern}.split('.')`;
  const got = `${subject}.split('.')`;
  const sizes = `(${pattern}.endsWith('>') ? size(${got}) >= size(${want}) : size(${got}) == size(${want}))`;
  return `(${sizes} && ${want}.all(i, t, t == '>' || t == '*' || t == ${got}[i]))`;
}
