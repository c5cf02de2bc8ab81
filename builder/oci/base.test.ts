import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { FunctionSpec } from "../../spec/types.ts";
import { blobPath, loadBaseFromLayout, readImageFromLayout } from "./base.ts";
import { buildImageLayout } from "./build-image.ts";
import { assembleImage, MEDIA_TYPES } from "./image.ts";
import { makeLayer } from "./layers.ts";
import { writeImageLayout } from "./layout.ts";

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "skiff-base-"));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

/** A small base: one layer with a fake node, a PATH and a Cmd a function image must drop. */
async function writeBase(layoutDir: string, tag = "v1") {
  const layer = makeLayer("base", [{ type: "file", path: "opt/node/bin/node", data: Buffer.from("#!fake"), mode: 0o755 }], 0);
  const config = {
    architecture: "amd64",
    os: "linux",
    config: { Env: ["PATH=/opt/node/bin:/usr/bin", "NODE_VERSION=20"], Cmd: ["node"], User: "0", Labels: { vendor: "base" } },
    rootfs: { type: "layers", diff_ids: [layer.diffId] },
    history: [{ created_by: "ADD node" }],
  };
  const image = assembleImage(config, [layer], [], "amd64");
  await writeImageLayout(layoutDir, image, tag);
  return { image, layer };
}

/** A build output folder: what buildImageLayout reads. */
async function writeBuild(outDir: string) {
  await mkdir(join(outDir, "models"), { recursive: true });
  await writeFile(join(outDir, "index.mjs"), "export {}\n");
  await writeFile(join(outDir, "models", "m.bin"), "weights");
  const spec = { name: "hello", env: { GREETING: "hi" } } as unknown as FunctionSpec;
  return { spec, outDir, manifest: { assets: { "models/m.bin": "h" }, inputsHash: "inputs" } };
}

describe("loadBaseFromLayout", () => {
  it("reads layers, diff ids and config of a tagged image, or the only one", async () => {
    const layout = join(dir, "base");
    const { image, layer } = await writeBase(layout);
    const base = await loadBaseFromLayout(layout, "v1");
    expect(base.layers).toEqual([{ mediaType: MEDIA_TYPES.layer, digest: layer.digest, size: layer.size, diffId: layer.diffId }]);
    expect(base.config.config?.Env).toContain("NODE_VERSION=20");
    expect(base.blobDir).toBe(layout);
    expect((await readImageFromLayout(layout)).manifestDigest).toBe(image.manifestDescriptor.digest);
    await expect(loadBaseFromLayout(layout, "nope")).rejects.toThrow(/no image tagged "nope" \(tags: v1\)/);
  });

  it("refuses digests that are not sha256 (they become file names)", () => {
    expect(() => blobPath(dir, "sha256:../../etc/passwd")).toThrow(/not a sha256 digest/);
  });
});

describe("buildImageLayout on a base", () => {
  it("puts the base layers first, merges config, copies base blobs and is reproducible", async () => {
    const baseLayout = join(dir, "base2");
    const { layer } = await writeBase(baseLayout);
    const base = await loadBaseFromLayout(baseLayout, "v1");
    const build = await writeBuild(join(dir, "out"));
    const options = { dir, reference: "hello:t", layoutDir: join(dir, "img"), revision: "r1", sourceDateEpoch: "0", base };
    const first = await buildImageLayout(build, options);
    await rm(options.layoutDir, { recursive: true });
    const second = await buildImageLayout(build, options);
    expect(second.manifestDigest).toBe(first.manifestDigest);
    expect(second.layers.map((l) => l.kind)).toEqual(["base", "assets", "bundle"]);
    expect(second.layers[0]!.digest).toBe(layer.digest);

    const written = await readImageFromLayout(options.layoutDir, "t");
    expect(written.manifestDigest).toBe(second.manifestDigest);
    expect(written.config.rootfs?.diff_ids[0]).toBe(layer.diffId);
    const run = written.config.config!;
    expect(run.Env).toEqual(["PATH=/opt/node/bin:/usr/bin", "NODE_VERSION=20", "PORT=8080", "NODE_ENV=production", "GREETING=hi"]);
    expect(run.User).toBe("65532:65532");
    expect(run.Entrypoint).toEqual(["node", "--enable-source-maps", "/app/index.mjs"]);
    expect(run.Cmd).toBeUndefined();
    expect(run.Labels).toMatchObject({ vendor: "base", "dev.skiff.function": "hello" });
    expect(written.config.history?.map((h) => h.created_by)).toEqual(["ADD node", "skiff build: assets layer", "skiff build: bundle layer"]);
    expect(second.config).toEqual(written.config);
    // The base blob is in the new layout, byte for byte.
    const copied = await readFile(blobPath(options.layoutDir, layer.digest));
    expect(copied.equals(layer.blob)).toBe(true);
    expect((await readdir(join(options.layoutDir, "blobs", "sha256"))).length).toBe(5);
    expect((await stat(blobPath(options.layoutDir, layer.digest))).size).toBe(layer.size);
  });

  it("fails clearly when a base blob is missing", async () => {
    const baseLayout = join(dir, "base3");
    const { layer } = await writeBase(baseLayout);
    const base = await loadBaseFromLayout(baseLayout);
    await rm(blobPath(baseLayout, layer.digest));
    const build = await writeBuild(join(dir, "out3"));
    await expect(buildImageLayout(build, { dir, reference: "hello:t", layoutDir: join(dir, "img3"), revision: "r", base })).rejects.toThrow(/base layer sha256:[0-9a-f]+ is missing/);
  });
});
