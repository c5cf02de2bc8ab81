import { describe, expect, it } from "vitest";
import { parseAssetPath } from "./assets.ts";
import { toDiagnostic } from "./bundle.ts";
import { makeEntrySource } from "./entry.ts";
import { BuildError, formatDiagnostic } from "./errors.ts";
import { stableJson } from "./hash.ts";
import { BUILDER_VERSION, isReusable, makeInputsHash, makeManifest, parseManifest, type HashBasis } from "./manifest.ts";
import { makeSpec } from "./testdata/fixtures.ts";

const basis = (): HashBasis => ({
  spec: makeSpec(),
  options: { esbuild: { format: "esm" }, runtimeEntry: "/repo/runtime/index.ts" },
  esbuildVersion: "0.28.2",
  inputs: { "index.ts": "aa", "/repo/runtime/index.ts": "bb" },
  assets: { "models/m.onnx": "cc" },
});

describe("stableJson", () => {
  it("sorts keys at every level and drops undefined", () => {
    expect(stableJson({ b: 1, a: { d: [{ z: 1, y: 2 }], c: undefined } })).toBe(
      stableJson({ a: { d: [{ y: 2, z: 1 }] }, b: 1 }),
    );
    expect(JSON.parse(stableJson({ b: 1, a: 2 }))).toEqual({ a: 2, b: 1 });
    expect(Object.keys(JSON.parse(stableJson({ b: 1, a: 2 })))).toEqual(["a", "b"]);
  });
});

describe("makeInputsHash", () => {
  it("ignores key order but sees every part of the basis", () => {
    const base = makeInputsHash(basis());
    const reordered = basis();
    reordered.inputs = { "/repo/runtime/index.ts": "bb", "index.ts": "aa" };
    expect(makeInputsHash(reordered)).toBe(base);
    const changes: Array<(b: HashBasis) => void> = [
      (b) => (b.inputs["index.ts"] = "ab"),
      (b) => (b.assets["models/m.onnx"] = "cd"),
      (b) => (b.assets["models/new.bin"] = "ee"),
      (b) => (b.spec = makeSpec({ timeoutMs: 1 })),
      (b) => (b.options = { esbuild: { format: "cjs" } }),
      (b) => (b.esbuildVersion = "0.29.0"),
    ];
    for (const change of changes) {
      const changed = basis();
      change(changed);
      expect(makeInputsHash(changed)).not.toBe(base);
    }
  });
});

describe("manifest", () => {
  it("round-trips through stable JSON and is reusable only with the same inputs and outputs present", () => {
    const manifest = makeManifest(basis(), { "index.mjs": "ff" }, ["sharp@0.33.5"]);
    expect(manifest.skiffBuilderVersion).toBe(BUILDER_VERSION);
    const parsed = parseManifest(stableJson(manifest));
    expect(parsed).toEqual(manifest);
    const { inputs, ...current } = basis();
    expect(isReusable(parsed!, current, inputs, true)).toBe(true);
    expect(isReusable(parsed!, current, inputs, false)).toBe(false);
    expect(isReusable(parsed!, current, undefined, true)).toBe(false);
    expect(isReusable(parsed!, current, { ...inputs, "index.ts": "00" }, true)).toBe(false);
    expect(isReusable(parsed!, { ...current, spec: makeSpec({ name: "other" }) }, inputs, true)).toBe(false);
  });

  it.each([["not json"], ["[]"], [JSON.stringify({ name: "x", inputsHash: "h", skiffBuilderVersion: "0" })]])(
    "rejects %s",
    (text) => expect(parseManifest(text)).toBeUndefined(),
  );
});

describe("diagnostics", () => {
  it("formats esbuild messages as file:line:col with 1-based columns, relative inside the function dir", () => {
    const inside = toDiagnostic({ text: 'Could not resolve "nope"', location: loc("index.ts", 3, 9) }, "/tmp/fn");
    expect(formatDiagnostic(inside)).toBe('index.ts:3:10: Could not resolve "nope"');
    const outside = toDiagnostic({ text: "Expected \";\"", location: loc("../../repo/runtime/x.ts", 1, 0) }, "/tmp/fn");
    expect(formatDiagnostic(outside)).toBe('/repo/runtime/x.ts:1:1: Expected ";"');
    expect(formatDiagnostic(toDiagnostic({ text: "boom", location: null }, "/tmp/fn"))).toBe("boom");
  });

  it("explains a missing default export", () => {
    const d = toDiagnostic({ text: 'No matching export in "index.ts" for import "default"', location: loc("<skiff-entry>", 1, 7) }, "/d");
    expect(formatDiagnostic(d)).toMatch(/^<skiff-entry>:1:8: .*export default defineFunction/);
  });
});

describe("parseAssetPath", () => {
  it.each([
    ["models/", "models"],
    ["./models/x.onnx", "models/x.onnx"],
    ["a/../b.txt", "b.txt"],
  ])("%s -> %s", (asset, rel) => expect(parseAssetPath(asset)).toBe(rel));

  it.each([["../secret"], ["/etc/passwd"], ["."], ["index.mjs"], ["node_modules/x"], ["manifest.json"]])("rejects %s", (asset) => {
    expect(() => parseAssetPath(asset)).toThrow(BuildError);
  });
});

describe("makeEntrySource", () => {
  it("imports the entry by absolute path and starts a replica with the spec and the bundle's folder", () => {
    const source = makeEntrySource("/tmp/fn/index.ts", makeSpec());
    expect(source).toContain('import fn from "/tmp/fn/index.ts";');
    expect(source).toContain('import { startReplica } from "skiff/runtime";');
    expect(source).toMatch(/startReplica\(fn, \{ spec: \{[\s\S]*"name": "hello"[\s\S]*\}, baseDir: dirname\(fileURLToPath\(import\.meta\.url\)\) \}\);/);
  });
});

function loc(file: string, line: number, column: number) {
  return { file, line, column, namespace: "file", length: 1, lineText: "", suggestion: "" };
}
