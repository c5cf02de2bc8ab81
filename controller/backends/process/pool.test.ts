// The replica pool with real worker processes: it keeps `size` warm, a taken worker becomes
// exactly the assigned replica (env included) and is replaced, idle deaths are replaced, stop()
// and the platform's death leave nothing behind.
import { type ChildProcess, spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it, onTestFinished } from "vitest";
import { waitFor } from "../../../test/harness/wait-for.ts";
import type { Revision } from "../../types.ts";
import { makeReplicaEnv } from "./env.ts";
import { makeLineSplitter, parseListeningPort } from "./output.ts";
import { POOL_WORKER_SCRIPT, canRunPooled, killGroup } from "./pool-worker-process.ts";
import { type ReplicaPool, type ReplicaPoolOptions, startReplicaPool } from "./pool.ts";
import { BEHAVIOURS, buildFixture } from "./testdata/support.ts";

let behaviours: (env?: Record<string, string>) => Revision;
beforeAll(async () => {
  behaviours = await buildFixture(BEHAVIOURS);
}, 60_000);

/** A worker whose own env holds a secret: assignment must leave nothing of it. */
const leakyWorker = () =>
  spawn(process.execPath, [POOL_WORKER_SCRIPT], {
    env: { PATH: process.env.PATH ?? "", NODE_ENV: "production", LEAK_SECRET: "s3cret" },
    stdio: ["ignore", "pipe", "pipe", "ipc"],
    detached: true,
  });

/** Whether a process runs (a zombie left to a non-reaping init counts as gone). */
const alive = (pid: number | undefined) => {
  if (pid === undefined) return false;
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, "utf8"));
  } catch {
    return false;
  }
};

function startTestPool(options: ReplicaPoolOptions = {}): ReplicaPool {
  const pool = startReplicaPool({ size: 2, spawnWorker: leakyWorker, ...options });
  onTestFinished(() => pool.stop());
  return pool;
}

const warmPids = (pool: ReplicaPool, size = 2) =>
  waitFor(() => {
    const warm = pool.workers().filter((w) => w.warm);
    return warm.length === size ? warm.map((w) => w.pid!) : undefined;
  }, { what: `${size} warm pool workers` });

/** The port from a worker's "listening" line, once it runs the assigned bundle. */
function listeningPort(child: ChildProcess): Promise<number> {
  return new Promise((resolve) => {
    const splitter = makeLineSplitter((line) => {
      const port = parseListeningPort(line);
      if (port !== undefined) resolve(port);
    });
    child.stdout?.on("data", (chunk: Buffer) => splitter.push(chunk));
  });
}

