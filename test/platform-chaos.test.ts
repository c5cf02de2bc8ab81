// Chaos on the local platform (the eventing issue's "done when"): 1,000 events through an
// unreliable event-only function while its replicas are SIGKILLed, and 300 events across a
// nats-server restart. At-least-once: every event must end processed (its reply seen) or
// dead-lettered; duplicates are allowed, counted and printed, never asserted away.
//
// Replies are read from a stream the test creates on the reply subject, not from a core
// subscription: a reply published while the test's own connection is reconnecting (the restart
// test) would be missed by a subscriber and look like a lost event.
import { jetstream, jetstreamManager, StorageType, type JetStreamClient } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/nats-core";
import { CloudEvent } from "cloudevents";
import { fileURLToPath } from "node:url";
import { expect, it, onTestFinished } from "vitest";
import { makeControlClient, type ControlClient, type DeadLetterSummary } from "../controller/api/index.ts";
import { fromNatsMsg, NATS, publishEvent } from "../controller/events/index.ts";
import { connectNats } from "../controller/nats/index.ts";
import { startPlatform } from "../controller/platform/index.ts";
import { deploy, functionVariant, startTestPlatform, tempDir } from "./harness/platform.ts";
import { describeWithNats, startNatsServer } from "./harness/nats-server.ts";
import { waitFor } from "./harness/wait-for.ts";

const FLAKY = fileURLToPath(new URL("./fixtures/flaky", import.meta.url));

const flakyYaml = (o: { name: string; subject: string; reply: string; failRate: number; workMs: number }) =>
  `name: ${o.name}\nentry: index.ts\nhttp: false\nevents:\n  - subject: ${o.subject}\n    reply: ${o.reply}\n    maxDeliver: 5\n    backoff: [50ms, 100ms]\n` +
  `scale: { min: 2, max: 3, concurrency: 20 }\ntimeout: 2s\nenv:\n  FAIL_RATE: "${o.failRate}"\n  WORK_MS: "${o.workMs}"\n`;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** How many times each event id was processed, read from a file-backed stream on the reply subject. */
async function startReplyLog(nc: NatsConnection, stream: string, subject: string) {
  const jsm = await jetstreamManager(nc);
  await jsm.streams.add({ name: stream, subjects: [subject], storage: StorageType.File });
  const counts = new Map<string, number>();
  const pids = new Map<number, number>();
  let nextSeq = 1;
  return {
    counts,
    pids,
    /** Reads replies stored since the last call. */
    async refresh(): Promise<Map<string, number>> {
      const last = (await jsm.streams.info(stream)).state.last_seq;
      for (; nextSeq <= last; nextSeq++) {
        const stored = await jsm.streams.getMessage(stream, { seq: nextSeq });
        if (!stored) continue;
        const data = NATS.toEvent<{ id: string; pid: number }>(fromNatsMsg({ headers: stored.header, data: stored.data })).data!;
        counts.set(data.id, (counts.get(data.id) ?? 0) + 1);
        pids.set(data.pid, (pids.get(data.pid) ?? 0) + 1);
      }
      return counts;
    },
  };
}

/** Publishes until JetStream stores the event (a publisher's job during an outage); failed tries are counted by reason. */
async function publishUntilStored(js: JetStreamClient, nc: NatsConnection, subject: string, event: CloudEvent<unknown>, failures: Map<string, number>): Promise<void> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    let problem: string;
    try {
      // A retry after a lost ack is dropped by the stream's duplicate window (Nats-Msg-Id).
      if ((await publishEvent(js, nc, subject, event)).stored) return;
      // publishEvent fell back to core NATS: no stream matched the subject when it asked.
      problem = "not stored (no stream matched the subject)";
    } catch (error) {
      problem = (error as Error).message.replace(event.id, "<id>");
    }
    failures.set(problem, (failures.get(problem) ?? 0) + 1);
    if (Date.now() > deadline) throw new Error(`could not publish ${event.id} on ${subject} within 30s: ${problem}`);
    await sleep(100);
  }
}

/** Publishes `ids` in batches of `batch`, one batch every `everyMs`; failed tries are counted in `failures`. */
async function publishPaced(
  pub: { js: JetStreamClient; nc: NatsConnection; failures: Map<string, number> }, subject: string, ids: string[],
  o: { batch: number; everyMs: number; data: (id: string) => unknown; onBatch?: (published: number) => void },
): Promise<void> {
  for (let i = 0; i < ids.length; i += o.batch) {
    const started = Date.now();
    const batch = ids.slice(i, i + o.batch).map((id) => new CloudEvent({ type: "chaos.test", source: "/chaos", id, data: o.data(id) }));
    await Promise.all(batch.map((event) => publishUntilStored(pub.js, pub.nc, subject, event, pub.failures)));
    o.onBatch?.(Math.min(i + o.batch, ids.length));
    await sleep(Math.max(0, o.everyMs - (Date.now() - started)));
  }
}

