import { describe, expect, it } from "vitest";
import type { FunctionSpec } from "../../spec/types.ts";
import { canonicalJson, makeImage, makeImageEnv, ociArchitecture, parseSourceDateEpoch } from "./image.ts";
import { makeLayer } from "./layers.ts";

describe("canonicalJson", () => {
  it.each([
    { value: { b: 1, a: { d: [{ z: 1, y: 2 }], c: null } }, want: '{"a":{"c":null,"d":[{"y":2,"z":1}]},"b":1}' },
    { value: [3, "x"], want: '[3,"x"]' },
  ])("$want", ({ value, want }) => {
    expect(canonicalJson(value)).toBe(want);
  });
});

describe("small parsers", () => {
  it.each([
    ["x64", "amd64"],
    ["arm64", "arm64"],
    ["ia32", "386"],
  ])("arch %s -> %s", (node, oci) => expect(ociArchitecture(node)).toBe(oci));

  it.each([
    [undefined, 0],
    ["", 0],
    ["1700000000", 1_700_000_000],
  ])("SOURCE_DATE_EPOCH %s -> %s", (value, want) => expect(parseSourceDateEpoch(value)).toBe(want));

  it("rejects a SOURCE_DATE_EPOCH that is not whole seconds", () => {
    expect(() => parseSourceDateEpoch("2024-01-01")).toThrow(/SOURCE_DATE_EPOCH/);
  });

  it("puts the function's env over the defaults", () => {
    expect(makeImageEnv({ Z: "1", PORT: "9000", A: "x=y" })).toEqual([
      "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
      "PORT=9000",
      "NODE_ENV=production",
      "A=x=y",
      "Z=1",
    ]);
  });
});

describe("makeImage", () => {
  const spec = { name: "hello", env: { LOG_LEVEL: "info" } } as unknown as FunctionSpec;
  const layers = [makeLayer("bundle", [{ type: "file", path: "app/index.mjs", data: Buffer.from("x") }], 0)];
  const input = { spec, layers, revision: "abc", inputsHash: "h", architecture: "amd64", createdSec: 0 };

  it("is stable and non-root, with the runtime entrypoint and the revision label", () => {
    const a = makeImage(input);
    expect(a.manifest.equals(makeImage(input).manifest)).toBe(true);
    const config = JSON.parse(a.config.toString()) as { created: string; config: Record<string, unknown>; rootfs: unknown };
    expect(config.created).toBe("1970-01-01T00:00:00Z");
    expect(config.config.User).toBe("65532:65532");
    expect(config.config.Entrypoint).toEqual(["node", "--enable-source-maps", "/app/index.mjs"]);
    expect(config.config.Labels).toMatchObject({ "org.opencontainers.image.revision": "abc", "dev.skiff.function": "hello" });
    expect(config.rootfs).toEqual({ type: "layers", diff_ids: [layers[0]!.diffId] });
    const manifest = JSON.parse(a.manifest.toString()) as { config: { digest: string }; layers: { digest: string }[] };
    expect(manifest.config.digest).toBe(a.configDescriptor.digest);
    expect(manifest.layers.map((l) => l.digest)).toEqual([layers[0]!.digest]);
  });

  it("takes created from SOURCE_DATE_EPOCH seconds", () => {
    const config = JSON.parse(makeImage({ ...input, createdSec: 1_700_000_000 }).config.toString()) as { created: string };
    expect(config.created).toBe("2023-11-14T22:13:20Z");
  });
});
