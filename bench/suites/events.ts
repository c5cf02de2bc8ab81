// events: CloudEvents through NATS JetStream, in one run on one nats-server (the platform's own):
// (a) raw: publishEvent (binary mode) into a stream and consume-and-ack with a plain pull
// consumer, no HTTP; (b) end to end: the same events on a warm event-only function's trigger,
// each delivered by the platform's dispatcher through the gateway as one HTTP request, counted
// by their replies on the reply subject (core NATS). Alternating rounds; ratio = median of
// per-round (b)/(a). (c) publish-to-final-reply latency of a warm two-stage chain, sequential.
//
// The platform runs in a worker thread (startPlatform there, as `skiff up` runs it in its own
// process): the publisher and the reply counter must not take turns with the dispatcher and the
// gateway on one event loop, which would charge the platform for the load generator.
import { AckPolicy, DeliverPolicy, jetstream, jetstreamManager, StorageType, type JetStreamClient, type JetStreamManager } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/nats-core";
import { CloudEvent } from "cloudevents";
import { cp, mkdtemp, rm, writeFile } from "node:fs/promises";
import { cpus, tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { isMainThread, parentPort, Worker, workerData } from "node:worker_threads";
import { performance, type EventLoopUtilization } from "node:perf_hooks";
import { loadAndBuild } from "../../cli/build-function.ts";
import { makeControlClient, readFilesFromDir, type ControlClient } from "../../controller/api/index.ts";
import { fromNatsMsg, NATS, publishEvent } from "../../controller/events/index.ts";
import { connectNats } from "../../controller/nats/index.ts";
import { startPlatform } from "../../controller/platform/index.ts";
import { median, round2 } from "../harness.ts";

const STAGE = fileURLToPath(new URL("../../test/fixtures/stage", import.meta.url));
/** Events per throughput round. */
const EVENTS = 2_000;
const ROUNDS = 5;
/** Publishes in flight at once (each is a JetStream request answered once stored). */
const PUBLISH_WINDOW = 64;
const CHAIN_EVENTS = 200;
const WARMUP_EVENTS = 200;
const RAW_STREAM = "BENCH_RAW";
const RAW_SUBJECT = "bench.raw";
const E2E = { name: "bench-sink", subject: "bench.e2e.in", reply: "bench.e2e.out" };
const CHAIN = { in: "bench.chain.in", mid: "bench.chain.mid", out: "bench.chain.out" };
const ROUND_TIMEOUT_MS = 20_000;

interface Pub {
  nc: NatsConnection;
  js: JetStreamClient;
  jsm: JetStreamManager;
}

/** Runs the suite and returns its figures. */
export async function run(): Promise<Record<string, unknown>> {
  const stateDir = await mkdtemp(join(tmpdir(), "skiff-bench-events-"));
  const platform = await startPlatformThread(stateDir).catch(async (error: unknown) => {
    await rm(stateDir, { recursive: true, force: true });
    throw error;
  });
  const nc = await connectNats(platform.natsUrl, { name: "bench" });
  try {
    const client = makeControlClient({ url: platform.apiUrl, token: platform.token });
    await deployStages(client, stateDir);
    const pub: Pub = { nc, js: jetstream(nc), jsm: await jetstreamManager(nc) };
    await pub.jsm.streams.add({ name: RAW_STREAM, subjects: [RAW_SUBJECT], storage: StorageType.File });
    progress("warming up");
    await rawRound(pub, WARMUP_EVENTS, -1);
    await e2eRound(pub, WARMUP_EVENTS, -1);
    await chainLatencies(pub, 20, -1);
    const raw: Array<Round & Load> = [];
    const e2e: Array<Round & Load> = [];
    for (let round = 0; round < ROUNDS; round++) {
      // Alternate which goes first so a drifting machine favours neither.
      const order = round % 2 ? ["e2e", "raw"] : ["raw", "e2e"];
      for (const kind of order) {
        if (kind === "raw") raw.push(await measured(platform, () => rawRound(pub, EVENTS, round)));
        else e2e.push(await measured(platform, () => e2eRound(pub, EVENTS, round)));
      }
      progress(`round ${round + 1}/${ROUNDS}: raw ${Math.round(raw.at(-1)!.perSecond)}/s, end to end ${Math.round(e2e.at(-1)!.perSecond)}/s`);
    }
    const latencies = await chainLatencies(pub, CHAIN_EVENTS, 0);
    const sinkReplicas = (await client.describe(E2E.name)).replicas;
    return figures(raw, e2e, latencies, sinkReplicas.ready);
  } finally {
    await nc.close();
    await platform.stop();
    await rm(stateDir, { recursive: true, force: true });
  }
}

/** Where the platform thread listens. */
interface PlatformAddress {
  apiUrl: string;
  token: string;
  natsUrl: string;
}

/** Starts the platform (its own nats-server, ports 0) in a worker thread running this module. */
async function startPlatformThread(stateDir: string): Promise<PlatformAddress & { loopUtilization(since?: EventLoopUtilization): EventLoopUtilization; stop(): Promise<void> }> {
  // tsx's loader hooks do not reach a worker on Node 20: the worker registers them itself.
  const boot = `import("tsx/esm/api").then(({ register }) => { register(); return import(${JSON.stringify(import.meta.url)}); })`;
  const worker = new Worker(boot, { eval: true, workerData: { role: "platform", stateDir } });
  const exited = new Promise<void>((resolve) => worker.once("exit", () => resolve()));
  const address = await new Promise<PlatformAddress>((resolve, reject) => {
    worker.once("message", resolve);
    worker.once("error", reject);
    worker.once("exit", (code) => reject(new Error(`the platform thread exited with ${code} before starting`)));
  });
  return {
    ...address,
    loopUtilization: (since) => (since ? worker.performance.eventLoopUtilization(since) : worker.performance.eventLoopUtilization()),
    stop: async () => (worker.postMessage("stop"), await exited),
  };
}

/** The worker side: starts the platform, reports where it listens, and stops it on "stop". */
async function platformThread(stateDir: string): Promise<void> {
  const quiet = { info() {}, warn() {}, error: (msg: string, fields?: unknown) => console.error(msg, fields) };
  const platform = await startPlatform({ stateDir, port: 0, logger: quiet, readyTimeoutMs: 30_000 });
  parentPort!.once("message", () => void platform.stop().then(() => process.exit(0)));
  parentPort!.postMessage({ apiUrl: platform.apiUrl, token: platform.token, natsUrl: platform.natsUrl } satisfies PlatformAddress);
}

if (!isMainThread && (workerData as { role?: string } | undefined)?.role === "platform") await platformThread((workerData as { stateDir: string }).stateDir);

interface Round {
  perSecond: number;
  /** First publish to the last publish acknowledged. */
  publishMs: number;
}

/** Where the CPU went during a round: event-loop utilization of each thread, and of the whole machine. */
interface Load {
  platformLoop: number;
  benchLoop: number;
  machine: number;
}

/** Runs a round and records the load it put on the platform's thread, ours and the machine. */
async function measured(platform: { loopUtilization(since?: EventLoopUtilization): EventLoopUtilization }, round: () => Promise<Round>): Promise<Round & Load> {
  const [platform0, bench0, machine0] = [platform.loopUtilization(), performance.eventLoopUtilization(), machineTimes()];
  const result = await round();
  const machine1 = machineTimes();
  return {
    ...result,
    platformLoop: platform.loopUtilization(platform0).utilization,
    benchLoop: performance.eventLoopUtilization(bench0).utilization,
    machine: 1 - (machine1.idle - machine0.idle) / (machine1.total - machine0.total),
  };
}

/** Idle and total CPU time of every core, summed. */
function machineTimes(): { idle: number; total: number } {
  let idle = 0;
  let total = 0;
  for (const { times } of cpus()) {
    idle += times.idle;
    total += times.user + times.nice + times.sys + times.idle + times.irq;
  }
  return { idle, total };
}

function figures(raw: Array<Round & Load>, e2e: Array<Round & Load>, latencies: number[], sinkReplicas: number): Record<string, unknown> {
  const ratios = raw.map((r, i) => e2e[i]!.perSecond / r.perSecond);
  const sorted = [...latencies].sort((a, b) => a - b);
  const pct = (p: number) => sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
  return {
    ratio: round2(median(ratios)),
    target: ">= 0.25",
    events: EVENTS,
    rounds: ROUNDS,
    rawPerSecond: Math.round(median(raw.map((r) => r.perSecond))),
    e2ePerSecond: Math.round(median(e2e.map((r) => r.perSecond))),
    roundRatios: ratios.map(round2),
    // Publishing alone (window of PUBLISH_WINDOW): the ceiling of both measurements.
    rawPublishMs: round2(median(raw.map((r) => r.publishMs))),
    e2ePublishMs: round2(median(e2e.map((r) => r.publishMs))),
    // Busy share of the platform's event loop (dispatcher + gateway), of ours (publisher, counter), and of all cores.
    e2ePlatformLoopBusy: round2(median(e2e.map((r) => r.platformLoop))),
    e2eBenchLoopBusy: round2(median(e2e.map((r) => r.benchLoop))),
    e2eMachineBusy: round2(median(e2e.map((r) => r.machine))),
    rawBenchLoopBusy: round2(median(raw.map((r) => r.benchLoop))),
    rawMachineBusy: round2(median(raw.map((r) => r.machine))),
    cores: cpus().length,
    sinkReadyReplicas: sinkReplicas,
    chainEvents: latencies.length,
    chainP50Ms: round2(pct(50)),
    chainP95Ms: round2(pct(95)),
    chainMaxMs: round2(sorted.at(-1)!),
  };
}

/** Deploys the end-to-end sink and the two chain stages (test/fixtures/stage), all warm (min 1). */
async function deployStages(client: ControlClient, stateDir: string): Promise<void> {
  const stages = [
    { name: E2E.name, subject: E2E.subject, reply: E2E.reply, scale: "{ min: 1, max: 2, concurrency: 50 }" },
    { name: "bench-stage-a", subject: CHAIN.in, reply: CHAIN.mid, scale: "{ min: 1, max: 1 }" },
    { name: "bench-stage-b", subject: CHAIN.mid, reply: CHAIN.out, scale: "{ min: 1, max: 1 }" },
  ];
  for (const stage of stages) {
    const dir = join(stateDir, "src", stage.name);
    await cp(STAGE, dir, { recursive: true, filter: (src) => !src.includes(".skiff") });
    await writeFile(
      join(dir, "function.yaml"),
      `name: ${stage.name}\nentry: index.ts\nhttp: false\nevents:\n  - subject: ${stage.subject}\n    reply: ${stage.reply}\n` +
        `scale: ${stage.scale}\nenv:\n  FACTOR: "1"\n  REPLY_TYPE: ${stage.name}.done\n`,
    );
    const build = await loadAndBuild(dir);
    await client.deploy(build.spec.name, { spec: build.spec, files: await readFilesFromDir(build.outDir) });
    progress(`deployed ${stage.name}`);
  }
}

/** The events of one round: ids and data.n unique across rounds, so stray replies are never counted. */
function makeEvents(count: number, round: number): CloudEvent<unknown>[] {
  return Array.from({ length: count }, (_, i) => {
    const n = (round + 1) * 1_000_000 + i;
    return new CloudEvent<unknown>({ type: "bench.event", source: "/bench", id: `r${round}-${i}`, datacontenttype: "application/json", data: { n } }, false);
  });
}

/** Publishes every event through publishEvent (binary mode), PUBLISH_WINDOW at a time; resolves when all are stored. */
async function publishAll(pub: Pub, subject: string, events: CloudEvent<unknown>[]): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < events.length) {
      const result = await publishEvent(pub.js, pub.nc, subject, events[next++]!);
      if (!result.stored) throw new Error(`an event on ${subject} was not stored in JetStream`);
    }
  };
  await Promise.all(Array.from({ length: PUBLISH_WINDOW }, worker));
}

