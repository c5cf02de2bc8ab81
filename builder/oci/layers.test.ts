import { gunzipSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { makeLayer, makeLayerPlan, sha256Digest } from "./layers.ts";

describe("makeLayerPlan", () => {
  it.each([
    {
      name: "splits node_modules, assets and the rest, in that order",
      files: ["manifest.json", "index.mjs", "models/det.onnx", "node_modules/sharp/package.json", "chunks/a.mjs", "index.mjs.map"],
      assets: ["models/det.onnx"],
      want: [
        { kind: "node-modules", files: ["node_modules/sharp/package.json"] },
        { kind: "assets", files: ["models/det.onnx"] },
        { kind: "bundle", files: ["chunks/a.mjs", "index.mjs", "index.mjs.map", "manifest.json"] },
      ],
    },
    { name: "skips empty layers", files: ["index.mjs", "manifest.json"], assets: [], want: [{ kind: "bundle", files: ["index.mjs", "manifest.json"] }] },
    { name: "a node_modules_extra file is not node_modules", files: ["node_modules_extra.js"], assets: [], want: [{ kind: "bundle", files: ["node_modules_extra.js"] }] },
  ])("$name", ({ files, assets, want }) => {
    expect(makeLayerPlan(files, assets)).toEqual(want);
  });
});

describe("makeLayer", () => {
  const entries = [{ type: "file" as const, path: "app/index.mjs", data: Buffer.from("export {}\n") }];

  it("is byte-stable, with a gzip header carrying no mtime or name", () => {
    const a = makeLayer("bundle", entries, 0);
    const b = makeLayer("bundle", entries, 0);
    expect(a.blob.equals(b.blob)).toBe(true);
    // magic, deflate, no flags (so no name), mtime 0, XFL 0 (level 6: neither fastest nor max), OS unix
    expect(a.blob.subarray(0, 10).toString("hex")).toBe("1f8b0800000000000003");
  });

  it("digests the blob and diff-ids the uncompressed tar", () => {
    const layer = makeLayer("bundle", entries, 0);
    expect(layer.digest).toBe(sha256Digest(layer.blob));
    expect(layer.diffId).toBe(sha256Digest(gunzipSync(layer.blob)));
    expect(layer.size).toBe(layer.blob.length);
  });

  it("changes with the mtime", () => {
    expect(makeLayer("bundle", entries, 1).diffId).not.toBe(makeLayer("bundle", entries, 0).diffId);
  });
});
