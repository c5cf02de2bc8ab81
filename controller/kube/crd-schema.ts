// The Function CRD's spec schema, derived from spec's zod schema (through its JSON Schema) so
// the apiserver rejects what function.yaml rejects. JSON Schema 2020-12 is not what the
// apiserver takes: a CRD schema must be *structural* (one `type` per node, no type unions,
// no `propertyNames`, boolean exclusive bounds). This file rewrites each construct that
// spec's schema uses and throws on any other, so a new zod feature cannot slip through
// unconverted.
import { UNIT_META, makeFunctionSpecJsonSchema } from "../../spec/index.ts";
import { celString, durationRangeRule, positiveQuantityRule, sizeRangeRule } from "./cel.ts";
import { CRD_BOUNDS, CRD_RULES } from "./crd-rules.ts";
import type { CelRule, OpenApiSchema } from "./openapi.ts";

type Json = Record<string, unknown>;

/** Keywords copied as they are. */
const COPIED = ["type", "default", "enum", "pattern", "minLength", "maxLength", "minimum", "maximum", "minItems", "maxItems", "required"] as const;
/** Keywords handled below (or dropped on purpose: see convertNode). */
const HANDLED = new Set<string>([
  ...COPIED, "properties", "items", "additionalProperties", "propertyNames", "anyOf", "exclusiveMinimum", "exclusiveMaximum",
  UNIT_META.duration, UNIT_META.size, UNIT_META.quantity,
]);

/** The structural schema of a Function's spec: function.yaml as written, `name` optional, plus `image`. */
export function makeFunctionSpecSchema(): OpenApiSchema {
  const json = makeFunctionSpecJsonSchema();
  delete json.$schema;
  const used = new Set<string>();
  const schema = convertNode(json, "", used);
  const unused = [...Object.keys(CRD_RULES), ...Object.keys(CRD_BOUNDS)].filter((path) => !used.has(path));
  if (unused.length > 0) throw new Error(`CRD rules name schema paths that no longer exist: ${unused.join(", ")}`);
  // The object's name is metadata.name; spec.name may repeat it (a function.yaml pasted in).
  schema.required = ["image", ...(schema.required ?? []).filter((key) => key !== "name")];
  schema.properties = {
    image: {
      type: "string",
      minLength: 1,
      maxLength: 1024,
      pattern: "^[^\\s]+$",
      description: "OCI image of the function (skiff build --image), preferably pinned by digest.",
    },
    ...schema.properties,
  };
  return schema;
}

function convertNode(node: Json, path: string, used: Set<string>): OpenApiSchema {
  const unknown = Object.keys(node).filter((key) => !HANDLED.has(key));
  if (unknown.length > 0) throw new Error(`cannot express JSON Schema keyword(s) ${unknown.join(", ")} at "${path || "spec"}" in a CRD schema`);
  const out: OpenApiSchema = node.anyOf ? convertIntOrString(node, path) : {};
  for (const key of COPIED) if (node[key] !== undefined && !(key === "type" && node.anyOf)) (out as Json)[key] = node[key];
  if (Array.isArray(node.type)) out.type = scalarUnionType(node.type, path);
  convertExclusiveBounds(node, out);
  if (node.properties) {
    out.properties = {};
    for (const [key, child] of Object.entries(node.properties as Record<string, Json>)) {
      out.properties[key] = convertNode(child, join(path, key), used);
    }
  }
  if (node.items) out.items = convertNode(node.items as Json, `${path}[]`, used);
  // `additionalProperties: false` is how JSON Schema forbids unknown keys. A structural schema
  // prunes them instead (and the apiserver rejects them under fieldValidation=Strict, kubectl's
  // default), so it is dropped; a schema-valued one is a map's value type.
  if (node.additionalProperties !== undefined && typeof node.additionalProperties === "object") {
    out.additionalProperties = convertNode(node.additionalProperties as Json, `${path}{}`, used);
  }
  Object.assign(out, take(CRD_BOUNDS, path, used, {}));
  const rules = [...keyRules(node), ...unitRules(node, out), ...take(CRD_RULES, path, used, [])];
  if (rules.length > 0) out["x-kubernetes-validations"] = rules;
  return out;
}

function join(path: string, key: string): string {
  return path === "" ? key : `${path}.${key}`;
}