/** (a) publish `count` events and consume-and-ack them with a plain pull consumer; events/s from first publish to last ack. */
async function rawRound(pub: Pub, count: number, round: number): Promise<Round> {
  const name = `bench-raw-${round + 1}`;
  // Created before publishing, delivering only what comes after: exactly this round's events.
  await pub.jsm.consumers.add(RAW_STREAM, { durable_name: name, ack_policy: AckPolicy.Explicit, deliver_policy: DeliverPolicy.New });
  const consumer = await pub.js.consumers.get(RAW_STREAM, name);
  const messages = await consumer.consume();
  let acked = 0;
  const consumed = (async () => {
    for await (const msg of messages) {
      msg.ack();
      if (++acked === count) return performance.now();
    }
    throw new Error(`the raw consumer ended after ${acked} of ${count} events`);
  })();
  const started = performance.now();
  await publishAll(pub, RAW_SUBJECT, makeEvents(count, round));
  const publishMs = performance.now() - started;
  const lastAck = await within(consumed, `raw round: ${count} events consumed`, () => `${acked} acked`);
  await messages.close();
  await pub.jsm.consumers.delete(RAW_STREAM, name);
  return { perSecond: (count * 1_000) / (lastAck - started), publishMs };
}

/** (b) publish `count` events on the sink's trigger; events/s from first publish to the last reply. */
async function e2eRound(pub: Pub, count: number, round: number): Promise<Round> {
  const events = makeEvents(count, round);
  const wanted = new Set(events.map((e) => (e.data as { n: number }).n));
  let lastReply = 0;
  const done = new Promise<void>((resolve) => {
    const sub = pub.nc.subscribe(E2E.reply, {
      callback: (_error, msg) => {
        const n = (NATS.toEvent<{ n: number }>(fromNatsMsg(msg)).data as { n: number }).n;
        if (!wanted.delete(n) || wanted.size > 0) return;
        lastReply = performance.now();
        sub.unsubscribe();
        resolve();
      },
    });
  });
  await pub.nc.flush();
  const started = performance.now();
  await publishAll(pub, E2E.subject, events);
  const publishMs = performance.now() - started;
  await within(done, `end-to-end round: ${count} replies on ${E2E.reply}`, () => `${count - wanted.size} replied`);
  return { perSecond: (count * 1_000) / (lastReply - started), publishMs };
}

