// Whether an object in the cluster still matches what the controller would make, looking only
// at fields the controller sets. The apiserver adds defaults (imagePullPolicy, probe
// thresholds, strategy, ...), other controllers add labels and annotations, the autoscaler
// sets replicas, and quantities come back canonical ("0.5" -> "500m"): none of that is a
// difference, or a restarted controller would rewrite every Deployment it owns.
import type { V1Deployment, V1Service } from "@kubernetes/client-node";
import { tryParseQuantity } from "../../spec/index.ts";

/** Paths (with "[]" for any list index) whose maps the controller owns whole: a key it dropped is a difference. */
const OWNED_MAPS = new Set([
  "spec.template.spec.containers[].resources.requests",
  "spec.template.spec.containers[].resources.limits",
  // A Service selector with a key more would select fewer pods (a Deployment's is immutable).
  "spec.selector",
  "spec.selector.matchLabels",
]);

/** Paths whose values are Kubernetes quantities, compared by amount. */
const QUANTITY_MAPS = new Set(["spec.template.spec.containers[].resources.requests", "spec.template.spec.containers[].resources.limits"]);

/** Fields of `desired` that `current` does not match, as dotted paths (empty: nothing to update). */
export function diffOwnedFields(current: unknown, desired: unknown): string[] {
  const out: string[] = [];
  walk(current, desired, "", "", out);
  return out;
}

/** Whether a Deployment needs an update to match the desired one (replicas are the autoscaler's, never compared). */
export function deploymentNeedsUpdate(current: V1Deployment, desired: V1Deployment): boolean {
  const { replicas: _ignored, ...desiredSpec } = desired.spec ?? ({} as NonNullable<V1Deployment["spec"]>);
  return diffOwnedFields(current, withoutTypeMeta({ ...desired, spec: desiredSpec })).length > 0;
}

/** Whether a Service needs an update to match the desired one. */
export function serviceNeedsUpdate(current: V1Service, desired: V1Service): boolean {
  return diffOwnedFields(current, withoutTypeMeta(desired)).length > 0;
}

/** apiVersion and kind are not compared: items of a typed list (an informer's first list) come without them. */
function withoutTypeMeta<T extends { apiVersion?: string; kind?: string }>(object: T): Omit<T, "apiVersion" | "kind"> {
  const { apiVersion: _apiVersion, kind: _kind, ...rest } = object;
  return rest;
}

function walk(current: unknown, desired: unknown, path: string, shape: string, out: string[]): void {
  if (Array.isArray(desired)) {
    // Lists the controller sets (containers, env, ports, volumes) are its own, entry for entry.
    if (!Array.isArray(current) || current.length !== desired.length) return void out.push(path);
    desired.forEach((item, i) => walk(current[i], item, `${path}[${i}]`, `${shape}[]`, out));
    return;
  }
  if (isObject(desired)) {
    if (!isObject(current)) return void out.push(path);
    if (OWNED_MAPS.has(shape) && Object.keys(current).some((key) => !(key in desired))) out.push(path);
    for (const [key, value] of Object.entries(desired)) {
      if (value === undefined) continue;
      const childPath = path === "" ? key : `${path}.${key}`;
      if (QUANTITY_MAPS.has(shape)) {
        if (!sameQuantity(current[key], value)) out.push(childPath);
      } else {
        walk(current[key], value, childPath, shape === "" ? key : `${shape}.${key}`, out);
      }
    }
    return;
  }
  if (current !== desired) out.push(path);
}

function sameQuantity(current: unknown, desired: unknown): boolean {
  if (current === desired) return true;
  const a = tryParseQuantity(String(current));
  const b = tryParseQuantity(String(desired));
  // Float noise: 0.1 cores parses as 0.1 and "100m" as 0.1000000000000000055...
  return a !== undefined && b !== undefined && Math.abs(a - b) <= Math.abs(b) * 1e-9;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}
