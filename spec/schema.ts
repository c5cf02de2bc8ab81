import { z } from "zod";
import type { FunctionSpec } from "./types.ts";
import {
  boolField, durationField, expected, intField, listField, patternField, quantityField,
  relativePathField, sizeField, textField,
} from "./schema-fields.ts";
import { ceilQuantity, parseDuration, parseQuantity, parseSize, showValue } from "./units.ts";

// The one schema of function.yaml. It validates the document as written (durations and
// sizes as strings) and transforms it into the normalized FunctionSpec; its input side is
// what z.toJSONSchema(functionSpecSchema, { io: "input" }) describes (for the CRD).

/** DNS-1123 label: lowercase a-z0-9 and '-', starts with a letter, ends alphanumeric, 1..63 chars. */
export const NAME_PATTERN = /^[a-z]([a-z0-9-]{0,61}[a-z0-9])?$/;
/** NATS subject: dot-separated non-empty tokens; `*` and `>` only as whole tokens, `>` only last. */
export const SUBJECT_PATTERN = /^((\*|[^.\s*>]+)\.)*(\*|>|[^.\s*>]+)$/;
/** NATS subject without wildcards (a reply is published to, so it must be concrete). */
export const REPLY_PATTERN = /^[^.\s*>]+(\.[^.\s*>]+)*$/;
/** Environment variable name. */
export const ENV_NAME_PATTERN = /^[A-Za-z_][A-Za-z0-9_]*$/;
/** Extensions an entry file may have. */
export const ENTRY_EXTENSIONS = [".ts", ".mts", ".js", ".mjs"] as const;

/** Defaults as a user would write them in function.yaml; DEFAULTS holds them normalized. */
export const YAML_DEFAULTS = {
  entry: "index.ts",
  http: true,
  timeout: "30s",
  maxBodySize: "10mb",
  scale: { min: 0, max: 10, concurrency: 10, window: "60s", scaleToZeroAfter: "30s" },
  trigger: { maxDeliver: 5, backoff: ["1s", "10s", "60s"] },
  resources: { cpu: "1", memory: "512Mi", gpu: 0 },
  batch: { maxDelay: "5ms" },
} as const;

/** Normalized defaults (ms, bytes) for code that needs them without parsing a spec; scale.target defaults to scale.concurrency. */
export const DEFAULTS = {
  entry: YAML_DEFAULTS.entry,
  http: YAML_DEFAULTS.http,
  timeoutMs: parseDuration(YAML_DEFAULTS.timeout),
  maxBodyBytes: parseSize(YAML_DEFAULTS.maxBodySize),
  scale: {
    min: YAML_DEFAULTS.scale.min,
    max: YAML_DEFAULTS.scale.max,
    concurrency: YAML_DEFAULTS.scale.concurrency,
    target: YAML_DEFAULTS.scale.concurrency,
    windowMs: parseDuration(YAML_DEFAULTS.scale.window),
    scaleToZeroAfterMs: parseDuration(YAML_DEFAULTS.scale.scaleToZeroAfter),
  },
  trigger: { maxDeliver: YAML_DEFAULTS.trigger.maxDeliver, backoffMs: YAML_DEFAULTS.trigger.backoff.map(parseDuration) },
  resources: {
    cpu: YAML_DEFAULTS.resources.cpu,
    cpuMillis: ceilQuantity(parseQuantity(YAML_DEFAULTS.resources.cpu) * 1000),
    memory: YAML_DEFAULTS.resources.memory,
    memoryBytes: ceilQuantity(parseQuantity(YAML_DEFAULTS.resources.memory)),
    gpu: YAML_DEFAULTS.resources.gpu,
  },
  batch: { maxDelayMs: parseDuration(YAML_DEFAULTS.batch.maxDelay) },
} as const;

/** Bounds the schema enforces, for code that validates the same values elsewhere (e.g. CLI flags). */
export const LIMITS = {
  maxDeliver: { min: 1, max: 100 },
  backoffEntries: { min: 1, max: 10 },
  backoffMs: { min: 1, max: 3_600_000 },
  concurrency: { min: 1, max: 1000 },
  windowMs: { min: 6000, max: 3_600_000 },
  timeoutMs: { min: 1, max: 3_600_000 },
  maxBodyBytes: { min: 1, max: 1024 ** 3 },
  batchMaxSize: { min: 1, max: 1024 },
  batchMaxDelayMs: { min: 0, max: 1000 },
} as const;

type Fields = Record<string, unknown>;
type CrossCheck = (value: Fields, ok: (key: string) => boolean, add: (key: string, message: string) => void) => void;

