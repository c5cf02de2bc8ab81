// The Function CustomResourceDefinition, built purely: spec from spec's zod schema
// (crd-schema.ts), status as the controller writes it (status.ts). gen-crd.ts writes it to
// manifests/crd/; crd.test.ts fails when the committed file and this drift apart.
import { loadYaml, type V1CustomResourceDefinition } from "@kubernetes/client-node";
import { stringify } from "yaml";
import { makeFunctionSpecSchema } from "./crd-schema.ts";
import { ROOT_RULES } from "./crd-rules.ts";
import { FUNCTION_API, FUNCTION_CRD_NAME, PART_OF_LABEL } from "./names.ts";
import type { OpenApiSchema } from "./openapi.ts";

/** A CRD in wire form (what kubectl and the apiserver read). */
export interface CrdDocument {
  apiVersion: "apiextensions.k8s.io/v1";
  kind: "CustomResourceDefinition";
  metadata: { name: string; labels: Record<string, string> };
  spec: {
    group: string;
    names: { kind: string; listKind: string; plural: string; singular: string; shortNames: string[]; categories: string[] };
    scope: "Namespaced";
    versions: Array<{
      name: string;
      served: boolean;
      storage: boolean;
      subresources: { status: Record<string, never> };
      additionalPrinterColumns: Array<{ name: string; type: string; jsonPath: string; description?: string; priority?: number }>;
      schema: { openAPIV3Schema: OpenApiSchema };
    }>;
  };
}

const CONDITION_SCHEMA: OpenApiSchema = {
  type: "object",
  required: ["type", "status"],
  properties: {
    type: { type: "string", maxLength: 316 },
    status: { type: "string", enum: ["True", "False", "Unknown"] },
    reason: { type: "string", maxLength: 1024 },
    message: { type: "string", maxLength: 32768 },
    lastTransitionTime: { type: "string", format: "date-time" },
    observedGeneration: { type: "integer", minimum: 0 },
  },
};

/** What the controller reports (see FunctionStatus in function-object.ts). */
const STATUS_SCHEMA: OpenApiSchema = {
  type: "object",
  properties: {
    observedGeneration: { type: "integer", description: "metadata.generation this status describes." },
    conditions: {
      type: "array",
      description: "Ready and ConfigurationReady, with reason and message.",
      items: CONDITION_SCHEMA,
      "x-kubernetes-list-type": "map",
      "x-kubernetes-list-map-keys": ["type"],
    },
    url: { type: "string", description: "Where the gateway serves the function (http functions only)." },
    replicas: { type: "integer", minimum: 0, description: "Replicas the autoscaler wants for the latest revision." },
    readyReplicas: { type: "integer", minimum: 0, description: "Replicas of the latest revision ready for requests." },
    latestRevision: { type: "string", description: "Revision made from the current spec: <name>-<12 hex of sha256(image, spec)>." },
    latestReadyRevision: { type: "string", description: "Newest revision that has had a ready replica; the gateway routes to it." },
  },
};

/** The functions.skiff.dev CRD. */
export function makeFunctionCrd(): CrdDocument {
  return {
    apiVersion: "apiextensions.k8s.io/v1",
    kind: "CustomResourceDefinition",
    metadata: { name: FUNCTION_CRD_NAME, labels: { [PART_OF_LABEL]: "skiff" } },
    spec: {
      group: FUNCTION_API.group,
      // "fn" alone is taken by other serverless CRDs (kubectl would pick one of them at random).
      names: { kind: FUNCTION_API.kind, listKind: `${FUNCTION_API.kind}List`, plural: FUNCTION_API.plural, singular: "function", shortNames: ["skf"], categories: ["skiff"] },
      scope: "Namespaced",
      versions: [{
        name: FUNCTION_API.version,
        served: true,
        storage: true,
        subresources: { status: {} },
        additionalPrinterColumns: [
          { name: "Ready", type: "string", jsonPath: '.status.conditions[?(@.type=="Ready")].status' },
          { name: "Replicas", type: "integer", jsonPath: ".status.replicas", description: "Replicas wanted by the autoscaler" },
          { name: "URL", type: "string", jsonPath: ".status.url" },
          { name: "Age", type: "date", jsonPath: ".metadata.creationTimestamp" },
          { name: "Ready Replicas", type: "integer", jsonPath: ".status.readyReplicas", priority: 1 },
          { name: "Revision", type: "string", jsonPath: ".status.latestRevision", priority: 1 },
          { name: "Reason", type: "string", jsonPath: '.status.conditions[?(@.type=="Ready")].reason', priority: 1 },
        ],
        schema: {
          openAPIV3Schema: {
            type: "object",
            description: "A Skiff function: function.yaml's fields plus the image to run.",
            required: ["spec"],
            properties: {
              apiVersion: { type: "string" },
              kind: { type: "string" },
              metadata: { type: "object" },
              spec: makeFunctionSpecSchema(),
              status: STATUS_SCHEMA,
            },
            "x-kubernetes-validations": ROOT_RULES,
          },
        },
      }],
    },
  };
}

/** The CRD as YAML, the committed manifests/crd/ file's exact text. */
export function makeFunctionCrdYaml(): string {
  const header = "# Generated by controller/kube/gen-crd.ts from spec/'s zod schema: do not edit.\n";
  return header + stringify(makeFunctionCrd(), { lineWidth: 0, aliasDuplicateObjects: false });
}

/**
 * The CRD as a client-node model, for ApiextensionsV1Api. Passing the wire form there would
 * lose every "x-kubernetes-*" key and "default" (the serializer reads x_kubernetes_* and
 * _default), so it goes through client-node's deserializer (loadYaml) first.
 */
export function makeFunctionCrdModel(): V1CustomResourceDefinition {
  return loadYaml<V1CustomResourceDefinition>(makeFunctionCrdYaml());
}