/** SIGKILLs one ready replica of `fn` once at least two are ready; returns its pid. */
async function killReadyReplica(client: ControlClient, fn: string, round: number): Promise<number> {
  const ready = await waitFor(async () => {
    const list = (await client.describe(fn)).replicas.list as Array<{ phase: string; pid?: number }>;
    const withPid = list.filter((r) => r.phase === "ready" && r.pid !== undefined);
    return withPid.length >= 2 ? withPid : undefined;
  }, { what: `two ready replicas of ${fn} (with pids) before kill ${round + 1}`, timeoutMs: 10_000 });
  const pid = ready[round % ready.length]!.pid!;
  process.kill(pid, "SIGKILL");
  return pid;
}

/** Dead-lettered event ids of `fn` with their letters. */
async function deadLetters(client: ControlClient, fn: string): Promise<Map<string, DeadLetterSummary>> {
  const letters = await client.dlqList(fn, { limit: 2_000 });
  return new Map(letters.filter((l) => l.event).map((l) => [l.event!.id, l]));
}

const duplicatesOf = (counts: Map<string, number>) => [...counts.values()].reduce((sum, n) => sum + n - 1, 0);

describeWithNats("chaos on the local platform", () => {
  it("1,000 events, ~3% failed deliveries and 3 replicas SIGKILLed mid-stream: none lost", { timeout: 60_000 }, async () => {
    const platform = await startTestPlatform();
    const nc = await connectNats(platform.natsUrl);
    onTestFinished(() => nc.close());
    const js = jetstream(nc);
    const replies = await startReplyLog(nc, "CHAOS_REPLIES", "flaky.out");
    await deploy(platform.client, await functionVariant(FLAKY, flakyYaml({ name: "flaky", subject: "flaky.in", reply: "flaky.out", failRate: 0.03, workMs: 20 })));
    const ids = Array.from({ length: 1_000 }, (_, i) => `ev-${i}`);
    // Every 100th event fails every delivery: the dead-letter path is exercised, not just hoped for.
    const doomed = new Set(ids.filter((_, i) => i % 100 === 37));
    let published = 0;
    const started = Date.now();
    const publishFailures = new Map<string, number>();
    const publishing = publishPaced({ js, nc, failures: publishFailures }, "flaky.in", ids, { batch: 25, everyMs: 100, data: (id) => ({ doomed: doomed.has(id) }), onBatch: (n) => (published = n) });
    const victims: number[] = [];
    for (let round = 0; round < 3; round++) {
      await waitFor(() => published >= (round + 1) * 250, { what: `${(round + 1) * 250} events published before kill ${round + 1}`, timeoutMs: 20_000 });
      victims.push(await killReadyReplica(platform.client, "flaky", round));
    }
    await publishing;
    const dead = new Map<string, DeadLetterSummary>();
    await waitFor(async () => {
      await replies.refresh();
      if (ids.some((id) => !replies.counts.has(id) && !dead.has(id))) for (const [id, letter] of await deadLetters(platform.client, "flaky")) dead.set(id, letter);
      return ids.every((id) => replies.counts.has(id) || dead.has(id));
    }, { what: "every one of the 1,000 events replied to or dead-lettered", timeoutMs: 40_000, intervalMs: 200 });
    const elapsedMs = Date.now() - started;
    const lost = ids.filter((id) => !replies.counts.has(id) && !dead.has(id));
    const unexpectedDead = [...dead.keys()].filter((id) => !doomed.has(id));
    console.log("replica-kill chaos:", {
      events: ids.length, processed: replies.counts.size, lost: lost.length, duplicates: duplicatesOf(replies.counts),
      duplicatedIds: [...replies.counts].filter(([, n]) => n > 1).map(([id]) => id).slice(0, 10),
      deadLettered: dead.size, unexpectedDeadLetters: unexpectedDead, killed: victims, repliesByPid: Object.fromEntries(replies.pids),
      publishFailures: Object.fromEntries(publishFailures), elapsedMs,
    });
    expect(lost).toEqual([]);
    expect(new Set(victims).size).toBe(3);
    for (const pid of victims) expect(() => process.kill(pid, 0)).toThrow();
    // The kills hit working replicas: each victim had replied to something before it died.
    for (const pid of victims) expect(replies.pids.get(pid) ?? 0).toBeGreaterThan(0);
    // The last try normally fails with the function's 500; if it landed on a replica being
    // killed, the gateway's 502 is the last status instead. Either way it is a retryable failure.
    for (const id of doomed) {
      expect(dead.get(id), `dead letter of ${id}`).toMatchObject({ deliveries: 5, reason: "max deliveries reached" });
      expect([500, 502], `last status of ${id}`).toContain(dead.get(id)!.status);
    }
    // The consumer is drained: nothing pending, nothing unacked (acks land asynchronously: wait).
    const jsm = await jetstreamManager(nc);
    await waitFor(async () => {
      const [consumer] = await jsm.consumers.list("SKIFF_EVENTS").next();
      return consumer && consumer.num_pending === 0 && consumer.num_ack_pending === 0;
    }, { what: "flaky's consumer to have no pending or unacked event" });
    // The platform replaced every killed replica.
    await waitFor(async () => (await platform.client.describe("flaky")).replicas.ready >= 2, { what: "flaky back to 2 ready replicas" });
  });

  it("300 events across a nats-server restart mid-stream: every one processed at least once", { timeout: 60_000 }, async () => {
    const server = await startNatsServer();
    // Warnings are counted, not printed: they show what the restart broke (reply publishes, pulls) and the platform retried.
    const warnings = new Map<string, number>();
    const logger = { info() {}, warn: (msg: string) => void warnings.set(msg, (warnings.get(msg) ?? 0) + 1), error: (msg: string, fields?: unknown) => console.error(msg, fields) };
    const platform = await startPlatform({ stateDir: await tempDir("skiff-state-"), port: 0, natsUrl: server.url, logger, readyTimeoutMs: 30_000 });
    const nc = await connectNats(server.url);
    try {
      const client = makeControlClient({ url: platform.apiUrl, token: platform.token });
      const js = jetstream(nc);
      const replies = await startReplyLog(nc, "STEADY_REPLIES", "steady.out");
      await deploy(client, await functionVariant(FLAKY, flakyYaml({ name: "steady", subject: "steady.in", reply: "steady.out", failRate: 0, workMs: 200 })));
      const ids = Array.from({ length: 300 }, (_, i) => `st-${i}`);
      // 150 at once: at WORK_MS 200 and 40 slots they take ~750ms, so the restart below lands with
      // deliveries in flight (their replies and acks cross the outage) and a backlog in the stream.
      const publishFailures = new Map<string, number>();
      await publishPaced({ js, nc, failures: publishFailures }, "steady.in", ids.slice(0, 150), { batch: 150, everyMs: 0, data: () => ({}) });
      await waitFor(async () => (await replies.refresh()).size >= 30, { what: "30 of the first 150 events processed before the restart" });
      const processedAtRestart = replies.counts.size;
      const restartStarted = Date.now();
      let restartMs = 0;
      const restarting = server.restart().then(() => (restartMs = Date.now() - restartStarted));
      // The rest is published while the server goes down and comes back: tries fail, and are retried until stored.
      await publishPaced({ js, nc, failures: publishFailures }, "steady.in", ids.slice(150), { batch: 10, everyMs: 50, data: () => ({}) });
      await restarting;
      // Expect ~6s, not ~1s: requests in flight when the server went down (reply publishes holding
      // every dispatcher slot, the publisher's own) get no answer and wait out nats.js's 5s timeout.
      await waitFor(async () => (await replies.refresh()).size === ids.length, { what: "all 300 events processed (replies stored)", timeoutMs: 40_000, intervalMs: 200 });
      const drainedMs = Date.now() - restartStarted;
      const dead = await deadLetters(client, "steady");
      const lost = ids.filter((id) => !replies.counts.has(id) && !dead.has(id));
      console.log("nats-server restart chaos:", {
        events: ids.length, processed: replies.counts.size, lost: lost.length, duplicates: duplicatesOf(replies.counts), deadLettered: dead.size,
        processedAtRestart, restartMs, allProcessedAfterRestartMs: drainedMs, publishFailures: Object.fromEntries(publishFailures), platformWarnings: Object.fromEntries(warnings),
      });
      expect(lost).toEqual([]);
      expect(ids.filter((id) => !replies.counts.has(id))).toEqual([]);
      expect(processedAtRestart).toBeLessThan(150);
    } finally {
      await nc.close();
      await platform.stop();
    }
  });
});
