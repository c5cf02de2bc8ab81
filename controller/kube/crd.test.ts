import { readFile } from "node:fs/promises";
import { describe, expect, it } from "vitest";
import { celString } from "./cel.ts";
import { makeFunctionCrd, makeFunctionCrdModel, makeFunctionCrdYaml } from "./crd.ts";
import { CRD_FILE } from "./gen-crd.ts";
import type { OpenApiSchema } from "./openapi.ts";

function specSchema(): OpenApiSchema {
  return makeFunctionCrd().spec.versions[0]!.schema.openAPIV3Schema.properties!.spec!;
}

/** Every node with its path, depth first. */
function* nodes(schema: OpenApiSchema, path = "spec"): Generator<[string, OpenApiSchema]> {
  yield [path, schema];
  for (const [key, child] of Object.entries(schema.properties ?? {})) yield* nodes(child, `${path}.${key}`);
  if (schema.items) yield* nodes(schema.items, `${path}[]`);
  if (schema.additionalProperties) yield* nodes(schema.additionalProperties, `${path}{}`);
}

describe("the Function CRD", () => {
  it("is committed exactly as generated (run controller/kube/gen-crd.ts after changing spec/)", async () => {
    expect(await readFile(CRD_FILE, "utf8")).toBe(makeFunctionCrdYaml());
  });

  it("names functions.skiff.dev with a status subresource", () => {
    const crd = makeFunctionCrd();
    expect(crd.metadata.name).toBe("functions.skiff.dev");
    expect(crd.spec.names).toMatchObject({ kind: "Function", plural: "functions", shortNames: ["skf"] });
    expect(crd.spec.versions.map((v) => [v.name, v.served, v.storage, v.subresources])).toEqual([["v1alpha1", true, true, { status: {} }]]);
    expect(crd.spec.versions[0]!.additionalPrinterColumns.filter((c) => !c.priority).map((c) => c.name)).toEqual(["Ready", "Replicas", "URL", "Age"]);
  });

  it("is structural: one type per node, no JSON Schema-only keywords", () => {
    for (const [path, node] of nodes(specSchema())) {
      const raw = node as Record<string, unknown>;
      expect(node.type !== undefined || node["x-kubernetes-int-or-string"] === true, `${path} has a type`).toBe(true);
      for (const keyword of ["$schema", "propertyNames", "additionalItems", "const", "oneOf"]) expect(raw[keyword], `${path}.${keyword}`).toBeUndefined();
      expect(typeof node.additionalProperties === "boolean", `${path}: additionalProperties must be a schema`).toBe(false);
      if (node.anyOf) expect(node.anyOf).toEqual([{ type: "integer" }, { type: "string" }]);
      if (node.exclusiveMinimum !== undefined) expect(typeof node.exclusiveMinimum).toBe("boolean");
    }
  });

  it("requires image, takes name as optional, and keeps function.yaml's defaults", () => {
    const spec = specSchema();
    expect(spec.required).toEqual(["image"]);
    expect(spec.properties!.name!.pattern).toBe("^[a-z]([a-z0-9-]{0,61}[a-z0-9])?$");
    expect(spec.properties!.timeout).toMatchObject({ type: "string", default: "30s" });
    expect(spec.properties!.scale!.properties!.concurrency).toMatchObject({ default: 10, minimum: 1, maximum: 1000 });
  });

  it("restates the ranges spec checks after parsing as CEL rules", () => {
    const props = specSchema().properties!;
    expect(props.timeout!["x-kubernetes-validations"]![0]!.rule).toContain("duration(self) <= duration('1h')");
    expect(props.scale!.properties!.window!["x-kubernetes-validations"]![0]!.rule).toContain("duration(self) >= duration('6s')");
    expect(props.maxBodySize!["x-kubernetes-validations"]![0]!.rule).toContain("self <= 1073741824");
    expect(props.resources!.properties!.cpu!["x-kubernetes-validations"]![0]!.message).toBe("must be a quantity greater than zero");
    // scaleToZeroAfter has no upper bound and a minimum of 0s: nothing to check.
    expect(props.scale!.properties!.scaleToZeroAfter!["x-kubernetes-validations"]).toBeUndefined();
  });

  it("survives client-node's model round trip with its x-kubernetes keys and defaults", () => {
    const model = makeFunctionCrdModel();
    const spec = model.spec.versions[0]!.schema!.openAPIV3Schema!.properties!.spec!;
    expect(spec.properties!.timeout!._default).toBe("30s");
    expect(spec.properties!.maxBodySize!.x_kubernetes_int_or_string).toBe(true);
    expect(spec.properties!.events!.items.properties.backoff.items["x-kubernetes-validations"]).toHaveLength(1);
  });
});

describe("celString", () => {
  it.each([
    ["plain", "r'plain'"],
    ["a\\.b", "r'a\\.b'"],
    ["it's", "'it\\'s'"],
    ["\\'", "'\\\\\\''"],
  ])("quotes %s as %s", (text, literal) => {
    expect(celString(text)).toBe(literal);
  });
});
