// Shared builders for the kube unit tests: a Function object as the apiserver returns it,
// and its parsed form.
import { validateFunctionSpec } from "../../../spec/index.ts";
import type { FunctionObject, FunctionRef } from "../function-object.ts";
import { makeKubeRevision, type KubeRevision } from "../revision.ts";

/** An image reference pinned by digest. */
export const IMAGE = "registry.example/hello@sha256:" + "ab".repeat(32);

/** A Function object with apiserver-set metadata. */
export function makeTestFunction(spec: Record<string, unknown> = {}, name = "hello"): FunctionObject {
  return {
    apiVersion: "skiff.dev/v1alpha1",
    kind: "Function",
    metadata: { name, namespace: "apps", uid: "0b5c6a5e-1f5e-4c55-9d39-3d1b0f3b3a11", generation: 3 },
    spec: { image: IMAGE, ...spec },
  };
}

/** The ref of makeTestFunction's object. */
export const REF: FunctionRef = { name: "hello", namespace: "apps", uid: "0b5c6a5e-1f5e-4c55-9d39-3d1b0f3b3a11", generation: 3 };

/** A revision of `hello` with the given function.yaml fields. */
export function makeTestRevision(fields: Record<string, unknown> = {}, image = IMAGE): KubeRevision {
  return makeKubeRevision(image, validateFunctionSpec({ name: "hello", ...fields }));
}
