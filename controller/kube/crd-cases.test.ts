import { describe, expect, it } from "vitest";
import { SpecError, validateFunctionSpec } from "../../spec/index.ts";
import { CRD_CASES, makeCaseObject } from "./crd-cases.ts";
import { parseFunctionObject } from "./function-object.ts";

function specAccepts(spec: Record<string, unknown>): boolean {
  try {
    validateFunctionSpec({ name: "case", ...spec });
    return true;
  } catch (error) {
    if (error instanceof SpecError) return false;
    throw error;
  }
}

describe("CRD cases", () => {
  it("have unique names", () => {
    const names = CRD_CASES.map((c) => c.name);
    expect(new Set(names).size).toBe(names.length);
  });

  it.each(CRD_CASES.map((c) => [c.name, c] as const))("spec/ gives the table's verdict: %s", (_name, c) => {
    expect(specAccepts(c.spec)).toBe(c.valid);
  });

  it.each(CRD_CASES.map((c) => [c.name, c] as const))("the controller's parse agrees: %s", (_name, c) => {
    const object = makeCaseObject(c);
    object.metadata = { ...object.metadata, uid: "u", generation: 1 };
    const parse = () => parseFunctionObject(object);
    if (c.valid) expect(parse).not.toThrow();
    else expect(parse).toThrow(SpecError);
  });

  it("list the CRD's known gaps with a reason", () => {
    const gaps = CRD_CASES.filter((c) => c.crd !== undefined);
    expect(gaps.map((c) => c.name)).toEqual(["cpu fraction as a number", "env value number", "33 triggers"]);
    for (const gap of gaps) expect(gap.crd!.valid).not.toBe(gap.valid);
  });
});
