import { describe, expect, it } from "vitest";
import { canonicalJson, makeRevisionHash, makeRevisionId, sha256Hex } from "./hash.ts";
import { makeTestSpec } from "./store-contract.ts";

describe("canonicalJson", () => {
  it.each([
    [{ b: 1, a: { d: [2, { z: 1, y: 2 }], c: undefined } }, '{"a":{"d":[2,{"y":2,"z":1}]},"b":1}'],
    [[3, "x", null], '[3,"x",null]'],
    ["s", '"s"'],
  ])("%j -> %s", (value, text) => {
    expect(canonicalJson(value)).toBe(text);
  });
});

describe("makeRevisionHash", () => {
  const spec = makeTestSpec("f");
  const files: Array<[string, string]> = [["b", sha256Hex("2")], ["a", sha256Hex("1")]];

  it("does not depend on file order or spec key order", () => {
    const reordered = Object.fromEntries(Object.entries(spec).reverse()) as typeof spec;
    expect(makeRevisionHash([...files].reverse(), reordered)).toBe(makeRevisionHash(files, spec));
  });

  it("changes with a path, a content or the spec", () => {
    const base = makeRevisionHash(files, spec);
    expect(makeRevisionHash([["c", sha256Hex("2")], ["a", sha256Hex("1")]], spec)).not.toBe(base);
    expect(makeRevisionHash([["b", sha256Hex("3")], ["a", sha256Hex("1")]], spec)).not.toBe(base);
    expect(makeRevisionHash(files, makeTestSpec("f", { timeout: "1s" }))).not.toBe(base);
  });

  it("makes ids of the function name and 12 hex digits", () => {
    expect(makeRevisionId("hello", "0123456789abcdef")).toBe("hello-0123456789ab");
  });
});