describe("replica pool", { timeout: 20_000 }, () => {
  it("keeps `size` warm workers, and none while stopped", async () => {
    const pool = startTestPool({ size: 3 });
    const pids = await warmPids(pool, 3);
    expect(pids.every(alive)).toBe(true);
    await pool.stop();
    expect(pids.filter(alive)).toEqual([]);
    expect(pool.workers()).toEqual([]);
    expect(pool.take()).toBeUndefined();
  });

  it("a taken worker serves the assigned function with exactly the assigned env, and is replaced", async () => {
    const pool = startTestPool();
    const before = await warmPids(pool);
    const worker = pool.take()!;
    onTestFinished(() => killGroup(worker.child.pid!));
    expect(before).toContain(worker.child.pid);
    const revision = behaviours({ GREETING: "pooled hi" });
    const env = makeReplicaEnv({ revision, replicaId: "r1", port: 0, host: "127.0.0.1", drainGraceMs: 2000, platformEnv: { SKIFF_NATS_URL: "nats://x" } });
    const port = listeningPort(worker.child);
    worker.assign({ bundlePath: join(revision.bundleDir, "index.mjs"), cwd: revision.bundleDir, env, title: "skiff-replica r1" });
    const url = `http://127.0.0.1:${await port}`;
    await waitFor(async () => (await fetch(`${url}/_skiff/ready`)).status === 200, { what: "the pooled replica to be ready" });
    expect(await (await fetch(`${url}/hello`)).text()).toBe("pooled hi from behaviours");
    expect(await (await fetch(`${url}/env`)).json()).toEqual({ env: { INIT_DELAY_MS: "0", GREETING: "pooled hi" }, leaked: [] });
    // The replacement: two warm again, the taken one no longer the pool's.
    const after = await warmPids(pool);
    expect(after).not.toContain(worker.child.pid);
  });

  it("replaces an idle worker that is killed", async () => {
    const warnings: string[] = [];
    const pool = startTestPool({ logger: { warn: (msg) => warnings.push(msg) } });
    const [victim] = await warmPids(pool);
    process.kill(victim!, "SIGKILL");
    const after = await waitFor(() => {
      const warm = pool.workers().filter((w) => w.warm && w.pid !== victim);
      return warm.length === 2 ? warm : undefined;
    }, { what: "a replacement for the killed worker" });
    expect(after.map((w) => w.pid)).not.toContain(victim);
    expect(warnings).toEqual([`pool worker ${victim} exited while idle (SIGKILL); replacing it`]);
  });

  it("backs off refills when workers cannot start", async () => {
    let spawned = 0;
    const broken = () => {
      spawned++;
      return spawn(process.execPath, ["-e", "process.exit(3)"], { stdio: ["ignore", "pipe", "pipe", "ipc"] });
    };
    const pool = startTestPool({ size: 1, spawnWorker: broken, backoff: { initialMs: 100, maxMs: 10_000 } });
    const t0 = Date.now();
    await waitFor(() => spawned >= 4, { what: "4 attempts to start a worker" });
    // Waits of 100, 200 and 400ms between the 4 attempts.
    expect(Date.now() - t0).toBeGreaterThanOrEqual(700);
    expect(pool.take()).toBeUndefined();
  });

  it("an idle worker exits when the process that started it dies", async () => {
    // A stand-in platform: starts a worker, prints its pid, then is SIGKILLed.
    const script = `const { spawn } = require("node:child_process");
      const w = spawn(process.execPath, [${JSON.stringify(POOL_WORKER_SCRIPT)}], { stdio: ["ignore", "ignore", "ignore", "ipc"], detached: true });
      w.on("message", () => console.log(w.pid));`;
    const platform = spawn(process.execPath, ["-e", script], { stdio: ["ignore", "pipe", "inherit"] });
    const workerPid = Number(await new Promise<string>((resolve) => platform.stdout.once("data", (d: Buffer) => resolve(d.toString()))));
    onTestFinished(() => killGroup(workerPid));
    expect(alive(workerPid)).toBe(true);
    platform.kill("SIGKILL");
    await waitFor(() => !alive(workerPid), { what: `orphaned worker ${workerPid} to exit` });
  });
});

describe("replica pool in a host process", { timeout: 20_000 }, () => {
  // Run under plain node (+tsx), where nothing else keeps the event loop alive, unlike vitest.
  const POOL_TS = JSON.stringify(new URL("./pool.ts", import.meta.url).href);
  const runHost = (body: string) =>
    new Promise<{ code: number | null; out: string }>((resolve) => {
      const script = `const { startReplicaPool } = await import(${POOL_TS});
        const pool = startReplicaPool({ size: 2 });
        while (pool.workers().filter((w) => w.warm).length < 2) await new Promise((r) => setTimeout(r, 10));
        console.log(JSON.stringify(pool.workers().map((w) => w.pid)));
        ${body}`;
      const host = spawn(process.execPath, ["--import", "tsx", "--input-type=module", "-e", script], { stdio: ["ignore", "pipe", "inherit"] });
      let out = "";
      host.stdout.on("data", (d: Buffer) => (out += d.toString()));
      host.once("close", (code) => resolve({ code, out }));
    });

  it("stop() settles even when idle workers were all that was left in the event loop", async () => {
    const { code, out } = await runHost(`await pool.stop(); console.log("stopped");`);
    expect(code).toBe(0);
    const [pids, stopped] = out.trim().split("\n");
    expect(stopped).toBe("stopped");
    expect((JSON.parse(pids!) as number[]).filter(alive)).toEqual([]);
  });

  it("idle workers do not keep a host alive that forgot stop(), and die with it", async () => {
    const { code, out } = await runHost("");
    expect(code).toBe(0);
    expect((JSON.parse(out) as number[]).filter(alive)).toEqual([]);
  });
});

describe("canRunPooled", () => {
  it.each([
    [{ PATH: "/bin", NODE_ENV: "production", LOG_LEVEL: "info", TZ: "UTC" }, true],
    [{ NODE_OPTIONS: "--max-old-space-size=4096" }, false],
    [{ NODE_EXTRA_CA_CERTS: "/ca.pem" }, false],
    [{ UV_THREADPOOL_SIZE: "16" }, false],
    [{ LD_LIBRARY_PATH: "/opt/lib" }, false],
    [{ OPENSSL_CONF: "/etc/ssl.cnf" }, false],
  ])("%j -> %s", (env, expected) => {
    expect(canRunPooled(env)).toBe(expected);
  });
});
