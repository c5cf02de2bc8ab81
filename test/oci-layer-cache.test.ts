// The layer cache on a real function: ocr-detect's node_modules (onnxruntime-node, sharp) and
// model layers are taken from the layout on a second build instead of being tarred and compressed
// again, and the image is byte for byte the one a build without cache makes.
import { appendFile, cp, mkdtemp, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildFunction, buildImageLayout, readImageFromLayout, type ImageLayoutResult } from "../builder/index.ts";
import { loadFunctionSpec } from "../spec/index.ts";
import { REPO_ROOT } from "./harness/processes.ts";

let tmp: string;
let dir: string;
beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), "skiff-layer-cache-"));
  for (const name of ["ocr-detect", "ocr-shared"]) {
    await cp(join(REPO_ROOT, "functions", name), join(tmp, name), { recursive: true, filter: (src) => !src.includes(".skiff") });
  }
  dir = join(tmp, "ocr-detect");
});
afterAll(() => rm(tmp, { recursive: true, force: true }));

/** A forced bundle (as `build --force`) and its image into `layoutDir` (default: the function's). */
async function forcedImage(layoutDir?: string): Promise<ImageLayoutResult> {
  const build = await buildFunction({ dir, spec: await loadFunctionSpec(dir), force: true });
  return buildImageLayout(build, { dir, reference: "ocr-detect:t", sourceDateEpoch: "0", revision: "test", ...(layoutDir && { layoutDir }) });
}

/** Every blob the tagged manifest names is in the layout at its size. */
async function expectComplete(image: ImageLayoutResult): Promise<void> {
  const read = await readImageFromLayout(image.layoutDir, "t");
  expect(read.manifestDigest).toBe(image.manifestDigest);
  for (const layer of read.layers) {
    expect((await stat(join(image.layoutDir, "blobs", "sha256", layer.digest.slice("sha256:".length)))).size).toBe(layer.size);
  }
}

describe("layer cache (ocr-detect)", () => {
  it("reuses the node-modules and assets layers of a second build, with the same manifest digest", async () => {
    const first = await forcedImage();
    expect(first.reusedLayers).toEqual([]);
    const second = await forcedImage();
    expect(second.reusedLayers).toEqual(expect.arrayContaining(["node-modules", "assets"]));
    expect(second.manifestDigest).toBe(first.manifestDigest);
    await expectComplete(second);
  }, 120_000);

  it("after a code-only change rebuilds just the bundle layer, to the image a fresh layout gets", async () => {
    await appendFile(join(dir, "index.ts"), '\nconsole.log("skiff layer cache test: code changed");\n');
    const warm = await forcedImage();
    expect(warm.reusedLayers).toEqual(["node-modules", "assets"]);
    const cold = await forcedImage(join(tmp, "fresh-layout"));
    expect(cold.reusedLayers).toEqual([]);
    expect(warm.manifestDigest).toBe(cold.manifestDigest);
    await expectComplete(warm);
  }, 120_000);
});
