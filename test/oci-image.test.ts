// `skiff build --image` against the real tools: skopeo and umoci accept the layout, the same
// input gives the same manifest digest, and a code-only change changes only the bundle layer.
import { execFile } from "node:child_process";
import { cp, mkdtemp, readFile, rm, appendFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, expect, it } from "vitest";
import { REPO_ROOT, runSkiff } from "./harness/processes.ts";
import { describeWithTools } from "./harness/tools.ts";

const run = promisify(execFile);

interface ImageJson {
  outDir: string;
  bundle: string;
  image: { tag: string; layout: string; manifestDigest: string; layers: { kind: string; digest: string; diffId: string }[]; revision: string };
}

async function buildImage(dir: string, ref: string, extra: string[] = []): Promise<ImageJson> {
  // The app layers alone (no host base): these tests are about what skiff itself puts in the
  // image; test/cli-build-push.test.ts covers bases.
  const result = await runSkiff(["build", dir, "--image", ref, "--base", "scratch", "--json", ...extra]);
  expect(result.stderr).toBe("");
  expect(result.code).toBe(0);
  return JSON.parse(result.stdout) as ImageJson;
}

const byKind = (image: ImageJson) => Object.fromEntries(image.image.layers.map((l) => [l.kind, l.digest]));

let tmp: string;
beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), "skiff-oci-"));
});
afterAll(() => rm(tmp, { recursive: true, force: true }));

describeWithTools("skiff build --image (OCI layout)", ["skopeo", "umoci"], () => {
  it("builds the same manifest twice, and skopeo and umoci accept it", async () => {
    // A copy, so the repository's functions/hello gets no .skiff/images.
    const dir = join(tmp, "hello");
    await cp(join(REPO_ROOT, "functions", "hello"), dir, { recursive: true, filter: (src) => !src.includes(".skiff") });
    const first = await buildImage(dir, "localhost:5000/skiff/hello:v1");
    await rm(join(dir, ".skiff"), { recursive: true, force: true });
    const second = await buildImage(dir, "localhost:5000/skiff/hello:v1", ["--force"]);
    expect(second.image.manifestDigest).toBe(first.image.manifestDigest);
    expect(second.image.layout).toBe(join(dir, ".skiff", "images", "hello"));

    const { stdout } = await run("skopeo", ["inspect", `oci:${second.image.layout}:v1`]);
    const inspected = JSON.parse(stdout) as { Digest: string; Labels: Record<string, string>; Architecture: string; Os: string };
    expect(inspected.Digest).toBe(second.image.manifestDigest);
    expect(inspected.Os).toBe("linux");
    expect(inspected.Labels["dev.skiff.function"]).toBe("hello");
    expect(inspected.Labels["org.opencontainers.image.revision"]).toBe(second.image.revision);

    const bundleDir = join(tmp, "hello-bundle");
    await run("umoci", ["unpack", "--rootless", "--image", `${second.image.layout}:v1`, bundleDir]);
    const unpacked = await readFile(join(bundleDir, "rootfs", "app", "index.mjs"));
    expect(unpacked.equals(await readFile(second.bundle))).toBe(true);
    const runtime = JSON.parse(await readFile(join(bundleDir, "config.json"), "utf8")) as { process: { args: string[]; cwd: string } };
    expect(runtime.process.args).toEqual(["node", "--enable-source-maps", "/app/index.mjs"]);
    expect(runtime.process.cwd).toBe("/app");
  });

  it("changes only the bundle layer on a code-only change (native node_modules and models stay)", async () => {
    // ocr-detect has all three layers: onnxruntime-node/sharp, models/, the bundle.
    const root = join(tmp, "fns");
    for (const name of ["ocr-detect", "ocr-shared"]) {
      await cp(join(REPO_ROOT, "functions", name), join(root, name), { recursive: true, filter: (src) => !src.includes(".skiff") });
    }
    const dir = join(root, "ocr-detect");
    const before = await buildImage(dir, "ocr-detect:t");
    expect(Object.keys(byKind(before))).toEqual(["node-modules", "assets", "bundle"]);
    await appendFile(join(dir, "index.ts"), '\nconsole.log("skiff oci test: code changed");\n');
    const after = await buildImage(dir, "ocr-detect:t");
    expect(after.image.manifestDigest).not.toBe(before.image.manifestDigest);
    expect(byKind(after)["node-modules"]).toBe(byKind(before)["node-modules"]);
    expect(byKind(after).assets).toBe(byKind(before).assets);
    expect(byKind(after).bundle).not.toBe(byKind(before).bundle);
    await run("skopeo", ["inspect", `oci:${after.image.layout}:t`]);
  }, 120_000);

  it("answers a bad reference, a bad base and --push without --image with a usage error before building", async () => {
    const hello = join(REPO_ROOT, "functions", "hello");
    const bad = await runSkiff(["build", hello, "--image", "Bad:ref"]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/invalid image reference "Bad:ref"/);
    const base = await runSkiff(["build", hello, "--image", "hello:v1", "--base", "Node:20"]);
    expect(base.code).toBe(2);
    expect(base.stderr).toMatch(/--base: invalid image reference "Node:20"/);
    const push = await runSkiff(["build", hello, "--push"]);
    expect(push.code).toBe(2);
    expect(push.stderr).toMatch(/--base, --push and --insecure-registry need --image REF/);
  });
});