/** A cross-field rule that runs even when other fields failed, skipping fields that already have an issue. */
function crossCheck(rule: CrossCheck) {
  return z.superRefine((value: unknown, ctx) => {
    const ok = (key: string) => !ctx.issues.some((issue) => issue.path?.[0] === key);
    const add = (key: string, message: string) =>
      ctx.issues.push({ code: "custom", path: [key], input: (value as Fields)[key], message });
    rule(value as Fields, ok, add);
  }, { when: (payload) => isFields(payload.value) });
}

function isFields(value: unknown): value is Fields {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

/** Error map for mappings; unknown keys are reported per key by the formatter instead. */
function mappingError(what: string) {
  const error = expected(what);
  return (issue: { code?: string; input?: unknown }) => (issue.code === "unrecognized_keys" ? undefined : error(issue));
}

/** Whether NATS subject `pattern` (with `*`/`>`) matches the concrete `subject`. */
export function subjectMatches(pattern: string, subject: string): boolean {
  const want = pattern.split(".");
  const got = subject.split(".");
  for (let i = 0; i < want.length; i++) {
    if (want[i] === ">") return got.length > i;
    if (i >= got.length || (want[i] !== "*" && want[i] !== got[i])) return false;
  }
  return want.length === got.length;
}

const subjectWhat = 'a NATS subject (dot-separated tokens without spaces; "*" and ">" only as whole tokens, ">" only last)';

const triggerSchema = z
  .strictObject({
    subject: patternField(SUBJECT_PATTERN, subjectWhat),
    type: textField().optional(),
    reply: patternField(REPLY_PATTERN, "a NATS subject without wildcards").optional(),
    maxDeliver: intField(LIMITS.maxDeliver.min, LIMITS.maxDeliver.max).default(YAML_DEFAULTS.trigger.maxDeliver),
    backoff: listField(durationField(LIMITS.backoffMs.min, LIMITS.backoffMs.max), "a list of 1 to 10 durations", 1, 10)
      .prefault([...YAML_DEFAULTS.trigger.backoff]),
  }, { error: mappingError("a mapping with at least subject") })
  .check(crossCheck((t, ok, add) => {
    // Publishing a reply that the trigger itself consumes would re-run this function forever.
    if (!ok("subject") || !ok("reply") || typeof t.reply !== "string") return;
    if (subjectMatches(String(t.subject), t.reply)) {
      add("reply", `reply subject ${showValue(t.reply)} matches this trigger's own subject ${showValue(t.subject)}; `
        + "every reply would trigger the function again (an endless loop), so publish replies on another subject");
    }
  }))
  .transform(({ backoff, ...t }) => ({ ...t, backoffMs: backoff }));

const eventsSchema = listField(triggerSchema, "a list of triggers").check(
  z.superRefine((value: unknown, ctx) => {
    const triggers = value as unknown[];
    // Two consumers for one (subject, type) would deliver every event twice.
    // Only a trigger whose subject and type are valid can be compared.
    const failed = (i: number) =>
      ctx.issues.some(({ path }) => path?.[0] === i && (path.length === 1 || path[1] === "subject" || path[1] === "type"));
    const seen = new Map<string, number>();
    triggers.forEach((t, i) => {
      if (failed(i) || !isFields(t)) return;
      const key = JSON.stringify([t.subject, t.type ?? null]);
      const first = seen.get(key);
      if (first === undefined) seen.set(key, i);
      else {
        const message = `duplicate trigger: same subject and type as events[${first}]`;
        ctx.issues.push({ code: "custom", path: [i, "subject"], input: t.subject, message });
      }
    });
  }, { when: (payload) => Array.isArray(payload.value) }),
);

const scaleSchema = z
  .strictObject({
    min: intField(0).default(YAML_DEFAULTS.scale.min),
    max: intField(1).default(YAML_DEFAULTS.scale.max),
    concurrency: intField(LIMITS.concurrency.min, LIMITS.concurrency.max).default(YAML_DEFAULTS.scale.concurrency),
    target: z.number({ error: expected("a number > 0") }).positive({ error: expected("a number > 0") }).optional(),
    window: durationField(LIMITS.windowMs.min, LIMITS.windowMs.max).prefault(YAML_DEFAULTS.scale.window),
    scaleToZeroAfter: durationField(0).prefault(YAML_DEFAULTS.scale.scaleToZeroAfter),
  }, { error: mappingError("a mapping (min, max, concurrency, target, window, scaleToZeroAfter)") })
  .check(crossCheck((s, ok, add) => {
    if (ok("min") && ok("max") && Number(s.min) > Number(s.max)) {
      add("min", `expected an integer <= scale.max (${String(s.max)}), got ${showValue(s.min)}`);
    }
    // Aiming above the hard per-replica limit could never be reached, so it is a mistake.
    if (ok("target") && ok("concurrency") && typeof s.target === "number" && s.target > Number(s.concurrency)) {
      add("target", `expected a number <= scale.concurrency (${String(s.concurrency)}), got ${showValue(s.target)}`);
    }
  }))
  .transform(({ window, scaleToZeroAfter, ...s }) => ({
    ...s,
    target: s.target ?? s.concurrency,
    windowMs: window,
    scaleToZeroAfterMs: scaleToZeroAfter,
  }));

const envNameWhat = 'an environment variable name (letters, digits and "_", not starting with a digit)';
const envSchema = z.record(
  patternField(ENV_NAME_PATTERN, envNameWhat).superRefine((name, ctx) => {
    if (name === "PORT" || name.startsWith("SKIFF_")) {
      const message = `${showValue(name)} is reserved by the platform (PORT and names starting with SKIFF_ are set for every replica)`;
      ctx.addIssue({ code: "custom", input: name, message });
    }
  }),
  z.union([z.string(), z.number(), z.boolean()], { error: expected("a string, number or boolean") }).transform(String),
  { error: expected("a mapping of environment variable names to values") },
);

const resourcesSchema = z
  .strictObject({
    cpu: quantityField('"500m" or "1"').prefault(YAML_DEFAULTS.resources.cpu),
    memory: quantityField('"512Mi" or "1Gi"').prefault(YAML_DEFAULTS.resources.memory),
    gpu: intField(0).default(YAML_DEFAULTS.resources.gpu),
  }, { error: mappingError("a mapping (cpu, memory, gpu)") })
  .transform((r) => ({
    cpu: r.cpu.text,
    cpuMillis: ceilQuantity(r.cpu.amount * 1000),
    memory: r.memory.text,
    memoryBytes: ceilQuantity(r.memory.amount),
    gpu: r.gpu,
  }));

const batchSchema = z
  .strictObject({
    maxSize: intField(LIMITS.batchMaxSize.min, LIMITS.batchMaxSize.max),
    maxDelay: durationField(LIMITS.batchMaxDelayMs.min, LIMITS.batchMaxDelayMs.max).prefault(YAML_DEFAULTS.batch.maxDelay),
  }, { error: mappingError("a mapping (maxSize, maxDelay)") })
  .transform((b) => ({ maxSize: b.maxSize, maxDelayMs: b.maxDelay }));

const topLevelWhat = 'a mapping of function settings (at least "name: <function-name>")';

/** The function.yaml schema: validates the document as written and outputs a FunctionSpec. */
export const functionSpecSchema = z
  .strictObject({
    name: patternField(NAME_PATTERN, 'a DNS-1123 label (lowercase letters, digits and "-"; starts with a letter, ends with a letter or digit; at most 63 characters)'),
    entry: relativePathField(ENTRY_EXTENSIONS).default(YAML_DEFAULTS.entry),
    http: boolField().default(YAML_DEFAULTS.http),
    events: eventsSchema.default([]),
    scale: scaleSchema.prefault({}),
    timeout: durationField(LIMITS.timeoutMs.min, LIMITS.timeoutMs.max).prefault(YAML_DEFAULTS.timeout),
    maxBodySize: sizeField(LIMITS.maxBodyBytes.min, LIMITS.maxBodyBytes.max).prefault(YAML_DEFAULTS.maxBodySize),
    env: envSchema.default({}),
    assets: listField(relativePathField(), "a list of paths relative to the function directory").default([]),
    resources: resourcesSchema.prefault({}),
    batch: batchSchema.optional(),
  }, {
    error: (issue) => {
      if (issue.code === "unrecognized_keys") return undefined;
      return issue.input == null ? `expected ${topLevelWhat}, got an empty document` : expected(topLevelWhat)(issue);
    },
  })
  .transform(({ timeout, maxBodySize, batch, ...rest }): FunctionSpec => ({
    ...rest,
    timeoutMs: timeout,
    maxBodyBytes: maxBodySize,
    ...(batch ? { batch } : {}),
  }));

/** The JSON Schema of function.yaml as written (input side), e.g. for a Kubernetes CRD. */
export function makeFunctionSpecJsonSchema(): Record<string, unknown> {
  return z.toJSONSchema(functionSpecSchema, { io: "input" }) as Record<string, unknown>;
}
