// The host base and a function image on it, against the real tools: the base is reproducible,
// skopeo reads the layout, umoci unpacks it, and runc runs it as the `nonroot` user with a
// read-only root: the function answers HTTP on the host's loopback.
import { execFile } from "node:child_process";
import { cp, mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, expect, it } from "vitest";
import { buildHostBase, buildImageLayout, ensureHostBase, type HostBase, type ImageLayoutResult } from "../builder/index.ts";
import { loadAndBuild } from "../cli/build-function.ts";
import { makeRuntimeConfig, parseImageRun } from "../controller/backends/container/index.ts";
import { tempDir } from "./harness/platform.ts";
import { freePort } from "./harness/ports.ts";
import { REPO_ROOT, startProcess } from "./harness/processes.ts";
import { describeWithTools } from "./harness/tools.ts";
import { waitFor } from "./harness/wait-for.ts";

const run = promisify(execFile);

describeWithTools("host base image under runc", ["runc", "umoci", "skopeo"], () => {
  let tmp: string;
  let base: HostBase;
  let image: ImageLayoutResult;
  const runcRoot = () => join(tmp, "runc");
  const containerId = `skiff-image-test-${process.pid}`;

  beforeAll(async () => {
    tmp = await tempDir("skiff-container-image-");
    base = await ensureHostBase(join(tmp, "bases"));
    // A copy, so the repository's functions/hello gets no .skiff/images.
    const dir = join(tmp, "hello");
    await cp(join(REPO_ROOT, "functions", "hello"), dir, { recursive: true, filter: (src) => !src.includes(".skiff") });
    const build = await loadAndBuild(dir);
    const options = { dir, reference: "hello:v1", layoutDir: join(tmp, "image"), revision: "test", base };
    const first = await buildImageLayout(build, options);
    image = await buildImageLayout(build, { ...options, layoutDir: join(tmp, "image-again") });
    expect(image.manifestDigest).toBe(first.manifestDigest);
  }, 120_000);

  afterAll(async () => {
    await run("runc", ["--root", runcRoot(), "delete", "--force", containerId]).catch(() => {});
  });

  it("builds the same host base twice, with node, its loader and the nonroot user", async () => {
    const again = await buildHostBase({ layoutDir: join(tmp, "base-again"), tag: base.tag });
    expect(again.manifestDigest).toBe(base.manifestDigest);
    expect(base.config.config?.User).toBe("65532:65532");
    const { stdout } = await run("skopeo", ["inspect", `oci:${image.layoutDir}:v1`]);
    const inspected = JSON.parse(stdout) as { Digest: string; Layers: string[]; Labels: Record<string, string> };
    expect(inspected.Digest).toBe(image.manifestDigest);
    expect(inspected.Layers[0]).toBe(base.layers[0]!.digest);
    expect(inspected.Labels).toMatchObject({ "dev.skiff.base": "host", "dev.skiff.function": "hello" });
  });

  it("unpacks with umoci and answers HTTP under runc as uid 65532 with a read-only root", async () => {
    const rootfs = join(tmp, "rootfs");
    await run("umoci", ["raw", "unpack", "--image", `${image.layoutDir}:v1`, rootfs]);
    expect(await readFile(join(rootfs, "etc", "passwd"), "utf8")).toMatch(/^nonroot:x:65532:65532:/m);
    const node = await readFile(join(rootfs, process.execPath.slice(1)));
    expect(node.equals(await readFile(process.execPath))).toBe(true);

    const bundle = join(tmp, "bundle");
    await mkdir(bundle);
    const port = await freePort();
    const imageRun = parseImageRun(image.config.config, "hello:v1");
    const env = { PATH: imageRun.path ?? "/usr/bin", PORT: String(port), HOST: "127.0.0.1", NODE_ENV: "production" };
    const config = makeRuntimeConfig({ ...imageRun, rootfs, env, hostname: "hello", cgroupsPath: `skiff/${containerId}`, hostFiles: [], memoryBytes: 256 * 1024 * 1024 });
    await writeFile(join(bundle, "config.json"), JSON.stringify(config));
    const pidFile = join(bundle, "pid");
    const container = startProcess("runc", ["--root", runcRoot(), "run", "--bundle", bundle, "--pid-file", pidFile, containerId]);
    const url = `http://127.0.0.1:${port}`;
    const res = await waitFor(async () => {
      const r = await fetch(`${url}/?name=runc`);
      return r.ok ? r : undefined;
    }, { what: `the container to answer on ${url} (output: ${container.output()})`, timeoutMs: 20_000 });
    expect(await res.text()).toBe("hello, runc\n");
    const pid = Number(await readFile(pidFile, "utf8"));
    const status = await readFile(`/proc/${pid}/status`, "utf8");
    expect(status).toMatch(/^Uid:\s+65532\s+65532\s+65532\s+65532$/m);
    expect(status).toMatch(/^NoNewPrivs:\s+1$/m);
    // The root is read-only for everyone, /tmp is the container's own.
    const { stdout } = await run("runc", ["--root", runcRoot(), "exec", "--user", "65532:65532", containerId, "node", "-e", WRITE_PROBE]);
    expect(JSON.parse(stdout)).toEqual({ app: "EROFS", root: "EROFS", tmp: "ok" });
    container.kill("SIGTERM"); // runc forwards it: the runtime drains and exits 0
    expect(await container.exited).toBe(0);
  });
});

/** Tries a write in /app, in /, and in /tmp; prints what happened to each. */
const WRITE_PROBE = `
const fs = require("node:fs");
const attempt = (path) => { try { fs.writeFileSync(path, "x"); return "ok"; } catch (e) { return e.code; } };
console.log(JSON.stringify({ app: attempt("/app/x"), root: attempt("/x"), tmp: attempt("/tmp/x") }));`;
