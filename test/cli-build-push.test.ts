// `skiff build --image --push` as a user runs it, against a real docker-registry (anonymous and
// htpasswd), with skopeo and umoci as independent readers. The host base is built once and
// pushed as `base:1`; functions are then built on it through the registry, a layout and the host,
// and every way must give the same manifest digest.
import { execFile } from "node:child_process";
import { appendFile, cp, mkdir, mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, expect, it } from "vitest";
import { ensureHostBase, pushImageToReference, type HostBase } from "../builder/index.ts";
import { staticCredentials } from "../builder/oci/registry/index.ts";
import { baseCacheDirs, skiffCacheDir } from "../cli/image-base.ts";
import { REPO_ROOT, runSkiff } from "./harness/processes.ts";
import { basicAuthConfig, dockerConfigEnv, registryTools, skopeoInspect, startRegistry, type TestRegistry } from "./harness/registry.ts";
import { describeWithTools } from "./harness/tools.ts";

const run = promisify(execFile);

interface Blob {
  digest: string;
  size: number;
  action: "skipped" | "mounted" | "uploaded";
}

interface BuildJson {
  bundle: string;
  image: {
    manifestDigest: string;
    configDigest: string;
    layers: { kind: string; digest: string; size: number }[];
    base: { name: string; kind: string; bytesDownloaded?: number };
    push?: { reference: string; manifestDigest: string; bytesUploaded: number; blobs: Blob[] };
  };
}

let tmp: string;
let registry: TestRegistry;
let authRegistry: TestRegistry;
let base: HostBase;
let fnDir: string;
/** The CLI's environment: its own cache and an empty Docker config (never the user's). */
let env: NodeJS.ProcessEnv;

async function skiff(args: string[], extraEnv: NodeJS.ProcessEnv = {}) {
  return runSkiff(["build", ...args], { env: { ...env, ...extraEnv } });
}

async function skiffJson(args: string[], extraEnv: NodeJS.ProcessEnv = {}): Promise<BuildJson> {
  const result = await skiff([...args, "--json"], extraEnv);
  expect(result.stderr).toBe("");
  expect(result.code).toBe(0);
  return JSON.parse(result.stdout) as BuildJson;
}

const actions = (blobs: readonly Blob[]) => Object.fromEntries(blobs.map((b) => [b.digest, b.action]));

