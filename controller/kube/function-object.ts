// The Function custom resource as the controller reads it (wire form, as CustomObjectsApi
// and watches return it) and its parsing into a FunctionSpec: the CRD schema rejects most bad
// specs at the door, and spec/'s own validation here is the final word (and covers the CRD's
// known gaps, reported on status as InvalidSpec).
import type { KubernetesObject } from "@kubernetes/client-node";
import { SpecError, validateFunctionSpec, type FunctionSpec } from "../../spec/index.ts";

/** The spec of a Function: function.yaml's fields as written, plus the image. */
export interface FunctionResourceSpec {
  image: string;
  /** Optional; when given it equals metadata.name. */
  name?: string;
  [field: string]: unknown;
}

/** A status condition as it travels in JSON (times as RFC 3339 strings). */
export interface FunctionCondition {
  type: string;
  status: "True" | "False" | "Unknown";
  reason?: string;
  message?: string;
  lastTransitionTime?: string;
  observedGeneration?: number;
}

/** What the controller reports on a Function. */
export interface FunctionStatus {
  observedGeneration?: number;
  conditions?: FunctionCondition[];
  url?: string;
  replicas?: number;
  readyReplicas?: number;
  latestRevision?: string;
  latestReadyRevision?: string;
}

/** A Function object. */
export interface FunctionObject extends KubernetesObject {
  spec: FunctionResourceSpec;
  status?: FunctionStatus;
}

/** The identity of a Function that objects made for it refer to. */
export interface FunctionRef {
  name: string;
  namespace: string;
  uid: string;
  generation: number;
}

/** A Function whose spec validated. */
export interface ParsedFunction {
  ref: FunctionRef;
  image: string;
  spec: FunctionSpec;
}

/** The identity of a Function object; throws when the apiserver-set fields are missing. */
export function functionRef(fn: FunctionObject): FunctionRef {
  const { name, namespace, uid, generation } = fn.metadata ?? {};
  if (!name || !namespace || !uid) throw new Error("a Function object needs metadata.name, namespace and uid (read it from the apiserver)");
  return { name, namespace, uid, generation: generation ?? 0 };
}

/** Validates a Function's spec with spec/'s schema; throws SpecError (file label: namespace/name). */
export function parseFunctionObject(fn: FunctionObject): ParsedFunction {
  const ref = functionRef(fn);
  const { image, name, ...fields } = fn.spec ?? ({} as FunctionResourceSpec);
  const file = `function ${ref.namespace}/${ref.name}`;
  if (name !== undefined && name !== ref.name) {
    throw new SpecError([{ path: "name", message: `must equal metadata.name "${ref.name}", got ${JSON.stringify(name)}` }], { file });
  }
  if (typeof image !== "string" || image.trim() === "") {
    throw new SpecError([{ path: "image", message: "required: the OCI image to run (skiff build --image)" }], { file });
  }
  return { ref, image, spec: validateFunctionSpec({ ...fields, name: ref.name }, { file }) };
}
