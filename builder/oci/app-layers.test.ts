import { chmod, mkdir, mkdtemp, readdir, readFile, rm, truncate, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { FunctionSpec } from "../../spec/types.ts";
import { hashFiles, listFiles } from "../hash.ts";
import { blobPath } from "./base.ts";
import { buildImageLayout, type ImageBuildInput } from "./build-image.ts";
import { LAYER_CACHE_FILE } from "./layer-cache.ts";

let root: string;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), "skiff-app-layers-"));
});
afterAll(() => rm(root, { recursive: true, force: true }));

const spec = { name: "fn", env: {} } as unknown as FunctionSpec;

/** A build output folder with all three layers, and its manifest's record of it (manifest.json aside, as the builder does). */
async function writeOutput(name: string, code = "export {}\n"): Promise<ImageBuildInput> {
  const outDir = join(root, name, "out");
  await mkdir(join(outDir, "node_modules", "native"), { recursive: true });
  await mkdir(join(outDir, "models"), { recursive: true });
  await writeFile(join(outDir, "node_modules", "native", "package.json"), '{"name":"native"}');
  await writeFile(join(outDir, "node_modules", "native", "addon.node"), "binary", { mode: 0o755 });
  await writeFile(join(outDir, "models", "m.bin"), "weights");
  await writeFile(join(outDir, "index.mjs"), code);
  await writeFile(join(outDir, "manifest.json"), `{"code":${JSON.stringify(code)}}\n`);
  const files = await hashFiles(outDir, (await listFiles(outDir)).filter((f) => f !== "manifest.json"));
  return { spec, outDir, manifest: { assets: { "models/m.bin": "h" }, inputsHash: "inputs", files } };
}

const options = (layoutDir: string) => ({ dir: root, reference: "fn:t", layoutDir, revision: "r", sourceDateEpoch: "0" });

describe("buildImageLayout with the layer cache", () => {
  it("reuses every unchanged layer on a second build, with the manifest digest of a build without cache", async () => {
    const build = await writeOutput("same");
    const layout = join(root, "same", "image");
    const first = await buildImageLayout(build, options(layout));
    expect(first.reusedLayers).toEqual([]);
    const second = await buildImageLayout(build, options(layout));
    expect(second.reusedLayers).toEqual(["node-modules", "assets", "bundle"]);
    expect(second.manifestDigest).toBe(first.manifestDigest);
    expect(second.layers).toEqual(first.layers);
    const cache = JSON.parse(await readFile(join(layout, LAYER_CACHE_FILE), "utf8")) as { entries: Record<string, unknown> };
    expect(Object.keys(cache.entries)).toHaveLength(3);
  });

  it("rebuilds only the layer whose files changed, and its digest is what a fresh layout gets", async () => {
    const layout = join(root, "edit", "image");
    await buildImageLayout(await writeOutput("edit"), options(layout));
    const edited = await writeOutput("edit", "export const x = 1;\n");
    const warm = await buildImageLayout(edited, options(layout));
    expect(warm.reusedLayers).toEqual(["node-modules", "assets"]);
    const cold = await buildImageLayout(edited, options(join(root, "edit", "fresh")));
    expect(warm.manifestDigest).toBe(cold.manifestDigest);
    // Old bundle entries go with their blobs: the cache is as small as the layout.
    const cache = JSON.parse(await readFile(join(layout, LAYER_CACHE_FILE), "utf8")) as { entries: Record<string, { digest: string }> };
    const blobs = new Set((await readdir(join(layout, "blobs", "sha256"))).map((n) => `sha256:${n}`));
    expect(Object.values(cache.entries).every((e) => blobs.has(e.digest))).toBe(true);
    expect(Object.keys(cache.entries)).toHaveLength(3);
  });

  it("rebuilds when the file's mode changes (the manifest hashes content only)", async () => {
    const build = await writeOutput("mode");
    const layout = join(root, "mode", "image");
    const first = await buildImageLayout(build, options(layout));
    await chmod(join(build.outDir, "index.mjs"), 0o755);
    const second = await buildImageLayout(build, options(layout));
    expect(second.reusedLayers).toEqual(["node-modules", "assets"]);
    expect(second.manifestDigest).not.toBe(first.manifestDigest);
  });

  it.each([
    ["a corrupt cache file", async (layout: string) => writeFile(join(layout, LAYER_CACHE_FILE), "{not json")],
    ["a missing layer blob", async (layout: string, digest: string) => rm(blobPath(layout, digest))],
    ["a truncated layer blob", async (layout: string, digest: string) => truncate(blobPath(layout, digest), 3)],
  ])("builds the layer again after %s, to the same image", async (_what, damage) => {
    const name = `damage-${Math.random().toString(16).slice(2)}`;
    const build = await writeOutput(name);
    const layout = join(root, name, "image");
    const first = await buildImageLayout(build, options(layout));
    const bundle = first.layers.find((l) => l.kind === "bundle")!;
    await damage(layout, bundle.digest);
    const second = await buildImageLayout(build, options(layout));
    expect(second.reusedLayers).not.toContain("bundle");
    expect(second.manifestDigest).toBe(first.manifestDigest);
    expect((await readFile(blobPath(layout, bundle.digest))).length).toBe(bundle.size);
  });

  it("hashes a file edited after the manifest was written instead of trusting its record", async () => {
    const build = await writeOutput("stale");
    const layout = join(root, "stale", "image");
    const first = await buildImageLayout(build, options(layout));
    // The output changes behind the manifest's back, keeping its size: only the content differs.
    await writeFile(join(build.outDir, "index.mjs"), "export {}\n".replace("{}", "[]"));
    const changed = await buildImageLayout(build, options(layout));
    expect(changed.reusedLayers).toEqual(["node-modules", "assets"]);
    expect(changed.manifestDigest).not.toBe(first.manifestDigest);
    const cold = await buildImageLayout(build, options(join(root, "stale", "fresh")));
    expect(changed.manifestDigest).toBe(cold.manifestDigest);
  });

  it("files a layer under the bytes it read, never under a record that does not match them", async () => {
    const build = await writeOutput("lying");
    const layout = join(root, "lying", "image");
    // A record claiming other content for index.mjs: the layer is built from the disk and keyed by it,
    // so no later build with a truthful record can pick up a layer of other bytes.
    const lying = { ...build, manifest: { ...build.manifest, files: { ...build.manifest.files, "index.mjs": "0".repeat(64) } } };
    const first = await buildImageLayout(lying, options(layout));
    const truthful = await buildImageLayout(build, options(layout));
    expect(truthful.reusedLayers).toContain("bundle");
    expect(truthful.manifestDigest).toBe(first.manifestDigest);
    const cold = await buildImageLayout(build, options(join(root, "lying", "fresh")));
    expect(truthful.manifestDigest).toBe(cold.manifestDigest);
  });

  it("without the manifest's file hashes, hashes the files itself and still reuses", async () => {
    const build = await writeOutput("nohashes");
    const { files: _files, ...manifest } = build.manifest;
    const input = { ...build, manifest };
    const layout = join(root, "nohashes", "image");
    const first = await buildImageLayout(input, options(layout));
    const second = await buildImageLayout(input, options(layout));
    expect(second.reusedLayers).toEqual(["node-modules", "assets", "bundle"]);
    expect(second.manifestDigest).toBe(first.manifestDigest);
  });
});