describeWithTools("skiff build --image --push against docker-registry", [...registryTools("htpasswd"), "skopeo", "umoci"], () => {
  beforeAll(async () => {
    tmp = await mkdtemp(join(tmpdir(), "skiff-build-push-"));
    [registry, authRegistry] = await Promise.all([startRegistry(), startRegistry({ kind: "htpasswd", users: { alice: "s3cret" } })]);
    const cache = join(tmp, "cache");
    const dockerConfig = join(tmp, "docker-empty");
    await mkdir(dockerConfig);
    env = { ...process.env, XDG_CACHE_HOME: cache, DOCKER_CONFIG: dockerConfig };
    // Where `--base host` looks, so the CLI finds this base instead of building its own.
    base = await ensureHostBase(baseCacheDirs(skiffCacheDir({ XDG_CACHE_HOME: cache })).host);
    await pushImageToReference(`${registry.host}/base:1`, { layoutDir: base.blobDir, layoutTag: base.tag, credentials: staticCredentials({ kind: "none" }) });
    fnDir = join(tmp, "hello");
    await cp(join(REPO_ROOT, "functions", "hello"), fnDir, { recursive: true, filter: (src) => !src.includes(".skiff") });
  }, 120_000);

  afterAll(async () => {
    await Promise.all([registry?.stop(), authRegistry?.stop()]);
    if (tmp) await rm(tmp, { recursive: true, force: true });
  });

  it("pushes on a base from the same registry: base blobs mounted, skopeo sees the base layer first", async () => {
    const ref = `${registry.host}/hello:1`;
    const out = await skiffJson([fnDir, "--image", ref, "--base", `${registry.host}/base:1`, "--push"]);
    const { image } = out;
    expect(image.base).toMatchObject({ name: `${registry.host}/base:1`, kind: "registry" });
    expect(image.layers.map((l) => l.kind)).toEqual(["base", "bundle"]);
    expect(image.layers[0]!.digest).toBe(base.layers[0]!.digest);
    expect(image.push!.reference).toBe(`${ref}@${image.manifestDigest}`);
    const bundle = image.layers[1]!;
    expect(actions(image.push!.blobs)).toEqual({ [base.layers[0]!.digest]: "mounted", [bundle.digest]: "uploaded", [image.configDigest]: "uploaded" });
    const config = image.push!.blobs.find((b) => b.digest === image.configDigest)!;
    expect(image.push!.bytesUploaded).toBe(bundle.size + config.size);

    const inspected = (await skopeoInspect(ref)) as Awaited<ReturnType<typeof skopeoInspect>> & { Layers: string[] };
    expect(inspected.Digest).toBe(image.manifestDigest);
    expect(inspected.Layers).toEqual(image.layers.map((l) => l.digest));
    expect(inspected.Labels).toMatchObject({ "dev.skiff.base": "host", "dev.skiff.function": "hello" });
  });

  it("gives the same manifest digest for the same input: re-pulled base, oci: layout and host base alike", async () => {
    const ref = `${registry.host}/hello:1`;
    const first = await skiffJson([fnDir, "--image", ref, "--base", `${registry.host}/base:1`]);
    // A fresh cache: the base is pulled again, and a second push sends nothing.
    const again = await skiffJson([fnDir, "--force", "--image", ref, "--base", `${registry.host}/base:1`, "--push"], { XDG_CACHE_HOME: join(tmp, "cache-2") });
    expect(again.image.base.bytesDownloaded).toBeGreaterThan(base.layers[0]!.size);
    expect(again.image.push!.bytesUploaded).toBe(0);
    expect(again.image.push!.blobs.every((b) => b.action === "skipped")).toBe(true);
    const fromLayout = await skiffJson([fnDir, "--image", ref, "--base", `oci:${base.blobDir}:${base.tag}`]);
    const fromHost = await skiffJson([fnDir, "--image", ref, "--base", "host"]);
    const byDefault = await skiffJson([fnDir, "--image", ref]);
    const digests = [first, again, fromLayout, fromHost, byDefault].map((o) => o.image.manifestDigest);
    expect(new Set(digests)).toEqual(new Set([first.image.manifestDigest]));
  }, 120_000);

  it("unpacks the pushed image (skopeo copy to a layout, umoci unpack): the bundle and the node binary", async () => {
    const layout = join(tmp, "pulled");
    await run("skopeo", ["copy", "--src-tls-verify=false", `docker://${registry.host}/hello:1`, `oci:${layout}:1`]);
    const bundleDir = join(tmp, "unpacked");
    await run("umoci", ["unpack", "--rootless", "--image", `${layout}:1`, bundleDir]);
    const rootfs = join(bundleDir, "rootfs");
    const built = await readFile(join(fnDir, ".skiff", "build", "hello", "index.mjs"));
    expect((await readFile(join(rootfs, "app", "index.mjs"))).equals(built)).toBe(true);
    const node = await readFile(join(rootfs, process.execPath.slice(1)));
    expect(node.equals(await readFile(process.execPath))).toBe(true);
    const runtime = JSON.parse(await readFile(join(bundleDir, "config.json"), "utf8")) as { process: { args: string[]; env: string[] } };
    // `node` is found through the base's PATH, which holds the directory the binary is in.
    expect(runtime.process.args).toEqual(["node", "--enable-source-maps", "/app/index.mjs"]);
    const path = runtime.process.env.find((e) => e.startsWith("PATH="))!.slice("PATH=".length);
    expect(path.split(":")).toContain(dirname(process.execPath));
  }, 120_000);

  it("pushes only the bundle layer and the config after a code-only change", async () => {
    const before = await skiffJson([fnDir, "--image", `${registry.host}/hello:1`, "--base", `${registry.host}/base:1`]);
    await appendFile(join(fnDir, "index.ts"), '\nconsole.log("cli-build-push test: code changed");\n');
    const ref = `${registry.host}/hello:2`;
    const { image } = await skiffJson([fnDir, "--image", ref, "--base", `${registry.host}/base:1`, "--push"]);
    const [baseLayer, bundle] = image.layers;
    expect(baseLayer!.digest).toBe(before.image.layers[0]!.digest);
    expect(bundle!.digest).not.toBe(before.image.layers[1]!.digest);
    expect(actions(image.push!.blobs)).toEqual({ [baseLayer!.digest]: "skipped", [bundle!.digest]: "uploaded", [image.configDigest]: "uploaded" });
    const config = image.push!.blobs.find((b) => b.digest === image.configDigest)!;
    expect(image.push!.bytesUploaded).toBe(bundle!.size + config.size);
    expect((await skopeoInspect(ref)).Digest).toBe(image.manifestDigest);
  }, 120_000);

  it("fails in one line naming the registry without credentials, and pushes with them in DOCKER_CONFIG", async () => {
    const ref = `${authRegistry.host}/team/hello:1`;
    const denied = await skiff([fnDir, "--image", ref, "--push"]);
    expect(denied.code).toBe(1);
    const error = denied.stderr.trim().split("\n").at(-1)!;
    expect(error).toMatch(new RegExp(`^skiff build: cannot push ${ref}: .* in ${authRegistry.host}/team/hello: authentication required \\(401`));
    expect(error).toMatch(/no credentials for .*docker login/);
    expect(denied.stderr).not.toMatch(/--debug|\n\s+at /);

    const credentials = await dockerConfigEnv(tmp, basicAuthConfig(authRegistry.host, "alice", "s3cret"));
    const pushed = await skiff([fnDir, "--image", ref, "--push"], credentials);
    expect(pushed.code).toBe(0);
    const line = /^pushed (\S+@(sha256:[0-9a-f]{64})) \((.+) uploaded; (.+)\)$/m.exec(pushed.stdout);
    expect(line?.[1]).toBe(`${ref}@${line?.[2]}`);
    expect(pushed.stdout).toMatch(/^ {2}base: host$/m);
    expect((await skopeoInspect(ref, "alice:s3cret")).Digest).toBe(line![2]);
  }, 120_000);

  it("says which --base is wrong: a bad reference is a usage error, a missing layout a failure", async () => {
    const bad = await skiff([fnDir, "--image", "hello:1", "--base", "Node:20"]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--base: invalid image reference "Node:20"/);
    const missing = await skiff([fnDir, "--image", "hello:1", "--base", `oci:${join(tmp, "nowhere")}:v1`]);
    expect(missing.code).toBe(1);
    expect(missing.stderr.trim()).toMatch(/^skiff build: --base oci:.*nowhere:v1: cannot read the OCI layout/);
  });
});
