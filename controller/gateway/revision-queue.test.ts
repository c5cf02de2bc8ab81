import { describe, expect, it } from "vitest";
// Test-only reach into the autoscaler folder: its index deliberately does not export the fake clock.
import { makeFakeClock } from "../autoscaler/fake-clock.ts";
import { ClientWatch } from "./client-watch.ts";
import { QueueFullError, QueueTimeoutError, RequestAbortedError } from "./errors.ts";
import { RevisionDispatcher, type Slot } from "./revision-queue.ts";

const ep = (id: string) => ({ id, url: `http://127.0.0.1/${id}` });

function setup(overrides: { capacity?: number; maxQueue?: number } = {}) {
  const clock = makeFakeClock(1_000);
  let queuedCalls = 0;
  const dispatcher = new RevisionDispatcher({
    fn: "hello",
    revision: "hello-r1",
    capacity: overrides.capacity ?? 2,
    maxQueue: overrides.maxQueue ?? 10,
    clock,
    onQueued: () => queuedCalls++,
  });
  return { clock, dispatcher, queuedCalls: () => queuedCalls };
}

/** Tracks a promise's outcome synchronously-readable after a microtask flush. */
function watch(promise: Promise<Slot>) {
  const state: { slot?: Slot; error?: unknown } = {};
  promise.then((slot) => (state.slot = slot), (error: unknown) => (state.error = error));
  return state;
}
const flush = () => new Promise((resolve) => setImmediate(resolve));

