// coldstart: spawn-to-first-200 of functions/hello's bundle (a) in a freshly spawned process, as
// the process backend did before its pool, (b) in a warm pool worker (take + assign, with the
// pool refilling in the background as it does in the backend), and (c) a bare node:http server,
// the floor. One run, alternating (a)/(b)/(c) with a rotating first, medians. Also the time to
// the runtime's "listening" line, which splits the cold start into process start + bundle load
// (up to listening) and the rest (init, first request).
import { type ChildProcess, spawn } from "node:child_process";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { loadAndBuild } from "../../cli/build-function.ts";
import { type ReplicaPool, makeReplicaEnv, spawnPoolWorker, startReplicaPool } from "../../controller/backends/process/index.ts";
import { makeLineSplitter, parseListeningPort } from "../../controller/backends/process/output.ts";
import type { Revision } from "../../controller/types.ts";
import { freePort } from "../../test/harness/ports.ts";
import { firstResponseMs, median, round2 } from "../harness.ts";

const HELLO = fileURLToPath(new URL("../../functions/hello", import.meta.url));
const BARE = fileURLToPath(new URL("../bare-hello.mjs", import.meta.url));
const ITERATIONS = 15;
/** Discarded first rounds: the first spawns pay for a cold disk cache. */
const WARMUP_ITERATIONS = 2;
const POOL_SIZE = 2;

type Kind = "fresh" | "pooled" | "bare";
/** One boot: to first 200, and to the runtime's listening line (undefined for the bare server). */
interface Boot {
  firstMs: number;
  listenMs: number | undefined;
}

/** Runs the suite and returns its figures. */
export async function run(): Promise<Record<string, unknown>> {
  const build = await loadAndBuild(HELLO);
  const revision: Revision = { id: "hello-bench", fn: "hello", spec: build.spec, bundleDir: build.outDir, contentHash: "", createdAtMs: 0 };
  const warmMs: number[] = [];
  const pool = startReplicaPool({ size: POOL_SIZE, spawnWorker: () => timedWorker(warmMs) });
  const boots: Record<Kind, Boot[]> = { fresh: [], pooled: [], bare: [] };
  try {
    for (let i = 0; i < WARMUP_ITERATIONS + ITERATIONS; i++) {
      const order = rotate<Kind>(["fresh", "pooled", "bare"], i);
      for (const kind of order) {
        // Each boot starts on a quiet machine with a full pool, as a scale-from-zero would.
        await poolWarm(pool);
        const boot = await bootOnce(kind, revision, pool, i);
        if (i >= WARMUP_ITERATIONS) boots[kind].push(boot);
      }
      if (i >= WARMUP_ITERATIONS) progress(i - WARMUP_ITERATIONS, boots);
    }
  } finally {
    await pool.stop();
  }
  return figures(boots, warmMs);
}

function figures(boots: Record<Kind, Boot[]>, warmMs: number[]): Record<string, unknown> {
  const first = (kind: Kind) => median(boots[kind].map((b) => b.firstMs));
  const listen = (kind: Kind) => median(boots[kind].map((b) => b.listenMs!));
  const [freshMs, pooledMs, bareMs] = [first("fresh"), first("pooled"), first("bare")];
  return {
    ratio: round2(pooledMs / freshMs),
    target: "<= 0.7 (pool on by default)",
    freshMs: round2(freshMs),
    pooledMs: round2(pooledMs),
    bareMs: round2(bareMs),
    // Spawn (or assign) to the "listening" line: process start + bundle load + bind.
    freshListenMs: round2(listen("fresh")),
    pooledListenMs: round2(listen("pooled")),
    // Listening to first 200: init, the first request through Hono, our polling.
    freshAfterListenMs: round2(median(boots.fresh.map((b) => b.firstMs - b.listenMs!))),
    pooledAfterListenMs: round2(median(boots.pooled.map((b) => b.firstMs - b.listenMs!))),
    // What the pool pays per worker in the background: spawn to "warm".
    workerWarmMs: round2(median(warmMs)),
    iterations: ITERATIONS,
    poolSize: POOL_SIZE,
  };
}

async function bootOnce(kind: Kind, revision: Revision, pool: ReplicaPool, i: number): Promise<Boot> {
  const port = await freePort();
  const env = makeReplicaEnv({ revision, replicaId: `bench-r${i}`, port, host: "127.0.0.1", drainGraceMs: 1000, hostPath: process.env.PATH });
  const bundlePath = join(revision.bundleDir, "index.mjs");
  const started = performance.now();
  let child: ChildProcess;
  if (kind === "pooled") {
    const worker = pool.take();
    if (!worker) throw new Error("no warm pool worker");
    child = worker.child;
    worker.assign({ bundlePath, cwd: revision.bundleDir, env, title: `skiff-replica bench-r${i}` });
  } else {
    const [script, args] = kind === "bare" ? [BARE, []] : [bundlePath, ["--enable-source-maps"]];
    child = spawn(process.execPath, [...args, script], { cwd: revision.bundleDir, env, stdio: ["ignore", "pipe", "inherit"], detached: true });
  }
  const listening = listeningAt(child, started);
  try {
    const firstMs = await firstResponseMs(port, "/", child, started);
    return { firstMs, listenMs: kind === "bare" ? undefined : await listening };
  } finally {
    await killAndWait(child);
  }
}

/** Milliseconds from `started` to the runtime's "listening" line on the child's stdout. */
function listeningAt(child: ChildProcess, started: number): Promise<number> {
  return new Promise((resolve) => {
    const splitter = makeLineSplitter((line) => {
      if (parseListeningPort(line) !== undefined) resolve(performance.now() - started);
    });
    child.stdout?.on("data", (chunk: Buffer) => splitter.push(chunk));
  });
}

/** A pool worker whose spawn-to-warm time is recorded. */
function timedWorker(warmMs: number[]): ChildProcess {
  const started = performance.now();
  const child = spawnPoolWorker({ hostPath: process.env.PATH });
  child.once("message", () => warmMs.push(performance.now() - started));
  return child;
}

async function poolWarm(pool: ReplicaPool): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (pool.workers().filter((w) => w.warm).length < POOL_SIZE) {
    if (Date.now() > deadline) throw new Error("pool did not warm up in 10s");
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

async function killAndWait(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once("exit", resolve));
  process.kill(-child.pid!, "SIGKILL");
  await exited;
}

function rotate<T>(items: T[], by: number): T[] {
  const k = by % items.length;
  return [...items.slice(k), ...items.slice(0, k)];
}

function progress(i: number, boots: Record<Kind, Boot[]>): void {
  const last = (kind: Kind) => round2(boots[kind].at(-1)!.firstMs);
  process.stderr.write(`boot ${i + 1}/${ITERATIONS}: fresh ${last("fresh")}ms, pooled ${last("pooled")}ms, bare ${last("bare")}ms\n`);
}
