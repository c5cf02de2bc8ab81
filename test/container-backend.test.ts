// Functions deployed with isolation "container" on the local platform: real runc, real images
// (the host base plus the function), through the gateway. They must behave as process replicas
// do (scale from zero, drain on scale-down, crash replacement) while running unprivileged in a
// read-only root with only the declared environment.
import { execFile, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir, readdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { beforeAll, describe, expect, it, onTestFinished } from "vitest";
import { type ContainerImageSource, containerDirs, makeRuntimeConfig, parseImageRun } from "../controller/backends/container/index.ts";
import { makeContainerImages } from "../controller/platform/index.ts";
import { ControlApiError } from "../controller/api/index.ts";
import { describeWithNats } from "./harness/nats-server.ts";
import { deploy, functionVariant, startTestPlatform, tempDir } from "./harness/platform.ts";
import { runSkiff } from "./harness/processes.ts";
import { describeWithTools } from "./harness/tools.ts";
import { waitFor } from "./harness/wait-for.ts";

const run = promisify(execFile);
const BEHAVIOURS = fileURLToPath(new URL("./fixtures/behaviours", import.meta.url));

const yaml = (name: string, scale: string) =>
  `name: ${name}\nentry: index.ts\ntimeout: 10s\nscale: ${scale}\nenv:\n  INIT_DELAY_MS: "0"\n  GREETING: hi\nresources: { memory: 256Mi }\n`;

type TestPlatform = Awaited<ReturnType<typeof startTestPlatform>>;
interface ReplicaJson {
  id: string;
  phase: string;
  pid?: number;
  exitReason?: string;
}

const replicasOf = async (platform: TestPlatform, name: string) => (await platform.client.describe(name)).replicas.list as ReplicaJson[];
const runcList = async (stateDir: string) => (await run("runc", ["--root", containerDirs(stateDir).runc, "list", "--quiet"])).stdout.split("\n").filter(Boolean);

describeWithNats("container replicas", () => {
  describeWithTools("container replicas on the local platform", ["runc", "umoci"], () => {
    // One image cache for the file: the host base (about 40 MB gzipped) is built once.
    let images: ContainerImageSource;
    beforeAll(async () => {
      images = makeContainerImages(await tempDir("skiff-container-images-"));
    });
    const start = async (stateDir?: string) => {
      const platform = await startTestPlatform(stateDir, { containers: { images } });
      // Each test's containers go when it ends (stop is idempotent; the harness stops it again at the end).
      onTestFinished(() => platform.stop());
      return platform;
    };

    it("serves through the gateway from a container as uid 65532, with only the declared env and its memory limit", async () => {
      const platform = await start();
      process.env.LEAK_SECRET = "s3cret";
      onTestFinished(() => void delete process.env.LEAK_SECRET);
      const dir = await functionVariant(BEHAVIOURS, yaml("boxed", "{ min: 0, max: 2 }"));
      const plain = await deploy(platform.client, dir);
      const result = await deploy(platform.client, dir, { isolation: "container" });
      // The same code in a container is another revision, and it takes the traffic.
      expect(result.revision.isolation).toBe("container");
      expect(result.revision.id).not.toBe(plain.revision.id);
      expect(await (await fetch(`${result.url}hello`)).text()).toBe("hi from boxed");
      expect(await (await fetch(`${result.url}env`)).json()).toEqual({ env: { INIT_DELAY_MS: "0", GREETING: "hi" }, leaked: [] });
      const description = await platform.client.describe("boxed");
      expect(description.revisions.map((r) => r.isolation)).toEqual([undefined, "container"]);
      const replica = (await replicasOf(platform, "boxed")).find((r) => r.phase === "ready" && r.id.startsWith(result.revision.id))!;
      const status = await readFile(`/proc/${replica.pid}/status`, "utf8");
      expect(status).toMatch(/^Uid:\s+65532\s+65532\s+65532\s+65532$/m);
      expect(status).toMatch(/^NoNewPrivs:\s+1$/m);
      // The kernel's copy of its environment: the process replica's keys, less SKIFF_PARENT_PID
      // (meaningless in a pid namespace), plus the HOME runc sets from the image's /etc/passwd.
      const environ = (await readFile(`/proc/${replica.pid}/environ`, "utf8")).split("\0").filter(Boolean);
      expect(environ.map((kv) => kv.slice(0, kv.indexOf("="))).sort()).toEqual([
        "GREETING", "HOME", "HOST", "INIT_DELAY_MS", "NODE_ENV", "PATH", "PORT", "SKIFF_CPU_MILLIS",
        "SKIFF_DRAIN_GRACE_MS", "SKIFF_FUNCTION", "SKIFF_LOG_TIME", "SKIFF_REPLICA", "SKIFF_REVISION",
      ]);
      expect(environ).toContain("PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");
      const memoryCgroup = /^\d+:memory:(.+)$/m.exec(await readFile(`/proc/${replica.pid}/cgroup`, "utf8"))?.[1];
      if (memoryCgroup && existsSync(`/sys/fs/cgroup/memory${memoryCgroup}/memory.limit_in_bytes`)) {
        expect(Number(await readFile(`/sys/fs/cgroup/memory${memoryCgroup}/memory.limit_in_bytes`, "utf8"))).toBe(256 * 1024 * 1024);
      }
    });

    it("has a read-only root: a write outside /tmp fails", async () => {
      const platform = await start();
      const dir = await functionVariant(BEHAVIOURS, yaml("readonly", "{ min: 1, max: 1 }"));
      await deploy(platform.client, dir, { isolation: "container" });
      const [replica] = await replicasOf(platform, "readonly");
      const { stdout } = await run("runc", ["--root", containerDirs(platform.stateDir).runc, "exec", "--user", "65532:65532", replica!.id, "node", "-e", WRITE_PROBE]);
      expect(JSON.parse(stdout)).toEqual({ app: "EROFS", root: "EROFS", etc: "EROFS", tmp: "ok" });
    });

    it("scales from zero on a request and drains like a process replica, leaving no container behind", async () => {
      const platform = await start();
      const dir = await functionVariant(BEHAVIOURS, yaml("sleepy", "{ min: 0, max: 2, scaleToZeroAfter: 1s }"));
      const { url, revision } = await deploy(platform.client, dir, { isolation: "container" });
      await waitFor(async () => (await platform.client.describe("sleepy")).replicas.desired === 0, { what: "sleepy to go to zero", timeoutMs: 20_000 });
      // Drained: SIGTERM reached the runtime through runc, it finished and exited 0.
      const drained = await waitFor(async () => (await replicasOf(platform, "sleepy")).find((r) => r.phase === "exited"), { what: "the drained replica to exit" });
      expect(drained.exitReason).toBe("exited with code 0");
      expect(await runcList(platform.stateDir)).toEqual([]);
      const logs: string[] = [];
      for await (const line of platform.client.logs("sleepy", { tail: 100 })) logs.push(line);
      expect(logs.some((l) => l.includes(drained.id) && l.includes("shutdown hook ran"))).toBe(true);

      const res = await fetch(`${url}hello`);
      expect(await res.text()).toBe("hi from sleepy");
      const ready = (await replicasOf(platform, "sleepy")).filter((r) => r.phase === "ready");
      expect(ready).toHaveLength(1);
      expect(await runcList(platform.stateDir)).toEqual([ready[0]!.id]);
      const coldStarts = (await platform.client.describe("sleepy")).coldStarts;
      console.log(`container cold starts (spawn to ready) of ${revision.id}: ${coldStarts.map((c) => `${c.durationMs}ms`).join(", ")}`);
      await platform.stop();
      expect(await runcList(platform.stateDir)).toEqual([]);
      expect(await readdir(containerDirs(platform.stateDir).bundles)).toEqual([]);
    });

    it("replaces a container whose process is SIGKILLed", async () => {
      const platform = await start();
      const dir = await functionVariant(BEHAVIOURS, yaml("crashy", "{ min: 1, max: 1 }"));
      const { url } = await deploy(platform.client, dir, { isolation: "container" });
      const [victim] = await replicasOf(platform, "crashy");
      process.kill(victim!.pid!, "SIGKILL");
      const exited = await waitFor(async () => (await replicasOf(platform, "crashy")).find((r) => r.id === victim!.id && r.phase === "exited"), { what: "the killed replica to be seen as exited" });
      expect(exited.exitReason).toMatch(/killed by SIGKILL/);
      await waitFor(async () => (await platform.client.describe("crashy")).replicas.ready === 1, { what: "a replacement container to turn ready", timeoutMs: 20_000 });
      expect((await fetch(`${url}hello`)).status).toBe(200);
    });

    it("brings a container function back in a container after a platform restart", async () => {
      const first = await start();
      const dir = await functionVariant(BEHAVIOURS, yaml("durable", "{ min: 1, max: 1 }"));
      const { revision } = await deploy(first.client, dir, { isolation: "container" });
      await first.stop();
      const second = await start(first.stateDir);
      await waitFor(async () => (await second.client.describe("durable")).replicas.ready === 1, { what: "the min-scale container after the restart", timeoutMs: 30_000 });
      const description = await second.client.describe("durable");
      expect(description.revisions).toMatchObject([{ id: revision.id, isolation: "container" }]);
      expect(await runcList(second.stateDir)).toEqual([(description.replicas.list as ReplicaJson[]).find((r) => r.phase === "ready")!.id]);
      expect(await (await fetch(`${second.gatewayUrl}/fn/durable/hello`)).text()).toBe("hi from durable");
    });

    it("removes containers an earlier run left behind when it starts", async () => {
      const stateDir = await tempDir("skiff-state-");
      const leftover = await startLeftoverContainer(stateDir, images);
      expect(await runcList(stateDir)).toEqual([leftover]);
      await start(stateDir);
      await waitFor(async () => (await runcList(stateDir)).length === 0, { what: "the leftover container to be removed" });
    });
  }, { needsRoot: true });
});

describe("skiff deploy --isolation", () => {
  it("takes process or container only, as a usage error before building", async () => {
    const result = await runSkiff(["deploy", BEHAVIOURS, "--isolation", "vm"]);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/--isolation must be process or container, got "vm"/);
  });
});

