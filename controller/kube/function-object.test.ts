import { describe, expect, it } from "vitest";
import { DEFAULTS, SpecError } from "../../spec/index.ts";
import { functionRef, parseFunctionObject } from "./function-object.ts";
import { IMAGE, REF, makeTestFunction } from "./testdata/fixtures.ts";

describe("parseFunctionObject", () => {
  it("takes the name from metadata and normalizes the rest as function.yaml", () => {
    const parsed = parseFunctionObject(makeTestFunction({ timeout: "5s", env: { A: "1" } }));
    expect(parsed.ref).toEqual(REF);
    expect(parsed.image).toBe(IMAGE);
    expect(parsed.spec).toMatchObject({ name: "hello", timeoutMs: 5000, env: { A: "1" }, maxBodyBytes: DEFAULTS.maxBodyBytes });
  });

  it("accepts a spec.name equal to metadata.name and refuses another", () => {
    expect(parseFunctionObject(makeTestFunction({ name: "hello" })).spec.name).toBe("hello");
    expect(() => parseFunctionObject(makeTestFunction({ name: "other" }))).toThrow('function apps/hello: name: must equal metadata.name "hello", got "other"');
  });

  it("reports spec errors with the object's name, for the InvalidSpec condition", () => {
    const error = (() => {
      try {
        parseFunctionObject(makeTestFunction({ env: { PORT: "1" }, timout: "1s" }));
      } catch (e) {
        return e;
      }
    })();
    expect(error).toBeInstanceOf(SpecError);
    expect((error as SpecError).message).toContain("function apps/hello: timout: unknown key");
    expect((error as SpecError).message).toContain("function apps/hello: env.PORT:");
  });

  it("needs an image and the apiserver's metadata", () => {
    const noImage = makeTestFunction();
    noImage.spec = { image: " " };
    expect(() => parseFunctionObject(noImage)).toThrow("image: required");
    expect(() => functionRef({ ...makeTestFunction(), metadata: { name: "x" } })).toThrow(/metadata.name, namespace and uid/);
  });
});