function take<T>(table: Record<string, T>, path: string, used: Set<string>, empty: T): T {
  if (!(path in table)) return empty;
  used.add(path);
  return table[path]!;
}

/**
 * `anyOf: [number, string]` (sizes, quantities) becomes x-kubernetes-int-or-string, the one
 * type union a structural schema allows. Its branches may only name their types, so each
 * branch's bounds move up: numeric keywords only apply to numbers and `pattern` only to
 * strings, exactly as in the union. A fractional number (cpu: 0.5) is then refused: write "0.5".
 */
function convertIntOrString(node: Json, path: string): OpenApiSchema {
  const branches = node.anyOf as Json[];
  const numeric = branches.find((b) => b.type === "integer" || b.type === "number");
  const text = branches.find((b) => b.type === "string");
  if (branches.length !== 2 || !numeric || !text) throw new Error(`cannot express anyOf at "${path}" in a CRD schema (only number | string)`);
  const out: OpenApiSchema = { "x-kubernetes-int-or-string": true, anyOf: [{ type: "integer" }, { type: "string" }] };
  for (const [key, value] of Object.entries(text)) {
    if (key === "pattern" || key === "minLength" || key === "maxLength") (out as Json)[key] = value;
    else if (key !== "type") throw new Error(`cannot move "${key}" of the string branch at "${path}"`);
  }
  for (const [key, value] of Object.entries(numeric)) {
    if (key === "minimum" || key === "maximum") (out as Json)[key] = value;
    else if (key !== "type" && key !== "exclusiveMinimum" && key !== "exclusiveMaximum") {
      throw new Error(`cannot move "${key}" of the number branch at "${path}"`);
    }
  }
  convertExclusiveBounds(numeric, out);
  return out;
}

/** JSON Schema 2020-12's numeric exclusive bounds are OpenAPI v3.0's booleans beside minimum/maximum. */
function convertExclusiveBounds(node: Json, out: OpenApiSchema): void {
  if (typeof node.exclusiveMinimum === "number") Object.assign(out, { minimum: node.exclusiveMinimum, exclusiveMinimum: true });
  if (typeof node.exclusiveMaximum === "number") Object.assign(out, { maximum: node.exclusiveMaximum, exclusiveMaximum: true });
}

/**
 * env values may be strings, numbers or booleans in function.yaml (spec turns them into
 * strings); a structural schema has no such union, and Kubernetes env values are strings, so
 * the CRD takes strings only (a client writes LOG_LEVEL: "3", not 3).
 */
function scalarUnionType(types: unknown[], path: string): OpenApiSchema["type"] {
  if (types.includes("string") && types.every((t) => t === "string" || t === "number" || t === "boolean")) return "string";
  throw new Error(`cannot express type union ${JSON.stringify(types)} at "${path}" in a CRD schema`);
}

/** `propertyNames` (env keys) has no OpenAPI v3 equivalent: a CEL rule over the map's keys. */
function keyRules(node: Json): CelRule[] {
  if (node.propertyNames === undefined) return [];
  const names = node.propertyNames as Json;
  if (Object.keys(names).some((key) => key !== "type" && key !== "pattern")) throw new Error("cannot express propertyNames beyond a pattern");
  if (typeof names.pattern !== "string") return [];
  return [{ rule: `self.all(k, k.matches(${celString(names.pattern)}))`, message: `keys must match ${names.pattern}` }];
}

/** Ranges that spec checks after parsing a unit (x-skiff-* metadata), as CEL. */
function unitRules(node: Json, out: OpenApiSchema): CelRule[] {
  const rules: CelRule[] = [];
  const pattern = out.pattern ?? "";
  const duration = node[UNIT_META.duration] as { minMs: number; maxMs?: number } | undefined;
  const size = node[UNIT_META.size] as { minBytes: number; maxBytes: number } | undefined;
  const quantity = node[UNIT_META.quantity] as { positive?: boolean } | undefined;
  if (duration) {
    const rule = durationRangeRule(pattern, duration);
    if (rule) rules.push(rule);
  }
  if (size) rules.push(sizeRangeRule(pattern, size));
  if (quantity?.positive) rules.push(positiveQuantityRule(pattern));
  return rules;
}
