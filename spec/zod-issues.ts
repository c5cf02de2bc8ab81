import type { z } from "zod";
import { closestMatch } from "./suggest.ts";

/** A schema issue before it is placed in the source: the path as segments, and what to point at. */
export interface PathIssue {
  path: (string | number)[];
  message: string;
  /** Unknown or invalid keys point at the key itself; everything else at the value. */
  pointAt: "key" | "value";
}

type Segment = string | number;

/** Turns zod issues into one PathIssue per problem (an unknown-keys issue becomes one per key). */
export function fromZodIssues(issues: readonly z.core.$ZodIssue[], schema: z.core.$ZodType): PathIssue[] {
  return issues.flatMap((issue): PathIssue[] => {
    const path = issue.path.map(toSegment);
    if (issue.code === "unrecognized_keys") {
      const allowed = allowedKeys(schema, path);
      return issue.keys.map((key) => ({ path: [...path, key], message: unknownKeyMessage(key, allowed), pointAt: "key" }));
    }
    if (issue.code === "invalid_key") {
      // A record key failed its own schema; its nested issues hold our messages.
      return issue.issues.map((inner) => ({ path, message: inner.message, pointAt: "key" }));
    }
    return [{ path, message: issue.message, pointAt: "value" }];
  });
}

/** `unknown key "x" (did you mean "y"?)` when a key is close, else the list of allowed keys. */
export function unknownKeyMessage(key: string, allowed: readonly string[]): string {
  const suggestion = closestMatch(key, allowed);
  if (suggestion !== undefined) return `unknown key ${JSON.stringify(key)} (did you mean ${JSON.stringify(suggestion)}?)`;
  return `unknown key ${JSON.stringify(key)} (allowed: ${allowed.join(", ")})`;
}

/** Formats segments as `scale.max`, `events[0].reply` or `env["A.B"]`; the empty path is `(root)`. */
export function formatPath(path: readonly Segment[]): string {
  if (path.length === 0) return "(root)";
  return path
    .map((segment, i) => {
      if (typeof segment === "number") return `[${segment}]`;
      if (/^[A-Za-z_$][\w$-]*$/.test(segment)) return i === 0 ? segment : `.${segment}`;
      return `[${JSON.stringify(segment)}]`;
    })
    .join("");
}

/** The keys a strict object allows at `path`, found by walking the schema the way the data was walked. */
function allowedKeys(schema: z.core.$ZodType, path: readonly Segment[]): string[] {
  let node: z.core.$ZodType | undefined = unwrap(schema);
  for (const segment of path) {
    if (!node) return [];
    const def = node._zod.def as unknown as Record<string, unknown> & { type: string };
    const next: unknown =
      def.type === "object" ? (def.shape as Record<string, unknown>)[String(segment)]
        : def.type === "array" ? def.element
          : def.type === "record" ? def.valueType
            : undefined;
    node = next ? unwrap(next as z.core.$ZodType) : undefined;
  }
  const def = node?._zod.def as { type: string; shape?: Record<string, unknown> } | undefined;
  return def?.type === "object" && def.shape ? Object.keys(def.shape) : [];
}

/** Looks through wrappers (optional, default, prefault, nullable) and pipes (transforms) to the schema that parses input. */
function unwrap(schema: z.core.$ZodType): z.core.$ZodType {
  let node = schema;
  for (;;) {
    const def = node._zod.def as unknown as { type: string; innerType?: z.core.$ZodType; in?: z.core.$ZodType };
    if (def.innerType) node = def.innerType;
    else if (def.type === "pipe" && def.in) node = def.in;
    else return node;
  }
}

function toSegment(key: PropertyKey): Segment {
  return typeof key === "number" ? key : String(key);
}
