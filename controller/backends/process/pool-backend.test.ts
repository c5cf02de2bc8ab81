// The process backend with its pool: a replica started from a warm worker behaves as a freshly
// spawned one (phases, logs, env, drain, crash, process group), and idle workers are never
// replicas, never function logs, and gone after stop().
import { existsSync, readFileSync } from "node:fs";
import { beforeAll, describe, expect, it, onTestFinished } from "vitest";
import { waitFor } from "../../../test/harness/wait-for.ts";
import type { LogLine, Revision } from "../../types.ts";
import type { ProcessBackendOptions } from "./index.ts";
import { BEHAVIOURS, HAND_BUNDLES, buildFixture, handRevision, startTestBackend } from "./testdata/support.ts";

let behaviours: (env?: Record<string, string>) => Revision;
beforeAll(async () => {
  behaviours = await buildFixture(BEHAVIOURS);
}, 60_000);

/** A backend with a pool of two, returned once both workers are warm. */
async function startPooledBackend(options: ProcessBackendOptions = {}) {
  const t = startTestBackend({ pool: { size: 2 }, ...options });
  const warm = await waitFor(() => {
    const workers = t.backend.poolWorkers().filter((w) => w.warm);
    return workers.length === 2 ? workers.map((w) => w.pid!) : undefined;
  }, { what: "2 warm pool workers" });
  return { ...t, warm };
}

/** Keys of a process's environment as the kernel holds it (Linux), or undefined elsewhere. */
function kernelEnvKeys(pid: number): string[] | undefined {
  const path = `/proc/${pid}/environ`;
  if (!existsSync(path)) return undefined;
  return readFileSync(path, "utf8").split("\0").filter(Boolean).map((kv) => kv.slice(0, kv.indexOf("="))).sort();
}

describe("process backend with a pool", { timeout: 20_000 }, () => {
  it("starts 0 -> 1 in a warm worker: same phases, env, logs and SIGTERM drain as a fresh replica", async () => {
    process.env.LEAK_SECRET = "s3cret";
    onTestFinished(() => void delete process.env.LEAK_SECRET);
    const lines: LogLine[] = [];
    const t = await startPooledBackend({ onLog: (l) => lines.push(l), platformEnv: { SKIFF_NATS_URL: "nats://127.0.0.1:4222" } });
    const revision = behaviours({ GREETING: "hey" });
    t.backend.scale(revision, 1);
    const [replica] = await t.waitPhase(revision, "ready");
    expect(replica).toMatchObject({ pooled: true, url: expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+$/) });
    expect(t.warm).toContain(replica!.pid);
    expect(t.phases(replica!.id)).toEqual(["starting", "ready"]);
    expect(await (await fetch(`${replica!.url}/hello`)).text()).toBe("hey from behaviours");
    expect(await (await fetch(`${replica!.url}/env`)).json()).toEqual({ env: { INIT_DELAY_MS: "0", GREETING: "hey" }, leaked: [] });
    // The kernel keeps the worker's launch env: nothing a fresh replica would not get (and Node's IPC fd).
    const kernelKeys = kernelEnvKeys(replica!.pid!);
    if (kernelKeys) expect(kernelKeys).toEqual(["NODE_CHANNEL_FD", "NODE_CHANNEL_SERIALIZATION_MODE", "NODE_ENV", "PATH"]);
    // Idle workers are not replicas, and the replica is no longer the pool's.
    expect(t.backend.snapshot().map((r) => r.id)).toEqual([replica!.id]);
    await waitFor(() => t.backend.poolWorkers().filter((w) => w.warm).length === 2, { what: "the pool refilled" });
    expect(t.backend.poolWorkers().map((w) => w.pid)).not.toContain(replica!.pid);

    t.backend.scale(revision, 0);
    const exited = await t.waitExited(replica!.id);
    expect(exited.exitReason).toBe("exited with code 0");
    expect(t.phases(replica!.id)).toEqual(["starting", "ready", "draining", "exited"]);
    await waitFor(() => lines.some((l) => l.text === "shutdown hook ran (in flight 0)"), { what: "the shutdown hook's line" });
    // Every line is the replica's own: listening, ready, SIGTERM, shutdown, stopped; none from idle workers.
    expect(new Set(lines.map((l) => l.replica))).toEqual(new Set([replica!.id]));
    expect(lines.map((l) => l.text.replace(/^\d{4}-\d\d-\d\dT\S+ /, ""))).toEqual([
      expect.stringMatching(/^INFO +listening fn=behaviours port=\d+$/),
      expect.stringMatching(/^INFO +ready fn=behaviours initMs=\d+$/),
      expect.stringMatching(/^INFO +SIGTERM: draining fn=behaviours$/),
      "shutdown hook ran (in flight 0)",
      expect.stringMatching(/^INFO +stopped fn=behaviours$/),
    ]);
  });

  it("reports a kill -9'd pooled replica exited with its signal and replaces it", async () => {
    const t = await startPooledBackend();
    const revision = behaviours();
    t.backend.scale(revision, 1);
    const [victim] = await t.waitPhase(revision, "ready");
    expect(victim!.pooled).toBe(true);
    process.kill(victim!.pid!, "SIGKILL");
    expect((await t.waitExited(victim!.id)).exitReason).toBe("killed by SIGKILL");
    const [replacement] = await t.waitPhase(revision, "ready");
    expect(replacement!.id).not.toBe(victim!.id);
    expect((await fetch(`${replacement!.url}/hello`)).status).toBe(200);
  });

  it("SIGKILLs a pooled replica that ignores SIGTERM after the grace, as a fresh one", async () => {
    const t = await startPooledBackend({ drainGraceMs: 200, killMarginMs: 100 });
    const revision = handRevision("stubborn", HAND_BUNDLES.stubborn);
    t.backend.scale(revision, 1);
    const [replica] = await t.waitPhase(revision, "ready");
    expect(replica!.pooled).toBe(true);
    t.backend.scale(revision, 0);
    expect((await t.waitExited(replica!.id)).exitReason).toBe("killed by SIGKILL after the drain grace (300ms)");
  });

  it("finds the port by probing in a pooled worker when LOG_LEVEL hides the listening line", async () => {
    const t = await startPooledBackend();
    const revision = behaviours({ LOG_LEVEL: "warn" });
    t.backend.scale(revision, 1);
    const [replica] = await t.waitPhase(revision, "ready");
    expect(replica!.pooled).toBe(true);
    expect((await fetch(`${replica!.url}/hello`)).status).toBe(200);
  });

  it("spawns fresh when the function sets a variable Node reads only at startup", async () => {
    const t = await startPooledBackend();
    const revision = behaviours({ NODE_OPTIONS: "--max-old-space-size=256" });
    t.backend.scale(revision, 1);
    const [replica] = await t.waitPhase(revision, "ready");
    expect(replica!.pooled).toBeUndefined();
    expect(t.warm).not.toContain(replica!.pid);
  });

  it("stop() leaves neither replicas nor idle workers", async () => {
    const t = await startPooledBackend();
    const revision = behaviours();
    t.backend.scale(revision, 1);
    const [replica] = await t.waitPhase(revision, "ready");
    const idle = t.backend.poolWorkers().map((w) => w.pid!);
    await t.backend.stop();
    for (const pid of [...t.warm, ...idle, replica!.pid!]) expect(() => process.kill(pid, 0), `pid ${pid}`).toThrow();
    expect(t.backend.poolWorkers()).toEqual([]);
  });
});