describe("RevisionDispatcher", () => {
  it("grants a free slot at once, to the replica with the fewest outstanding", async () => {
    const { dispatcher, queuedCalls } = setup();
    dispatcher.setEndpoints([ep("a"), ep("b")]);
    const first = await dispatcher.acquire({ timeoutMs: 100 });
    const second = await dispatcher.acquire({ timeoutMs: 100 });
    expect([first.replica.id, second.replica.id].sort()).toEqual(["a", "b"]);
    expect(first.waitedMs).toBe(0);
    expect(first.coldStart).toBe(false);
    second.release();
    const third = await dispatcher.acquire({ timeoutMs: 100 });
    expect(third.replica.id).toBe(second.replica.id);
    expect(dispatcher.inFlight).toBe(2);
    expect(queuedCalls()).toBe(0);
  });

  it("never exceeds capacity per replica and serves waiters first-in first-out", async () => {
    const { dispatcher, clock } = setup({ capacity: 2 });
    dispatcher.setEndpoints([ep("a")]);
    const held = [await dispatcher.acquire({ timeoutMs: 1000 }), await dispatcher.acquire({ timeoutMs: 1000 })];
    const waiters = [0, 1, 2].map(() => watch(dispatcher.acquire({ timeoutMs: 1000 })));
    await flush();
    expect(dispatcher.outstandingOn("a")).toBe(2);
    expect(dispatcher.queued).toBe(3);
    expect(waiters.some((w) => w.slot)).toBe(false);
    clock.advance(40);
    held[0]!.release();
    held[0]!.release(); // idempotent: must not free a second slot
    await flush();
    expect(waiters.map((w) => Boolean(w.slot))).toEqual([true, false, false]);
    expect(waiters[0]!.slot!.waitedMs).toBe(40);
    expect(dispatcher.outstandingOn("a")).toBe(2);
    held[1]!.release();
    await flush();
    expect(waiters.map((w) => Boolean(w.slot))).toEqual([true, true, false]);
  });

  it("does not let a newcomer overtake the queue", async () => {
    const { dispatcher } = setup({ capacity: 1 });
    dispatcher.setEndpoints([ep("a")]);
    const held = await dispatcher.acquire({ timeoutMs: 1000 });
    const early = watch(dispatcher.acquire({ timeoutMs: 1000 }));
    held.release();
    const late = watch(dispatcher.acquire({ timeoutMs: 1000 }));
    await flush();
    expect(early.slot).toBeDefined();
    expect(late.slot).toBeUndefined();
  });

  it("queues at zero replicas, pokes on every queued request, and dispatches when one turns ready", async () => {
    const { dispatcher, clock, queuedCalls } = setup({ capacity: 2 });
    const waiters = [0, 1, 2].map(() => watch(dispatcher.acquire({ timeoutMs: 5000 })));
    expect(queuedCalls()).toBe(3);
    expect(dispatcher.queued).toBe(3);
    clock.advance(750);
    dispatcher.setEndpoints([ep("a")]);
    await flush();
    expect(waiters.map((w) => w.slot?.replica.id)).toEqual(["a", "a", undefined]);
    expect(waiters[0]!.slot).toMatchObject({ coldStart: true, waitedMs: 750 });
    dispatcher.setEndpoints([ep("a"), ep("b")]);
    await flush();
    expect(waiters[2]!.slot?.replica.id).toBe("b");
  });

  it("refuses at once when the queue is full", async () => {
    const { dispatcher } = setup({ maxQueue: 2 });
    watch(dispatcher.acquire({ timeoutMs: 1000 }));
    watch(dispatcher.acquire({ timeoutMs: 1000 }));
    const refused = watch(dispatcher.acquire({ timeoutMs: 1000 }));
    await flush();
    expect(refused.error).toBeInstanceOf(QueueFullError);
    expect((refused.error as Error).message).toBe('function "hello" has no ready replica and its queue is full (2 requests waiting)');
    expect(dispatcher.queued).toBe(2);
  });

  it("fails a waiter at its deadline with a message naming the function and the queue", async () => {
    const { dispatcher, clock } = setup();
    const a = watch(dispatcher.acquire({ timeoutMs: 300 }));
    clock.advance(100);
    const b = watch(dispatcher.acquire({ timeoutMs: 300 }));
    clock.advance(200);
    await flush();
    expect(a.error).toBeInstanceOf(QueueTimeoutError);
    expect((a.error as Error).message).toBe('function "hello" has no ready replica after 300ms (queue of 2)');
    expect(b.error).toBeUndefined();
    expect(dispatcher.queued).toBe(1);
    clock.advance(100);
    await flush();
    expect(b.error).toBeInstanceOf(QueueTimeoutError);
    expect(dispatcher.queued).toBe(0);
    expect(clock.pending()).toBe(0);
  });

  it("says the replicas are busy when a deadline passes at capacity", async () => {
    const { dispatcher, clock } = setup({ capacity: 1 });
    dispatcher.setEndpoints([ep("a")]);
    await dispatcher.acquire({ timeoutMs: 50 });
    const waiter = watch(dispatcher.acquire({ timeoutMs: 50 }));
    clock.advance(50);
    await flush();
    expect((waiter.error as Error).message).toBe(
      'function "hello" had no free replica after 50ms: 1 ready replicas each at their concurrency limit of 1 (queue of 1)',
    );
  });

  it("drops a waiter whose client went away, and clears its timer", async () => {
    const { dispatcher, clock } = setup();
    const client = new ClientWatch();
    const waiter = watch(dispatcher.acquire({ timeoutMs: 1000, client }));
    client.markGone();
    await flush();
    expect(waiter.error).toBeInstanceOf(RequestAbortedError);
    expect(dispatcher.queued).toBe(0);
    expect(clock.pending()).toBe(0);
    const already = watch(dispatcher.acquire({ timeoutMs: 1000, client }));
    await flush();
    expect(already.error).toBeInstanceOf(RequestAbortedError);
  });

  it("puts a retry first, on a replica other than the one that failed", async () => {
    const { dispatcher } = setup({ capacity: 1 });
    dispatcher.setEndpoints([ep("a"), ep("b")]);
    const onA = await dispatcher.acquire({ timeoutMs: 1000 });
    const onB = await dispatcher.acquire({ timeoutMs: 1000 });
    const queued = watch(dispatcher.acquire({ timeoutMs: 1000 }));
    const retry = watch(dispatcher.acquire({ timeoutMs: 1000, exclude: onA.replica.id, retry: true }));
    // "a" frees first: the retry (head of the queue) must not take it; the plain waiter does.
    onA.release();
    await flush();
    expect(queued.slot?.replica.id).toBe("a");
    expect(retry.slot).toBeUndefined();
    onB.release();
    await flush();
    expect(retry.slot?.replica.id).toBe("b");
    expect(dispatcher.hasOtherReplica("a")).toBe(true);
    dispatcher.setEndpoints([ep("a")]);
    expect(dispatcher.hasOtherReplica("a")).toBe(false);
  });

  it("keeps a suspended replica out until its suspension ends", async () => {
    const { dispatcher, clock } = setup({ capacity: 4 });
    dispatcher.setEndpoints([ep("a")]);
    dispatcher.suspend("a", 1000);
    const waiter = watch(dispatcher.acquire({ timeoutMs: 5000 }));
    await flush();
    expect(waiter.slot).toBeUndefined();
    expect(dispatcher.hasOtherReplica("b")).toBe(false);
    clock.advance(1000);
    await flush();
    expect(waiter.slot?.replica.id).toBe("a");
  });

  it("frees slots at once when capacity grows", async () => {
    const { dispatcher } = setup({ capacity: 1 });
    dispatcher.setEndpoints([ep("a")]);
    await dispatcher.acquire({ timeoutMs: 1000 });
    const waiter = watch(dispatcher.acquire({ timeoutMs: 1000 }));
    dispatcher.setCapacity(2);
    await flush();
    expect(waiter.slot?.replica.id).toBe("a");
  });

  it("keeps counting a removed replica's outstanding requests until they finish", async () => {
    const { dispatcher } = setup({ capacity: 1 });
    dispatcher.setEndpoints([ep("a")]);
    const slot = await dispatcher.acquire({ timeoutMs: 1000 });
    dispatcher.setEndpoints([]);
    dispatcher.setEndpoints([ep("a")]);
    const waiter = watch(dispatcher.acquire({ timeoutMs: 1000 }));
    await flush();
    expect(waiter.slot).toBeUndefined();
    slot.release();
    await flush();
    expect(waiter.slot?.replica.id).toBe("a");
  });

  it("close() fails every waiter and clears every timer", async () => {
    const { dispatcher, clock } = setup();
    dispatcher.suspend("a", 1000);
    const waiters = [0, 1].map(() => watch(dispatcher.acquire({ timeoutMs: 1000 })));
    dispatcher.close(new Error("stopping"));
    await flush();
    expect(waiters.map((w) => (w.error as Error).message)).toEqual(["stopping", "stopping"]);
    expect(clock.pending()).toBe(0);
  });
});
