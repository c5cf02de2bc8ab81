// The dispatcher against a real nats-server, with the function's side (deliver) injected: the
// DESIGN outcome table end to end (ack, reply, nak with backoff, dead letters), loop prevention,
// leases for long handlers, capacity, and stop().
import { afterAll, afterEach, beforeAll, expect, it } from "vitest";
import { listDeadLetters, NATS, type DeliveryResult, type Dispatcher } from "../controller/events/index.ts";
import { describeWithNats } from "./harness/nats-server.ts";
import { waitFor } from "./harness/wait-for.ts";
import { applyTopology, collect, dispatch, fnSpec, publishAll, sleep, startEventsEnv, testEvent, type EventsEnv } from "./events-support.ts";

describeWithNats("event dispatcher", () => {
  let env: EventsEnv;
  const running: Dispatcher[] = [];
  const track = (d: Dispatcher): Dispatcher => (running.push(d), d);

  beforeAll(async () => (env = await startEventsEnv()));
  // The next test's reconcile deletes this test's consumer: stop its dispatchers first.
  afterEach(async () => void (await Promise.all(running.splice(0).map((d) => d.stop()))));
  afterAll(async () => env?.close());

  const pending = async (stream: string, name: string) => {
    const info = await env.jsm.consumers.info(stream, name);
    return { pending: info.num_pending, ackPending: info.num_ack_pending, redelivered: info.num_redelivered };
  };
  // Acks are fire-and-forget and applied asynchronously by the server: wait for them, then read.
  const settled = async (stream: string, name: string) => {
    await waitFor(async () => {
      const { pending: p, ackPending } = await pending(stream, name);
      return p === 0 && ackPending === 0;
    }, { what: `consumer ${name} to have nothing pending or unacked` });
    return pending(stream, name);
  };

  it("acks a 2xx and publishes a reply on trigger.reply in binary mode with the hop count", async () => {
    const [plan] = (await applyTopology(env, [fnSpec("ok", [{ subject: "ok.in", reply: "ok.out" }])])).consumers;
    const replies = collect(env, "ok.out");
    await env.nc.flush();
    const d = track(dispatch(env, plan!, async (event) => ({ status: 200, reply: testEvent(`re-${event.id}`, { type: "ok.done" }) })));
    await publishAll(env, "ok.in", [testEvent("a1"), testEvent("a2", { skiffhops: 3 })]);
    await waitFor(() => replies.events.length === 2 && d.stats().acked === 2, { what: "two replies and acks" });
    expect(replies.events.map((e) => [e.id, e.type, e.skiffhops])).toEqual([["re-a1", "ok.done", "1"], ["re-a2", "ok.done", "4"]]);
    // Binary mode: attributes in ce- headers, not a structured JSON body.
    expect(replies.headers[0]).toMatchObject({ "ce-id": "re-a1", "ce-skiffhops": "1", "content-type": "application/json" });
    expect(await settled(plan!.stream, plan!.name)).toEqual({ pending: 0, ackPending: 0, redelivered: 0 });
    expect(d.stats()).toMatchObject({ delivered: 2, acked: 2, naked: 0, deadLettered: 0, replies: 2, inFlight: 0 });
  });

  it("naks a 500 with the trigger's backoff, then succeeds on redelivery", async () => {
    const [plan] = (await applyTopology(env, [fnSpec("retry", [{ subject: "retry.in", backoff: ["400ms"] }])])).consumers;
    const seen: Array<{ count: number; at: number }> = [];
    const d = track(dispatch(env, plan!, async (_event, { deliveryCount }) => {
      seen.push({ count: deliveryCount, at: Date.now() });
      return { status: deliveryCount === 1 ? 500 : 200 };
    }));
    await publishAll(env, "retry.in", [testEvent("r1")]);
    await waitFor(() => d.stats().acked === 1, { what: "the redelivered event to be acked" });
    expect(seen.map((s) => s.count)).toEqual([1, 2]);
    expect(seen[1]!.at - seen[0]!.at).toBeGreaterThanOrEqual(380);
    expect(d.stats()).toMatchObject({ delivered: 2, naked: 1, acked: 1, deadLettered: 0 });
  });

  it("dead-letters a 400 at once, with the status, error and the original event intact", async () => {
    const [plan] = (await applyTopology(env, [fnSpec("reject", [{ subject: "reject.in" }])])).consumers;
    let calls = 0;
    const d = track(dispatch(env, plan!, async () => (calls++, { status: 400, error: "field x is missing" })));
    const original = testEvent("bad-1", { data: { text: "grüße" }, subject: "s" });
    await publishAll(env, "reject.in", [original]);
    await waitFor(() => d.stats().deadLettered === 1, { what: "a dead letter" });
    const [letter] = await listDeadLetters(env.jsm, "reject");
    expect(calls).toBe(1);
    expect(letter).toMatchObject({ fn: "reject", reason: "rejected by the function", status: 400, error: "field x is missing", deliveries: 1, subject: "reject.in", consumer: plan!.name });
    expect(letter!.event).toMatchObject({ id: "bad-1", source: "/test", type: "test.event", subject: "s", data: { text: "grüße" } });
    expect(letter!.original.body).toEqual(NATS.binary(original).body);
    expect(await settled(plan!.stream, plan!.name)).toMatchObject({ pending: 0, ackPending: 0 });
  });

  it("dead-letters after maxDeliver failed deliveries, with the delivery count", async () => {
    const [plan] = (await applyTopology(env, [fnSpec("flaky", [{ subject: "flaky.in", maxDeliver: 3, backoff: ["10ms", "20ms"] }])])).consumers;
    const counts: number[] = [];
    const d = track(dispatch(env, plan!, async (_e, { deliveryCount }) => (counts.push(deliveryCount), { status: 503, error: `down ${deliveryCount}` })));
    await publishAll(env, "flaky.in", [testEvent("f1")]);
    await waitFor(() => d.stats().deadLettered === 1, { what: "the dead letter after 3 deliveries" });
    expect(counts).toEqual([1, 2, 3]);
    const [letter] = await listDeadLetters(env.jsm, "flaky");
    expect(letter).toMatchObject({ reason: "max deliveries reached", status: 503, error: "down 3", deliveries: 3 });
    expect(letter!.event?.id).toBe("f1");
  });

  it("dead-letters a message that is not a CloudEvent and keeps processing the next one", async () => {
    const [plan] = (await applyTopology(env, [fnSpec("junk", [{ subject: "junk.in" }])])).consumers;
    const delivered: string[] = [];
    const d = track(dispatch(env, plan!, async (event) => (delivered.push(event.id), { status: 200 })));
    await env.js.publish("junk.in", new Uint8Array([0xde, 0xad, 0xbe, 0xef]));
    await publishAll(env, "junk.in", [testEvent("good-1")]);
    await waitFor(() => delivered.length === 1 && d.stats().deadLettered === 1, { what: "the junk dead-lettered and the event delivered" });
    const [letter] = await listDeadLetters(env.jsm, "junk");
    expect(delivered).toEqual(["good-1"]);
    expect(letter).toMatchObject({ reason: "invalid event", status: 0, deliveries: 1 });
    expect(letter!.error).toMatch(/invalid CloudEvent/);
    expect(letter!.invalid).toBeDefined();
    expect(letter!.original.body).toEqual(new Uint8Array([0xde, 0xad, 0xbe, 0xef]));
  });

  it("stops a reply loop at the hop limit: the reply is not published and the event is dead-lettered", async () => {
    const [plan] = (await applyTopology(env, [fnSpec("loop", [{ subject: "loop.in", reply: "loop.out" }])])).consumers;
    const replies = collect(env, "loop.out");
    await env.nc.flush();
    const d = track(dispatch(env, plan!, async (event) => ({ status: 200, reply: testEvent(`${event.id}+`) })));
    await publishAll(env, "loop.in", [testEvent("deep", { skiffhops: 16 }), testEvent("shallow", { skiffhops: 15 })]);
    await waitFor(() => d.stats().deadLettered === 1 && d.stats().acked === 1, { what: "one dead letter and one ack" });
    await env.nc.flush();
    expect(replies.events.map((e) => [e.id, e.skiffhops])).toEqual([["shallow+", "16"]]);
    const [letter] = await listDeadLetters(env.jsm, "loop");
    expect(letter).toMatchObject({ reason: "hop limit", status: 200 });
    expect(letter!.event?.id).toBe("deep");
  });

  it("does not ack when the reply cannot be published: the event is redelivered", async () => {
    const [plan] = (await applyTopology(env, [fnSpec("replyfail", [{ subject: "rf.in", reply: "rf.out", backoff: ["10ms"] }])])).consumers;
    const counts: number[] = [];
    const published: string[] = [];
    const d = track(dispatch(env, plan!, async (event, { deliveryCount }) => (counts.push(deliveryCount), { status: 200, reply: testEvent(`${event.id}-reply`) }), {
      publishReply: async (_subject, reply) => {
        if (counts.length === 1) throw new Error("NATS is down");
        published.push(reply.id);
      },
    }));
    await publishAll(env, "rf.in", [testEvent("rf1")]);
    await waitFor(() => d.stats().acked === 1, { what: "the event acked after the second delivery" });
    expect(counts).toEqual([1, 2]);
    expect(published).toEqual(["rf1-reply"]);
    expect(d.stats()).toMatchObject({ replyFailures: 1, naked: 1, replies: 1 });
  });

  it("keeps a long handler's message with in-progress acks (ack_wait 1s, handler 3s)", async () => {
    const fn = fnSpec("slow", [{ subject: "slow.in" }], { timeout: "500ms" });
    const [plan] = (await applyTopology(env, [fn], { ackWaitMarginMs: 500 })).consumers;
    expect(plan!.config.ack_wait).toBe(1_000_000_000);
    const counts: number[] = [];
    const d = track(dispatch(env, plan!, async (_e, { deliveryCount }) => {
      counts.push(deliveryCount);
      await sleep(3_000);
      return { status: 200 };
    }));
    await publishAll(env, "slow.in", [testEvent("s1")]);
    await waitFor(() => d.stats().acked === 1, { what: "the slow event acked", timeoutMs: 10_000 });
    expect(counts).toEqual([1]);
    expect(await settled(plan!.stream, plan!.name)).toEqual({ pending: 0, ackPending: 0, redelivered: 0 });
  });

  it("never has more than capacity() deliveries at once", async () => {
    const [plan] = (await applyTopology(env, [fnSpec("cap", [{ subject: "cap.in" }], { scale: { max: 1, concurrency: 3 } })])).consumers;
    let now = 0;
    let peak = 0;
    const d = track(dispatch(env, plan!, async () => {
      peak = Math.max(peak, ++now);
      await sleep(30);
      now--;
      return { status: 200 };
    }));
    await publishAll(env, "cap.in", Array.from({ length: 30 }, (_, i) => testEvent(`c${i}`)));
    await waitFor(() => d.stats().acked === 30, { what: "30 events acked" });
    expect(plan!.capacity).toBe(3);
    expect(peak).toBe(3);
  });

  it("skips (acks) events whose type does not match the trigger's", async () => {
    const [plan] = (await applyTopology(env, [fnSpec("typed", [{ subject: "typed.in", type: "want.this" }])])).consumers;
    const delivered: string[] = [];
    const d = track(dispatch(env, plan!, async (event) => (delivered.push(event.id), { status: 200 })));
    await publishAll(env, "typed.in", [testEvent("t1", { type: "not.this" }), testEvent("t2", { type: "want.this" })]);
    await waitFor(() => d.stats().acked === 2, { what: "both acked" });
    expect(delivered).toEqual(["t2"]);
    expect(d.stats()).toMatchObject({ skipped: 1, delivered: 1 });
  });

  it("stop() waits for deliveries in flight, and leaves unfinished ones unacked for redelivery", async () => {
    const [plan] = (await applyTopology(env, [fnSpec("stopper", [{ subject: "stop.in" }])])).consumers;
    // Finishes within stop()'s wait: acked.
    const quick = dispatch(env, plan!, async () => (await sleep(200), { status: 200 }));
    await publishAll(env, "stop.in", [testEvent("st1")]);
    await waitFor(() => quick.stats().inFlight === 1, { what: "one delivery in flight" });
    await quick.stop();
    expect(quick.stats()).toMatchObject({ acked: 1, inFlight: 0 });
    // Never finishes: abandoned (aborted), neither acked nor naked, so JetStream redelivers it later.
    let aborted = false;
    const stuck = dispatch(env, plan!, (_e, { signal }) => new Promise<DeliveryResult>((resolve) => {
      signal.addEventListener("abort", () => ((aborted = true), resolve({ status: 200 })));
    }), { stopTimeoutMs: 300 });
    await publishAll(env, "stop.in", [testEvent("st2")]);
    await waitFor(() => stuck.stats().inFlight === 1, { what: "the stuck delivery in flight" });
    await stuck.stop();
    expect(aborted).toBe(true);
    expect(stuck.stats()).toMatchObject({ acked: 0, naked: 0 });
    expect(await pending(plan!.stream, plan!.name)).toMatchObject({ pending: 0, ackPending: 1 });
  });
});
