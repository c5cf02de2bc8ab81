// batching: functions/ocr-recognize (PP-OCRv4 recognizer over OIP v2) built twice, as is
// (`batch: {maxSize: 16, maxDelay: 5ms}`) and without `batch`, each run as a real replica with
// the same env and CPU share (one onnxruntime thread), pinned to the same core, under the same
// closed-loop load: 16 clients each sending one real text-line crop of the OCR fixture per
// request. Alternating rounds; ratio = batched / unbatched throughput. Then the cold start of
// ocr-recognize from zero, split at the runtime's "listening" line into process start + bundle
// load, and init (the ONNX session load) up to /_skiff/ready, fresh and in a warm pool worker.
// Also the bare session's per-row cost at batch 1 and 16 (no HTTP), the ceiling of the ratio.
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { cpus } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { buildFunction, type BuildResult } from "../../builder/index.ts";
import { loadAndBuild } from "../../cli/build-function.ts";
import { makeReplicaEnv } from "../../controller/backends/process/env.ts";
import { makeLineSplitter, parseListeningPort } from "../../controller/backends/process/output.ts";
import { killGroup, makePoolWorker, spawnPoolWorker } from "../../controller/backends/process/pool-worker-process.ts";
import type { Revision } from "../../controller/types.ts";
import { freePort } from "../../test/harness/ports.ts";
import { median, round2 } from "../harness.ts";
import { closedLoop, type InferBody, makeCropRequest, modelRowCosts, postInfer, quantile } from "../ocr-load.ts";

const OCR_RECOGNIZE = fileURLToPath(new URL("../../functions/ocr-recognize", import.meta.url));
const CLIENTS = 16;
const ROUND_MS = 6_000;
const ROUNDS = 3;
const WARM_MS = 1_500;
const COLD_ITERATIONS = 5;
/** On 2+ cores the replicas share core 1 (cpu "1" in function.yaml), the load runs on core 0. */
const PIN = spawnSync("sh", ["-c", "command -v taskset"]).status === 0 && cpus().length >= 2;

type Variant = "batched" | "unbatched";
interface Replica {
  child: ChildProcess;
  url: string;
}

/** Runs the suite and returns its figures. */
export async function run(): Promise<Record<string, unknown>> {
  progress("building ocr-recognize (batched and unbatched)");
  const builds = await buildVariants();
  progress("making the crop request from the fixture");
  const infer = await makeCropRequest();
  if (PIN) spawnSync("taskset", ["-a", "-c", "-p", "0", String(process.pid)]);
  const rowMs = await modelRowCosts(infer.shape);
  const modelRowMs = Object.fromEntries(Object.entries(rowMs).map(([rows, ms]) => [rows, round2(ms)]));
  progress(`model alone, ms per row by batch size: ${JSON.stringify(modelRowMs)}`);
  const throughput = await measureThroughput(builds, infer);
  const cold = await measureColdStart(builds.batched, infer);
  // The most batching could gain on this CPU: per-row cost of the bare session at batch 1 over
  // the cheapest per-row cost at any batch size.
  const modelBatchGain = round2(rowMs[1]! / Math.min(...Object.values(rowMs)));
  return { ...throughput, modelRowMs, modelBatchGain, ...cold };
}

/** The function as is, and the same sources with `batch` removed, built to a separate folder. */
async function buildVariants(): Promise<Record<Variant, BuildResult>> {
  const batched = await loadAndBuild(OCR_RECOGNIZE);
  if (!batched.spec.batch) throw new Error("functions/ocr-recognize/function.yaml has no batch section");
  const { batch: _batch, ...unbatchedSpec } = batched.spec;
  const unbatched = await buildFunction({ dir: OCR_RECOGNIZE, spec: unbatchedSpec, outDir: join(OCR_RECOGNIZE, ".skiff", "build", "ocr-recognize-unbatched"), force: false });
  return { batched, unbatched };
}

