// What the CRD adds to the JSON Schema derived from spec's zod schema: CEL for the checks zod
// runs in code (cross-field rules, reserved names, path escapes), and size bounds that keep
// every rule's estimated cost under the apiserver's limits. Keyed by schema path ("." between
// properties, "[]" for list items, "{}" for map values); the generator fails on a path that no
// longer exists, so a renamed field cannot silently lose its rules.
import { ENTRY_EXTENSIONS, NAME_PATTERN, REPLY_PATTERN, SUBJECT_PATTERN } from "../../spec/index.ts";
import { celString, subjectMatchesCel } from "./cel.ts";
import type { CelRule, OpenApiSchema } from "./openapi.ts";

/**
 * Bounds the apiserver needs and function.yaml does not have: CEL cost is estimated from the
 * largest value a field could hold, so lists and strings that rules read must be bounded.
 * Each is far above any real function (documented as the CRD's only stricter checks).
 */
export const CRD_BOUNDS: Record<string, Pick<OpenApiSchema, "maxLength" | "maxItems" | "maxProperties">> = {
  entry: { maxLength: 1024 },
  events: { maxItems: 32 },
  "events[].subject": { maxLength: 256 },
  "events[].reply": { maxLength: 256 },
  "events[].type": { maxLength: 256 },
  "events[].backoff[]": { maxLength: 32 },
  "scale.window": { maxLength: 32 },
  "scale.scaleToZeroAfter": { maxLength: 32 },
  timeout: { maxLength: 32 },
  maxBodySize: { maxLength: 32 },
  env: { maxProperties: 256 },
  assets: { maxItems: 256 },
  "assets[]": { maxLength: 1024 },
  "resources.cpu": { maxLength: 64 },
  "resources.memory": { maxLength: 64 },
  "batch.maxDelay": { maxLength: 32 },
};

/** A path inside the function directory (spec's relativePathField): not absolute, no "..". */
const RELATIVE_PATH_RULE: CelRule = {
  rule: `!self.startsWith('/') && !self.startsWith(${celString("\\")}) && !self.matches('^[A-Za-z]:') && !self.matches(${celString("(^|[\\\\/])[.][.]([\\\\/]|$)")})`,
  message: 'must be a path inside the function directory (relative, without "..")',
};

const ENTRY_RULE: CelRule = {
  rule: ENTRY_EXTENSIONS.map((ext) => `self.endsWith('${ext}')`).join(" || "),
  message: `must be a ${ENTRY_EXTENSIONS.join(", ")} file`,
};

/** CEL rules per schema path, restating spec's checks that run in code. */
export const CRD_RULES: Record<string, CelRule[]> = {
  entry: [RELATIVE_PATH_RULE, ENTRY_RULE],
  "assets[]": [RELATIVE_PATH_RULE],
  env: [{
    rule: "self.all(k, k != 'PORT' && !k.startsWith('SKIFF_'))",
    message: "PORT and names starting with SKIFF_ are reserved by the platform (set for every replica)",
  }],
  scale: [
    { rule: "!has(self.min) || !has(self.max) || self.min <= self.max", message: "must be <= scale.max", fieldPath: ".min" },
    {
      // Aiming above the hard per-replica limit could never be reached.
      rule: "!has(self.target) || !has(self.concurrency) || self.target <= double(self.concurrency)",
      message: "must be <= scale.concurrency",
      fieldPath: ".target",
    },
  ],
  "events[]": [{
    // Publishing a reply that the trigger itself consumes would re-run the function forever.
    rule: `!has(self.reply) || !self.subject.matches(${celString(SUBJECT_PATTERN.source)}) || !self.reply.matches(${celString(REPLY_PATTERN.source)}) || !${subjectMatchesCel("self.subject", "self.reply")}`,
    message: "reply subject matches this trigger's own subject; every reply would trigger the function again (an endless loop)",
    fieldPath: ".reply",
  }],
  events: [{
    // Two consumers for one (subject, type) would deliver every event twice.
    rule: "self.all(a, self.exists_one(b, b.subject == a.subject && (has(b.type) ? b.type : '') == (has(a.type) ? a.type : '')))",
    message: "duplicate trigger: two triggers have the same subject and type",
  }],
};

/** Rules on the Function object's root, where CEL may read metadata.name. */
export const ROOT_RULES: CelRule[] = [
  {
    // Kubernetes only asks a DNS-1123 subdomain of a name; the gateway path /fn/<name>/ and the
    // revision labels need a DNS-1123 label.
    rule: `self.metadata.name.matches(${celString(NAME_PATTERN.source)})`,
    message: 'metadata.name must be a DNS-1123 label (lowercase letters, digits and "-"; starts with a letter, ends with a letter or digit; at most 63 characters)',
  },
  {
    rule: "!has(self.spec.name) || self.spec.name == self.metadata.name",
    message: "spec.name, when given, must equal metadata.name",
    fieldPath: ".spec.name",
  },
];
