import { describe, expect, it } from "vitest";
import { BatchQueue, type Batch, type Pending } from "./queue.ts";

/** A queue driven by hand: `at(ms).add(...)` stamps arrivals; batches are listed by their values. */
function makeQueue(maxSize: number, maxDelayMs: number) {
  const queue = new BatchQueue<string>({ maxSize, maxDelayMs });
  const names = (batches: Batch<string>[]) => batches.map((b) => b.items.map((i) => i.value));
  return {
    queue,
    add: (nowMs: number, value: string, key = "k", rows = 1) => names(queue.add({ key, rows, enqueuedAtMs: nowMs, value }, nowMs)),
    due: (nowMs: number) => names(queue.takeDue(nowMs)),
  };
}

describe("BatchQueue", () => {
  it("releases a batch the moment it reaches maxSize rows", () => {
    const q = makeQueue(3, 50);
    expect(q.add(0, "a")).toEqual([]);
    expect(q.add(1, "b")).toEqual([]);
    expect(q.add(2, "c")).toEqual([["a", "b", "c"]]);
    expect(q.queue.waiting).toBe(0);
    expect(q.queue.nextDueMs()).toBeUndefined();
  });

  it("releases on maxDelay measured from the OLDEST request, not the newest", () => {
    const q = makeQueue(8, 10);
    q.add(0, "a");
    q.add(7, "b");
    expect(q.queue.nextDueMs()).toBe(10);
    expect(q.due(9)).toEqual([]);
    expect(q.due(10)).toEqual([["a", "b"]]);
    // The next group's clock starts with its own first request.
    q.add(12, "c");
    expect(q.queue.nextDueMs()).toBe(22);
  });

  it("never keeps a lone request past maxDelay, and with maxDelay 0 nothing waits", () => {
    const q = makeQueue(8, 5);
    q.add(100, "alone");
    expect(q.due(104.9)).toEqual([]);
    expect(q.due(105)).toEqual([["alone"]]);
    const eager = makeQueue(8, 0);
    expect(eager.add(0, "a")).toEqual([["a"]]);
    expect(eager.add(0, "b")).toEqual([["b"]]);
  });

  it("releases on arrival when the timer was late (the oldest is already overdue)", () => {
    const q = makeQueue(8, 10);
    q.add(0, "a");
    expect(q.add(15, "b")).toEqual([["a", "b"]]);
  });

  it("never mixes keys: incompatible requests batch apart, each on its own clock", () => {
    const q = makeQueue(2, 10);
    q.add(0, "a1", "A");
    q.add(1, "b1", "B");
    expect(q.add(2, "a2", "A")).toEqual([["a1", "a2"]]);
    expect(q.queue.waiting).toBe(1);
    expect(q.due(10)).toEqual([]);
    expect(q.due(11)).toEqual([["b1"]]);
  });

  it("counts rows, not requests: a request that would overflow releases the group first; an oversize one runs alone", () => {
    const q = makeQueue(4, 10);
    q.add(0, "three", "k", 3);
    expect(q.add(1, "two", "k", 2)).toEqual([["three"]]);
    expect(q.add(2, "two-more", "k", 2)).toEqual([["two", "two-more"]]);
    expect(q.add(3, "huge", "k", 9)).toEqual([["huge"]]);
  });

  it("forgets a removed request, and its deadline with it", () => {
    const q = makeQueue(8, 10);
    const first: Pending<string> = { key: "k", rows: 1, enqueuedAtMs: 0, value: "gave-up" };
    q.queue.add(first, 0);
    q.add(5, "b");
    expect(q.queue.remove(first)).toBe(true);
    expect(q.queue.remove(first)).toBe(false);
    expect(q.queue.nextDueMs()).toBe(15);
    expect(q.due(15)).toEqual([["b"]]);
  });

  it("reports the row total of each batch", () => {
    const queue = new BatchQueue<string>({ maxSize: 5, maxDelayMs: 1 });
    queue.add({ key: "k", rows: 2, enqueuedAtMs: 0, value: "a" }, 0);
    const [batch] = queue.add({ key: "k", rows: 3, enqueuedAtMs: 0, value: "b" }, 0);
    expect(batch).toMatchObject({ key: "k", rows: 5 });
  });
});