describeWithNats("container replicas where runc is missing", () => {
  it("refuses a container deploy with what is missing and how to fix it (501), and still runs process functions", async () => {
    const platform = await startTestPlatform(undefined, { containers: { runc: "/nonexistent/runc" } });
    const dir = await functionVariant(BEHAVIOURS, yaml("norunc", "{ min: 0 }"));
    const error = await deploy(platform.client, dir, { isolation: "container" }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ControlApiError);
    expect(error).toMatchObject({ status: 501 });
    expect((error as Error).message).toMatch(/^cannot run container replicas: runc was not found .*apt-get install runc.*--isolation process\)$/);
    const { url } = await deploy(platform.client, dir);
    expect(await (await fetch(`${url}hello`)).text()).toBe("hi from norunc");
  });
});

/** Tries writes in /app, /, /etc and /tmp; prints what happened to each. */
const WRITE_PROBE = `
const fs = require("node:fs");
const attempt = (path) => { try { fs.writeFileSync(path, "x"); return "ok"; } catch (e) { return e.code; } };
console.log(JSON.stringify({ app: attempt("/app/x"), root: attempt("/x"), etc: attempt("/etc/x"), tmp: attempt("/tmp/x") }));`;

/** Runs a container in the platform's runc root, then SIGKILLs its runc: the container stays, as after a platform crash. */
async function startLeftoverContainer(stateDir: string, images: ContainerImageSource): Promise<string> {
  const fnDir = await functionVariant(BEHAVIOURS, yaml("leftover", "{ min: 0 }"));
  const { loadAndBuild } = await import("../cli/build-function.ts");
  const build = await loadAndBuild(fnDir);
  const image = await images({ id: "leftover-000000000000", fn: "leftover", spec: build.spec, bundleDir: build.outDir, contentHash: "0".repeat(64), createdAtMs: 0 });
  const rootfs = join(stateDir, "leftover-rootfs");
  await run("umoci", ["raw", "unpack", "--image", `${image.layoutDir}:${image.tag}`, rootfs]);
  const bundle = join(stateDir, "leftover-bundle");
  await mkdir(bundle);
  const config = makeRuntimeConfig({ ...parseImageRun(image.run, "leftover"), args: ["node", "-e", "setInterval(() => {}, 1000)"], rootfs, env: { PATH: "/usr/bin" }, hostname: "leftover", cgroupsPath: "skiff/leftover", hostFiles: [] });
  await writeFile(join(bundle, "config.json"), JSON.stringify(config));
  const id = "leftover-r1";
  const runcRoot = containerDirs(stateDir).runc;
  await mkdir(runcRoot, { recursive: true });
  const runc = spawn("runc", ["--root", runcRoot, "run", "--bundle", bundle, id], { stdio: "ignore", detached: true });
  await waitFor(async () => (await run("runc", ["--root", runcRoot, "state", id])).stdout.includes('"running"'), { what: "the leftover container to run" });
  runc.kill("SIGKILL");
  return id;
}
