import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { FunctionSpec } from "../../spec/types.ts";
import { makeImage } from "./image.ts";
import { makeLayer } from "./layers.ts";
import { makeLayoutIndex, REF_NAME, writeImageLayout } from "./layout.ts";

const spec = { name: "hello", env: {} } as unknown as FunctionSpec;
const imageOf = (code: string) =>
  makeImage({ spec, layers: [makeLayer("bundle", [{ type: "file", path: "app/index.mjs", data: Buffer.from(code) }], 0)], revision: "r", inputsHash: "h", architecture: "amd64", createdSec: 0 });

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "skiff-layout-"));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

describe("makeLayoutIndex", () => {
  it("replaces the entry of the same tag and keeps the others, sorted by tag", () => {
    const d = (digest: string, tag: string) => ({ mediaType: "m", digest, size: 1, annotations: { [REF_NAME]: tag } });
    const index = makeLayoutIndex([d("sha256:b", "v2"), d("sha256:a", "v1")], { mediaType: "m", digest: "sha256:c", size: 2 }, "v2");
    expect(index.manifests).toEqual([d("sha256:a", "v1"), { mediaType: "m", digest: "sha256:c", size: 2, annotations: { [REF_NAME]: "v2" } }]);
  });
});

describe("writeImageLayout", () => {
  it("writes blobs named by their digest, keeps other tags and drops blobs no tag reaches", async () => {
    const layout = join(dir, "img");
    const v1 = imageOf("one");
    await writeImageLayout(layout, v1, "v1");
    await writeImageLayout(layout, imageOf("two"), "v2");
    const v2b = imageOf("three");
    await writeImageLayout(layout, v2b, "v2"); // replaces v2: "two"'s blobs become garbage
    const index = JSON.parse(await readFile(join(layout, "index.json"), "utf8")) as { manifests: { digest: string; annotations: Record<string, string> }[] };
    expect(index.manifests.map((m) => [m.annotations[REF_NAME], m.digest])).toEqual([["v1", v1.manifestDescriptor.digest], ["v2", v2b.manifestDescriptor.digest]]);
    const blobs = (await readdir(join(layout, "blobs", "sha256"))).sort();
    const want = [v1, v2b].flatMap((i) => [i.manifestDescriptor.digest, i.configDescriptor.digest, i.layers[0]!.digest]);
    expect(blobs).toEqual([...new Set(want.map((d) => d.slice("sha256:".length)))].sort());
    expect(JSON.parse(await readFile(join(layout, "oci-layout"), "utf8"))).toEqual({ imageLayoutVersion: "1.0.0" });
  });
});