async function measureThroughput(builds: Record<Variant, BuildResult>, infer: InferBody): Promise<Record<string, unknown>> {
  const replicas = {} as Record<Variant, Replica>;
  try {
    for (const variant of ["batched", "unbatched"] as const) replicas[variant] = await startReady(builds[variant], variant, PIN);
    for (const variant of ["batched", "unbatched"] as const) await warm(replicas[variant], infer);
    const before = await batchSizeTotals(replicas.batched.url);
    const rps: Record<Variant, number[]> = { batched: [], unbatched: [] };
    const latencies: Record<Variant, number[]> = { batched: [], unbatched: [] };
    for (let round = 0; round < ROUNDS; round++) {
      const order: Variant[] = round % 2 === 0 ? ["unbatched", "batched"] : ["batched", "unbatched"];
      for (const variant of order) {
        const result = await closedLoop(`${replicas[variant].url}/v2/models/ocr-recognize/infer`, infer, { clients: CLIENTS, durationMs: ROUND_MS });
        rps[variant].push(result.rps);
        latencies[variant].push(...result.latenciesMs);
        progress(`round ${round + 1}/${ROUNDS} ${variant}: ${round2(result.rps)} infers/s, p50 ${round2(quantile(result.latenciesMs, 0.5))} ms, p99 ${round2(quantile(result.latenciesMs, 0.99))} ms`);
      }
    }
    const after = await batchSizeTotals(replicas.batched.url);
    const unbatchedCalls = await batchSizeTotals(replicas.unbatched.url);
    if (unbatchedCalls.count !== 0) throw new Error("the unbatched replica reported batches: its build still has `batch`");
    return throughputFigures(rps, latencies, (after.sum - before.sum) / (after.count - before.count), infer.shape);
  } finally {
    await Promise.all(Object.values(replicas).map((r) => killAndWait(r.child)));
  }
}

function throughputFigures(rps: Record<Variant, number[]>, latencies: Record<Variant, number[]>, meanBatchSize: number, shape: number[]): Record<string, unknown> {
  const total = (v: Variant) => rps[v].reduce((a, b) => a + b, 0) / rps[v].length;
  const p = (v: Variant, q: number) => quantile(latencies[v], q);
  return {
    ratio: round2(total("batched") / total("unbatched")),
    target: ">= 2 with p99Ratio <= 2",
    batchedRps: round2(total("batched")),
    unbatchedRps: round2(total("unbatched")),
    roundRatios: rps.batched.map((b, i) => round2(b / rps.unbatched[i]!)),
    batchedP50Ms: round2(p("batched", 0.5)),
    batchedP99Ms: round2(p("batched", 0.99)),
    unbatchedP50Ms: round2(p("unbatched", 0.5)),
    unbatchedP99Ms: round2(p("unbatched", 0.99)),
    p99Ratio: round2(p("batched", 0.99) / p("unbatched", 0.99)),
    meanBatchSize: round2(meanBatchSize),
    clients: CLIENTS,
    roundS: ROUND_MS / 1000,
    rounds: ROUNDS,
    input: shape,
    pinned: PIN,
  };
}

/** Spawns a replica of `build` (pinned to core 1 if asked) and waits for /_skiff/ready. */
async function startReady(build: BuildResult, variant: Variant, pin: boolean): Promise<Replica> {
  const port = await freePort();
  const child = spawnReplica(build, port, `bench-${variant}`, pin);
  child.stdout?.resume();
  const url = `http://127.0.0.1:${port}`;
  await pollStatus(`${url}/_skiff/ready`, child, 30_000);
  progress(`${variant} replica ready on ${url}`);
  return { child, url };
}

/** A fresh `node --enable-source-maps index.mjs` with the env the process backend gives a replica. */
function spawnReplica(build: BuildResult, port: number, replicaId: string, pin: boolean): ChildProcess {
  const node = [process.execPath, "--enable-source-maps", build.bundlePath];
  const [command, ...args] = pin ? ["taskset", "-c", "1", ...node] : node;
  return spawn(command!, args, { cwd: build.outDir, env: replicaEnv(build, port, replicaId), stdio: ["ignore", "pipe", "inherit"], detached: true });
}

function replicaEnv(build: BuildResult, port: number, replicaId: string): Record<string, string> {
  const revision: Revision = { id: "ocr-recognize-bench", fn: "ocr-recognize", spec: build.spec, bundleDir: build.outDir, contentHash: "", createdAtMs: 0 };
  // SKIFF_CPU_MILLIS comes from resources.cpu ("1"): one onnxruntime thread in both variants.
  return makeReplicaEnv({ revision, replicaId, port, host: "127.0.0.1", drainGraceMs: 1000, hostPath: process.env.PATH });
}

/** Closed-loop load for a short while (JIT, onnxruntime's arena at every batch size), and a check that it reads text. */
async function warm(replica: Replica, infer: InferBody): Promise<void> {
  const { status, text } = await postInfer(`${replica.url}/v2/models/ocr-recognize/infer`, infer);
  const read = (JSON.parse(text) as { outputs: { name: string; data: unknown[] }[] }).outputs.find((o) => o.name === "text")?.data[0];
  if (status !== 200 || typeof read !== "string" || read.trim() === "") throw new Error(`warm-up infer answered ${status}: ${text.slice(0, 200)}`);
  progress(`warming ${replica.url}: the crop reads ${JSON.stringify(read)}`);
  await closedLoop(`${replica.url}/v2/models/ocr-recognize/infer`, infer, { clients: CLIENTS, durationMs: WARM_MS });
}

