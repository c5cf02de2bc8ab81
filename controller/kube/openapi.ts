// The shapes of a CRD's OpenAPI v3 schema as the apiserver reads it (wire names such as
// "x-kubernetes-validations" and "default"). client-node's V1JSONSchemaProps renames those
// keys (x_kubernetes_validations, _default) and types `items` as any, so the CRD is built in
// wire form and only turned into client-node models at the edge (see crd.ts).

/** A CEL validation rule (x-kubernetes-validations entry). */
export interface CelRule {
  /** CEL expression over `self` (and `oldSelf`) that must be true. */
  rule: string;
  message?: string;
  /** Path relative to the node the rule sits on, for the error (e.g. ".min"). */
  fieldPath?: string;
}

/** A node of a structural OpenAPI v3 schema. */
export interface OpenApiSchema {
  type?: "object" | "array" | "string" | "integer" | "number" | "boolean";
  description?: string;
  format?: string;
  properties?: Record<string, OpenApiSchema>;
  additionalProperties?: OpenApiSchema;
  items?: OpenApiSchema;
  required?: string[];
  default?: unknown;
  enum?: unknown[];
  pattern?: string;
  minLength?: number;
  maxLength?: number;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: boolean;
  exclusiveMaximum?: boolean;
  minItems?: number;
  maxItems?: number;
  maxProperties?: number;
  anyOf?: OpenApiSchema[];
  "x-kubernetes-int-or-string"?: true;
  "x-kubernetes-validations"?: CelRule[];
  "x-kubernetes-list-type"?: "atomic" | "set" | "map";
  "x-kubernetes-list-map-keys"?: string[];
  "x-kubernetes-map-type"?: "atomic" | "granular";
}
