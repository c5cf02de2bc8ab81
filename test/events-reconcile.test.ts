// The JetStream side against a real nats-server: reconciling the topology (create, idempotence,
// update in place, removal, fan-out to two functions), publishing, dead letters and lag.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  countDeadLetters,
  DLQ_STREAM,
  EVENTS_STREAM,
  listDeadLetters,
  makeTopology,
  NATS,
  publishDeadLetter,
  publishEvent,
  readLag,
  reconcileTopology,
  redriveDeadLetter,
  removeDeadLetter,
  startLagPoller,
  TopologyReconcileError,
  type Dispatcher,
} from "../controller/events/index.ts";
import { describeWithNats } from "./harness/nats-server.ts";
import { waitFor } from "./harness/wait-for.ts";
import { applyTopology, collect, dispatch, fnSpec, publishAll, startEventsEnv, testEvent, type EventsEnv } from "./events-support.ts";

describeWithNats("events on JetStream", () => {
  let env: EventsEnv;
  beforeAll(async () => (env = await startEventsEnv()));
  afterAll(async () => env?.close());

  const consumerNames = async (stream: string): Promise<string[]> => {
    const names: string[] = [];
    for await (const info of env.jsm.consumers.list(stream)) names.push(info.name);
    return names.sort();
  };

  describe("reconcileTopology", () => {
    const v1 = [
      fnSpec("orders", [{ subject: "orders.created", reply: "orders.checked", maxDeliver: 4 }], { timeout: "5s", scale: { max: 2, concurrency: 3 } }),
      fnSpec("audit", [{ subject: "orders.*" }, { subject: "skiff.dlq.orders" }]),
    ];

    it("creates both streams and one consumer per trigger", async () => {
      const topology = makeTopology(v1);
      const report = await reconcileTopology(env.jsm, topology);
      expect(report.created).toEqual(expect.arrayContaining([`stream ${EVENTS_STREAM}`, `stream ${DLQ_STREAM}`]));
      expect(report.created).toHaveLength(5);
      expect((await env.jsm.streams.info(EVENTS_STREAM)).config).toMatchObject({ subjects: ["orders.*"], retention: "limits", storage: "file" });
      expect((await env.jsm.streams.info(DLQ_STREAM)).config.subjects).toEqual(["skiff.dlq.>"]);
      const orders = topology.consumers.find((c) => c.fn === "orders")!;
      expect((await env.jsm.consumers.info(EVENTS_STREAM, orders.name)).config).toMatchObject({
        filter_subject: "orders.created", ack_policy: "explicit", deliver_policy: "all", max_deliver: 5, ack_wait: 15e9, max_ack_pending: 12,
      });
      // A trigger on a dead-letter subject is consumed from the DLQ stream.
      expect(await consumerNames(DLQ_STREAM)).toEqual([topology.consumers.find((c) => c.trigger.subject === "skiff.dlq.orders")!.name]);
    });

    it("is idempotent: a second run changes nothing", async () => {
      const before = await env.jsm.consumers.info(EVENTS_STREAM, makeTopology(v1).consumers[0]!.name);
      const report = await reconcileTopology(env.jsm, makeTopology(v1));
      expect(report).toMatchObject({ created: [], updated: [], deleted: [], warnings: [] });
      expect(report.unchanged).toHaveLength(5);
      const after = await env.jsm.consumers.info(EVENTS_STREAM, before.name);
      expect(after.config).toEqual(before.config);
      expect(after.created).toBe(before.created);
    });

    it("updates a changed trigger in place, keeping the consumer and its position", async () => {
      const v2 = [fnSpec("orders", [{ subject: "orders.created", reply: "orders.checked", maxDeliver: 9 }], { timeout: "5s", scale: { max: 2, concurrency: 3 } }), v1[1]!];
      const name = makeTopology(v2).consumers.find((c) => c.fn === "orders")!.name;
      await publishEvent(env.js, env.nc, "orders.created", testEvent("o-1"));
      const report = await reconcileTopology(env.jsm, makeTopology(v2));
      expect(report.updated).toEqual([`consumer ${EVENTS_STREAM}/${name}`]);
      const info = await env.jsm.consumers.info(EVENTS_STREAM, name);
      expect(info.config.max_deliver).toBe(10);
      expect(info.num_pending).toBe(1);
    });

    it("adds subjects (merging wildcards) and deletes the consumer of a removed trigger, not foreign ones", async () => {
      await env.jsm.consumers.add(EVENTS_STREAM, { durable_name: "someone-elses", ack_policy: "explicit" as never });
      const v3 = [fnSpec("orders", [{ subject: "orders.created" }, { subject: "payments.>" }])];
      const topology = makeTopology(v3);
      const report = await reconcileTopology(env.jsm, topology);
      // audit's two consumers go; orders.created keeps its consumer (same subject and type, same name).
      expect(report.deleted).toHaveLength(2);
      expect(await consumerNames(EVENTS_STREAM)).toEqual([...topology.consumers.map((c) => c.name), "someone-elses"].sort());
      expect(await consumerNames(DLQ_STREAM)).toEqual([]);
      // Subjects are only ever added, so events for a function being redeployed are still stored.
      expect((await env.jsm.streams.info(EVENTS_STREAM)).config.subjects).toEqual(["orders.*", "payments.>"]);
    });

    it("names the object and the server's reason when JetStream refuses a change", async () => {
      await env.jsm.streams.add({ name: "SOMEONE_ELSES", subjects: ["clash.>"] });
      try {
        const error = await reconcileTopology(env.jsm, makeTopology([fnSpec("clash", [{ subject: "clash.x" }])])).catch((e: Error) => e);
        expect(error).toBeInstanceOf(Error);
        expect((error as Error).message).toMatch(/^failed to update stream "SKIFF_EVENTS" to subjects .*clash\.x.*: .*overlap/);
        expect(error).not.toBeInstanceOf(TopologyReconcileError);
      } finally {
        await env.jsm.streams.delete("SOMEONE_ELSES");
      }
    });
  });

  describe("fan-out and lag", () => {
    const running: Dispatcher[] = [];
    afterAll(async () => void (await Promise.all(running.map((d) => d.stop()))));

    it("gives every event to each of two functions on one subject, and reports their lag", async () => {
      const topology = await applyTopology(env, [fnSpec("left", [{ subject: "fan.in" }]), fnSpec("right", [{ subject: "fan.in" }])]);
      await publishAll(env, "fan.in", Array.from({ length: 20 }, (_, i) => testEvent(`fan-${i}`)));
      // No dispatcher yet: lag is every event, per consumer (what wakes a function from zero).
      const lags = new Map<string, number>();
      const poller = startLagPoller({
        jsm: env.jsm, intervalMs: 50, onLag: (fn, lag) => lags.set(fn, lag),
        consumers: () => topology.consumers.map((c) => ({ fn: c.fn, stream: c.stream, consumer: c.name })),
      });
      try {
        await waitFor(() => lags.get("left") === 20 && lags.get("right") === 20, { what: "lag 20 for both functions" });
        expect(await readLag(env.jsm, EVENTS_STREAM, topology.consumers[0]!.name)).toBe(20);
        const got = new Map<string, string[]>([["left", []], ["right", []]]);
        for (const plan of topology.consumers) running.push(dispatch(env, plan, async (event) => (got.get(plan.fn)!.push(event.id), { status: 200 })));
        await waitFor(() => got.get("left")!.length === 20 && got.get("right")!.length === 20, { what: "20 events at each function" });
        expect(new Set(got.get("left"))).toEqual(new Set(got.get("right")));
        await waitFor(() => lags.get("left") === 0 && lags.get("right") === 0, { what: "lag back to 0" });
      } finally {
        poller.stop();
      }
    });
  });

  describe("publishing", () => {
    it("stores an event through JetStream once, even when published twice", async () => {
      await applyTopology(env, [fnSpec("pub", [{ subject: "pub.in" }])]);
      const event = testEvent("once");
      const first = await publishEvent(env.js, env.nc, "pub.in", event);
      const again = await publishEvent(env.js, env.nc, "pub.in", event, { mode: "structured" });
      expect(first).toMatchObject({ stored: true, stream: EVENTS_STREAM, duplicate: false });
      expect(again).toMatchObject({ stored: true, seq: first.seq, duplicate: true });
      // The same id on another subject is another message (an echo reply is not a duplicate).
      expect((await publishEvent(env.js, env.nc, "pub.other", event)).stored).toBe(false);
    });

    it("publishes on a subject no stream stores over core NATS, to live subscribers", async () => {
      const tail = collect(env, "nobody.stores.this");
      await env.nc.flush();
      const result = await publishEvent(env.js, env.nc, "nobody.stores.this", testEvent("live", { data: { x: 1 } }), { mode: "structured" });
      expect(result).toEqual({ stored: false });
      await waitFor(() => tail.events.length === 1, { what: "the tailed event" });
      expect(tail.events[0]).toMatchObject({ id: "live", data: { x: 1 } });
      expect(tail.headers[0]!["content-type"]).toMatch(/^application\/cloudevents\+json/);
      tail.sub.unsubscribe();
    });
  });

  describe("dead letters", () => {
    it("lists, counts, redrives and removes a function's dead letters", async () => {
      const topology = await applyTopology(env, [fnSpec("dl", [{ subject: "dl.in" }])]);
      const base = { fn: "dl", subject: "dl.in", consumer: topology.consumers[0]!.name, reason: "rejected by the function", status: 400, deliveries: 1, timeMs: Date.now() };
      await publishDeadLetter(env.js, { ...base, message: NATS.binary(testEvent("dead-1")), streamSeq: 1, error: "nope" });
      await publishDeadLetter(env.js, { ...base, message: { headers: {}, body: new TextEncoder().encode("not an event") }, streamSeq: 2 });
      await publishDeadLetter(env.js, { ...base, fn: "other", message: NATS.binary(testEvent("elsewhere")), streamSeq: 3 });
      const letters = await listDeadLetters(env.jsm, "dl");
      expect(letters.map((l) => [l.event?.id, l.invalid !== undefined, l.error])).toEqual([["dead-1", false, "nope"], [undefined, true, ""]]);
      expect(await countDeadLetters(env.jsm, "dl")).toBe(2);
      expect(await listDeadLetters(env.jsm, "dl", { limit: 1 })).toHaveLength(1);
      expect(await listDeadLetters(env.jsm, "dl", { fromSeq: letters[1]!.seq! })).toHaveLength(1);

      const seen: string[] = [];
      const d = dispatch(env, topology.consumers[0]!, async (event) => (seen.push(event.id), { status: 200 }));
      try {
        await redriveDeadLetter(env.js, letters[0]!);
        expect(await removeDeadLetter(env.jsm, letters[0]!.seq!)).toBe(true);
        await waitFor(() => seen.includes("dead-1"), { what: "the redriven event delivered" });
      } finally {
        await d.stop();
      }
      expect(await removeDeadLetter(env.jsm, letters[0]!.seq!)).toBe(false);
      expect(await countDeadLetters(env.jsm, "dl")).toBe(1);
      expect(await countDeadLetters(env.jsm, "nobody")).toBe(0);
    });
  });
});
