// One table of function specs with the verdict function.yaml validation gives each, and the
// few places where the CRD's verdict differs on purpose. crd-cases.test.ts holds spec/ to
// it; a suite against a real apiserver can hold the CRD to it (makeCaseObject), so the two
// validations cannot drift apart unnoticed.
import type { FunctionObject } from "./function-object.ts";
import { FUNCTION_API, FUNCTION_API_VERSION } from "./names.ts";

/** A function spec as written (without `name`, which comes from metadata) and its verdicts. */
export interface CrdCase {
  name: string;
  spec: Record<string, unknown>;
  /** Whether spec/ (validateFunctionSpec) accepts it. */
  valid: boolean;
  /** Set where the CRD decides otherwise: a known gap, with the reason. */
  crd?: { valid: boolean; why: string };
}

const PLAIN_NUMBERS = "a structural schema has no number|string union: the CRD takes strings (or whole numbers)";
const BOUNDED = "the CRD bounds lists and strings its CEL rules read (CRD_BOUNDS), function.yaml does not";

const trigger = (subject: string, more: Record<string, unknown> = {}) => ({ subject, ...more });

/** The cases; names are unique. */
export const CRD_CASES: readonly CrdCase[] = [
  { name: "minimal", spec: {}, valid: true },
  {
    name: "every field",
    spec: {
      entry: "src/main.mts", http: false,
      events: [trigger("ocr.preprocessed", { type: "skiff.ocr.preprocessed", reply: "ocr.detected", maxDeliver: 5, backoff: ["1s", "10s", "60s"] })],
      scale: { min: 0, max: 10, concurrency: 4, target: 3, window: "60s", scaleToZeroAfter: "30s" },
      timeout: "30s", maxBodySize: "10mb", env: { LOG_LEVEL: "info" }, assets: ["models/"],
      resources: { cpu: "1", memory: "1Gi", gpu: 1 }, batch: { maxSize: 16, maxDelay: "5ms" },
    },
    valid: true,
  },
  { name: "unknown top-level key", spec: { timout: "5s" }, valid: false },
  { name: "unknown trigger key", spec: { events: [trigger("a", { replyTo: "b" })] }, valid: false },
  { name: "http not a boolean", spec: { http: "yes" }, valid: false },

  { name: "timeout combined units", spec: { timeout: "1m30s" }, valid: true },
  { name: "timeout at its maximum", spec: { timeout: "1h" }, valid: true },
  { name: "timeout above its maximum", spec: { timeout: "3600001ms" }, valid: false },
  { name: "timeout zero", spec: { timeout: "0s" }, valid: false },
  { name: "timeout without unit", spec: { timeout: 30 }, valid: false },
  { name: "timeout malformed", spec: { timeout: "30 s" }, valid: false },
  { name: "window below 6s", spec: { scale: { window: "5s" } }, valid: false },
  { name: "window at 6s", spec: { scale: { window: "6s" } }, valid: true },
  { name: "scaleToZeroAfter zero", spec: { scale: { scaleToZeroAfter: "0s" } }, valid: true },
  { name: "batch maxDelay zero", spec: { batch: { maxSize: 1, maxDelay: "0ms" } }, valid: true },
  { name: "batch maxDelay above 1s", spec: { batch: { maxSize: 1, maxDelay: "2s" } }, valid: false },
  { name: "batch without maxSize", spec: { batch: { maxDelay: "5ms" } }, valid: false },
  { name: "batch maxSize zero", spec: { batch: { maxSize: 0 } }, valid: false },

  { name: "size in mb", spec: { maxBodySize: "10MiB" }, valid: true },
  { name: "size at 1gb", spec: { maxBodySize: "1gb" }, valid: true },
  { name: "size above 1gb", spec: { maxBodySize: "1025mb" }, valid: false },
  { name: "size fraction above 1gb", spec: { maxBodySize: "1.5gb" }, valid: false },
  { name: "size in whole bytes", spec: { maxBodySize: 1 }, valid: true },
  { name: "size zero bytes", spec: { maxBodySize: 0 }, valid: false },
  { name: "size half a byte rounds up", spec: { maxBodySize: "0.5b" }, valid: true },
  { name: "size under half a byte", spec: { maxBodySize: "0.4b" }, valid: false },
  { name: "size unit unknown", spec: { maxBodySize: "10tb" }, valid: false },

  { name: "cpu millicores", spec: { resources: { cpu: "500m" } }, valid: true },
  { name: "cpu whole number", spec: { resources: { cpu: 2 } }, valid: true },
  { name: "cpu fraction as a number", spec: { resources: { cpu: 0.5 } }, valid: true, crd: { valid: false, why: PLAIN_NUMBERS } },
  { name: "cpu zero", spec: { resources: { cpu: "0" } }, valid: false },
  { name: "cpu zero millicores", spec: { resources: { cpu: "0m" } }, valid: false },
  { name: "cpu zero as a number", spec: { resources: { cpu: 0 } }, valid: false },
  { name: "memory exponent", spec: { resources: { memory: "1e9" } }, valid: true },
  { name: "memory zero with suffix", spec: { resources: { memory: "0.0Gi" } }, valid: false },
  { name: "memory malformed", spec: { resources: { memory: "1 Gi" } }, valid: false },
  { name: "gpu negative", spec: { resources: { gpu: -1 } }, valid: false },

  { name: "env value number", spec: { env: { LEVEL: 3 } }, valid: true, crd: { valid: false, why: PLAIN_NUMBERS } },
  { name: "env reserved PORT", spec: { env: { PORT: "1" } }, valid: false },
  { name: "env reserved SKIFF_ prefix", spec: { env: { SKIFF_X: "1" } }, valid: false },
  { name: "env bad name", spec: { env: { "1BAD": "x" } }, valid: false },

  { name: "scale min above max", spec: { scale: { min: 3, max: 2 } }, valid: false },
  { name: "scale min above default max", spec: { scale: { min: 20 } }, valid: false },
  { name: "scale target above concurrency", spec: { scale: { concurrency: 4, target: 5 } }, valid: false },
  { name: "scale target above default concurrency", spec: { scale: { target: 11 } }, valid: false },
  { name: "scale target fraction", spec: { scale: { target: 2.5 } }, valid: true },
  { name: "scale target zero", spec: { scale: { target: 0 } }, valid: false },
  { name: "scale concurrency too high", spec: { scale: { concurrency: 1001 } }, valid: false },

  { name: "reply equal to subject", spec: { events: [trigger("a.b", { reply: "a.b" })] }, valid: false },
  { name: "reply caught by *", spec: { events: [trigger("a.*", { reply: "a.b" })] }, valid: false },
  { name: "reply caught by >", spec: { events: [trigger("a.>", { reply: "a.b.c" })] }, valid: false },
  { name: "reply caught by lone >", spec: { events: [trigger(">", { reply: "x" })] }, valid: false },
  { name: "reply shorter than >", spec: { events: [trigger("a.>", { reply: "a" })] }, valid: true },
  { name: "reply elsewhere", spec: { events: [trigger("a.b", { reply: "a.c" })] }, valid: true },
  { name: "reply longer than *", spec: { events: [trigger("a.*", { reply: "a.b.c" })] }, valid: true },
  { name: "reply with regex characters caught", spec: { events: [trigger("a+b.*", { reply: "a+b.c" })] }, valid: false },
  { name: "reply with regex characters free", spec: { events: [trigger("a+b.*", { reply: "aab.c" })] }, valid: true },
  { name: "reply with wildcard", spec: { events: [trigger("a", { reply: "b.*" })] }, valid: false },
  { name: "subject empty token", spec: { events: [trigger("a..b")] }, valid: false },
  { name: "subject partial wildcard", spec: { events: [trigger("a.*b")] }, valid: false },
  { name: "subject > not last", spec: { events: [trigger("a.>.b")] }, valid: false },
  { name: "duplicate triggers", spec: { events: [trigger("a"), trigger("a")] }, valid: false },
  { name: "duplicate triggers with type", spec: { events: [trigger("a", { type: "t" }), trigger("a", { type: "t" })] }, valid: false },
  { name: "same subject other type", spec: { events: [trigger("a", { type: "t" }), trigger("a")] }, valid: true },
  { name: "backoff empty", spec: { events: [trigger("a", { backoff: [] })] }, valid: false },
  { name: "backoff zero", spec: { events: [trigger("a", { backoff: ["0ms"] })] }, valid: false },
  { name: "backoff eleven entries", spec: { events: [trigger("a", { backoff: Array(11).fill("1s") })] }, valid: false },
  { name: "maxDeliver zero", spec: { events: [trigger("a", { maxDeliver: 0 })] }, valid: false },
  { name: "maxDeliver 101", spec: { events: [trigger("a", { maxDeliver: 101 })] }, valid: false },
  {
    name: "33 triggers",
    spec: { events: Array.from({ length: 33 }, (_, i) => trigger(`s${i}`)) },
    valid: true,
    crd: { valid: false, why: BOUNDED },
  },

  { name: "entry in a folder", spec: { entry: "src/main.mjs" }, valid: true },
  { name: "entry escaping", spec: { entry: "../x.ts" }, valid: false },
  { name: "entry absolute", spec: { entry: "/abs.ts" }, valid: false },
  { name: "entry drive letter", spec: { entry: "C:x.ts" }, valid: false },
  { name: "entry wrong extension", spec: { entry: "main.py" }, valid: false },
  { name: "asset folder", spec: { assets: ["models/"] }, valid: true },
  { name: "asset escaping", spec: { assets: ["models/../../secret"] }, valid: false },
  { name: "asset escaping with backslashes", spec: { assets: ["a\\..\\b"] }, valid: false },
  { name: "asset dotted name", spec: { assets: ["a..b/c"] }, valid: true },
];

/** The Function object a case becomes (the name every case shares, image added). */
export function makeCaseObject(c: CrdCase, namespace = "default"): FunctionObject {
  return {
    apiVersion: FUNCTION_API_VERSION,
    kind: FUNCTION_API.kind,
    metadata: { name: "case", namespace },
    spec: { image: "registry.example/fn@sha256:0123", ...c.spec },
  };
}
