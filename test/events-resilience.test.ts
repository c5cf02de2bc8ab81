// At-least-once under stress: a nats-server restart in the middle of a stream, and 1,000 events
// with random failed deliveries. Every event must end delivered or dead-lettered; duplicates are
// allowed (at-least-once) but counted and reported.
import { afterAll, afterEach, beforeAll, expect, it } from "vitest";
import { listDeadLetters, type Dispatcher } from "../controller/events/index.ts";
import { describeWithNats } from "./harness/nats-server.ts";
import { waitFor } from "./harness/wait-for.ts";
import { applyTopology, dispatch, fnSpec, nextReconnect, publishAll, sleep, startEventsEnv, testEvent, type EventsEnv } from "./events-support.ts";

/** Deterministic PRNG (mulberry32), so a failing run can be replayed with the same failures. */
function random(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

describeWithNats("events: at-least-once under failures", () => {
  let env: EventsEnv;
  const running: Dispatcher[] = [];

  beforeAll(async () => (env = await startEventsEnv()));
  afterEach(async () => void (await Promise.all(running.splice(0).map((d) => d.stop()))));
  afterAll(async () => env?.close());

  it("loses nothing across a nats-server restart mid-stream (200 events)", async () => {
    const [plan] = (await applyTopology(env, [fnSpec("survivor", [{ subject: "rs.in", maxDeliver: 20, backoff: ["50ms"] }], { scale: { max: 1, concurrency: 4 }, timeout: "1s" })], { ackWaitMarginMs: 1_000 })).consumers;
    const deliveries = new Map<string, number>();
    const d = dispatch(env, plan!, async (event) => {
      deliveries.set(event.id, (deliveries.get(event.id) ?? 0) + 1);
      await sleep(20);
      return { status: 200 };
    });
    running.push(d);
    await publishAll(env, "rs.in", Array.from({ length: 100 }, (_, i) => testEvent(`before-${i}`)));
    await waitFor(() => deliveries.size >= 20, { what: "the first deliveries" });
    const atRestart = deliveries.size;
    const restartStarted = Date.now();
    const reconnected = nextReconnect(env);
    await env.server.restart();
    // The client reconnects on its own (so does the dispatcher's pull); publish once it has.
    await reconnected;
    const restartMs = Date.now() - restartStarted;
    await publishAll(env, "rs.in", Array.from({ length: 100 }, (_, i) => testEvent(`after-${i}`)));
    await waitFor(() => deliveries.size === 200, { what: "all 200 events delivered", timeoutMs: 30_000 });
    await waitFor(async () => (await env.jsm.consumers.info(plan!.stream, plan!.name)).num_ack_pending === 0, { what: "every event acked" });
    const duplicates = [...deliveries.values()].reduce((sum, n) => sum + n - 1, 0);
    const { delivered, acked, naked, pullErrors } = d.stats();
    console.log("restart test:", { published: 200, deliveredBeforeRestart: atRestart, restartMs, uniqueDelivered: deliveries.size, duplicates, delivered, acked, naked, pullErrors });
    expect(atRestart).toBeLessThan(100);
    expect(deliveries.size).toBe(200);
    expect((await env.jsm.streams.info("SKIFF_EVENTS", { subjects_filter: "rs.in" })).state.subjects?.["rs.in"]).toBe(200);
  });

  it("1,000 events with ~3% failed deliveries: each is acked after success or dead-lettered after maxDeliver", async () => {
    const spec = fnSpec("chaos", [{ subject: "chaos.in", maxDeliver: 2, backoff: ["5ms", "10ms"] }], { scale: { max: 4, concurrency: 8 } });
    const [plan] = (await applyTopology(env, [spec])).consumers;
    const rand = random(20_240_601);
    const attempts = new Map<string, number>();
    const succeeded = new Map<string, number>();
    let failures = 0;
    const d = dispatch(env, plan!, async (event) => {
      attempts.set(event.id, (attempts.get(event.id) ?? 0) + 1);
      await sleep(rand() * 4);
      if (rand() < 0.03) return (failures++, { status: 500, error: "random failure" });
      succeeded.set(event.id, (succeeded.get(event.id) ?? 0) + 1);
      return { status: 200 };
    });
    running.push(d);
    const ids = Array.from({ length: 1_000 }, (_, i) => `chaos-${i}`);
    const started = Date.now();
    for (let i = 0; i < ids.length; i += 100) await Promise.all(ids.slice(i, i + 100).map((id) => publishAll(env, "chaos.in", [testEvent(id)])));
    const deadIds = new Set<string>();
    await waitFor(async () => {
      if (d.stats().deadLettered > deadIds.size) for (const l of await listDeadLetters(env.jsm, "chaos", { limit: 1_000 })) deadIds.add(l.event!.id);
      return succeeded.size + deadIds.size === 1_000 && d.stats().inFlight === 0;
    }, { what: "every event acked or dead-lettered", timeoutMs: 30_000 });
    const elapsedMs = Date.now() - started;
    const duplicates = [...succeeded.values()].reduce((sum, n) => sum + n - 1, 0);
    const deliveries = [...attempts.values()].reduce((a, b) => a + b, 0);
    console.log("1,000-event test:", {
      events: 1_000, deliveries, failedDeliveries: failures, succeeded: succeeded.size, deadLettered: deadIds.size,
      duplicates, naked: d.stats().naked, acked: d.stats().acked, elapsedMs, eventsPerSecond: Math.round(1_000_000 / elapsedMs),
    });
    expect(succeeded.size + deadIds.size).toBe(1_000);
    expect([...deadIds].filter((id) => succeeded.has(id))).toEqual([]);
    for (const id of deadIds) expect(attempts.get(id)).toBe(2);
    expect(failures).toBeGreaterThan(10);
    expect(deliveries).toBe(succeeded.size + duplicates + failures);
    expect(d.stats()).toMatchObject({ naked: failures - deadIds.size, acked: succeeded.size + duplicates, deadLettered: deadIds.size });
    // Acks are fire-and-forget and the server applies them asynchronously: wait, don't sample.
    await waitFor(async () => {
      const info = await env.jsm.consumers.info(plan!.stream, plan!.name);
      return info.num_pending === 0 && info.num_ack_pending === 0;
    }, { what: "no pending or unacked message left" });
  });
});