/** (c) one event at a time into the two-stage chain: milliseconds from publish to the final reply. */
async function chainLatencies(pub: Pub, count: number, round: number): Promise<number[]> {
  const waiting = new Map<number, () => void>();
  const sub = pub.nc.subscribe(CHAIN.out, {
    callback: (_error, msg) => waiting.get((NATS.toEvent<{ n: number }>(fromNatsMsg(msg)).data as { n: number }).n)?.(),
  });
  await pub.nc.flush();
  const latencies: number[] = [];
  try {
    for (const event of makeEvents(count, round + 100)) {
      const n = (event.data as { n: number }).n;
      const replied = new Promise<void>((resolve) => waiting.set(n, resolve));
      const started = performance.now();
      await publishEvent(pub.js, pub.nc, CHAIN.in, event);
      await within(replied, `the chain's final reply to ${event.id}`, () => "none");
      latencies.push(performance.now() - started);
      waiting.delete(n);
    }
  } finally {
    sub.unsubscribe();
  }
  return latencies;
}

/** Awaits `promise`, failing after ROUND_TIMEOUT_MS with what it waited for. */
async function within<T>(promise: Promise<T>, what: string, state: () => string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ROUND_TIMEOUT_MS}ms waiting for ${what} (${state()})`)), ROUND_TIMEOUT_MS);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

function progress(line: string): void {
  process.stderr.write(`${line}\n`);
}