/** skiff_batch_size's sum and count from a replica's metrics (0 when the series is absent). */
async function batchSizeTotals(url: string): Promise<{ sum: number; count: number }> {
  const metrics = await (await fetch(`${url}/_skiff/metrics`)).text();
  const read = (name: string) => Number(new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)`, "m").exec(metrics)?.[1] ?? 0);
  return { sum: read("skiff_batch_size_sum"), count: read("skiff_batch_size_count") };
}

type ColdKind = "fresh" | "pooled";
interface ColdBoot {
  listenMs: number;
  readyMs: number;
}

/** Cold starts from zero, alternating fresh process and warm pool worker; medians. */
async function measureColdStart(build: BuildResult, infer: InferBody): Promise<Record<string, unknown>> {
  const boots: Record<ColdKind, ColdBoot[]> = { fresh: [], pooled: [] };
  for (let i = 0; i < COLD_ITERATIONS; i++) {
    for (const kind of (i % 2 === 0 ? ["fresh", "pooled"] : ["pooled", "fresh"]) as ColdKind[]) {
      const boot = await coldBoot(kind, build, infer, i);
      boots[kind].push(boot);
      progress(`cold start ${i + 1}/${COLD_ITERATIONS} ${kind}: listening ${round2(boot.listenMs)} ms, ready ${round2(boot.readyMs)} ms`);
    }
  }
  const m = (kind: ColdKind, f: (b: ColdBoot) => number) => round2(median(boots[kind].map(f)));
  return {
    coldFreshListenMs: m("fresh", (b) => b.listenMs),
    coldFreshInitMs: m("fresh", (b) => b.readyMs - b.listenMs),
    coldFreshReadyMs: m("fresh", (b) => b.readyMs),
    coldPooledListenMs: m("pooled", (b) => b.listenMs),
    coldPooledInitMs: m("pooled", (b) => b.readyMs - b.listenMs),
    coldPooledReadyMs: m("pooled", (b) => b.readyMs),
    coldIterations: COLD_ITERATIONS,
  };
}

/** One boot to /_skiff/ready; a pool worker is spawned and warmed before the clock starts. */
async function coldBoot(kind: ColdKind, build: BuildResult, infer: InferBody, i: number): Promise<ColdBoot> {
  const port = await freePort();
  const env = replicaEnv(build, port, `bench-cold-${i}`);
  const worker = kind === "pooled" ? await warmPoolWorker() : undefined;
  const started = performance.now();
  let child: ChildProcess;
  if (worker) {
    child = worker;
    makePoolWorker(worker).assign({ bundlePath: build.bundlePath, cwd: build.outDir, env, title: `skiff-replica bench-cold-${i}` });
  } else {
    child = spawn(process.execPath, ["--enable-source-maps", build.bundlePath], { cwd: build.outDir, env, stdio: ["ignore", "pipe", "inherit"], detached: true });
  }
  const listening = listeningAt(child, started);
  try {
    await pollStatus(`http://127.0.0.1:${port}/_skiff/ready`, child, 30_000);
    const readyMs = performance.now() - started;
    const { status } = await postInfer(`http://127.0.0.1:${port}/v2/models/ocr-recognize/infer`, infer);
    if (status !== 200) throw new Error(`first infer after a ${kind} cold start answered ${status}`);
    return { listenMs: await listening, readyMs };
  } finally {
    await killAndWait(child);
  }
}

async function warmPoolWorker(): Promise<ChildProcess> {
  const child = spawnPoolWorker({ hostPath: process.env.PATH });
  child.stderr?.resume();
  await new Promise<void>((resolve, reject) => {
    child.once("message", () => resolve());
    child.once("exit", (code) => reject(new Error(`pool worker exited with ${code} before it was warm`)));
  });
  return child;
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

/** Polls `url` every 2 ms (not flat out: the replica loading its model shares the CPU) until 200. */
async function pollStatus(url: string, child: ChildProcess, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`replica exited (${child.exitCode ?? child.signalCode}) before ${url} answered 200`);
    if (Date.now() > deadline) throw new Error(`${url} did not answer 200 in ${timeoutMs} ms`);
    const status = await fetch(url).then((r) => (r.body?.cancel(), r.status), () => 0);
    if (status === 200) return;
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}

async function killAndWait(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once("exit", resolve));
  killGroup(child.pid!);
  await exited;
}

function progress(message: string): void {
  process.stderr.write(`batching: ${message}\n`);
}
