import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { retryDelayMs, WorkQueue } from "./work-queue.ts";

/** A promise and its resolve, to hold a handler mid-pass. */
function gate(): { promise: Promise<void>; open: () => void } {
  let open!: () => void;
  const promise = new Promise<void>((r) => (open = r));
  return { promise, open };
}

describe("WorkQueue", () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it("folds duplicate adds of a waiting key into one pass", async () => {
    const seen: string[] = [];
    const q = new WorkQueue(async (k) => void seen.push(k), { workers: 1 });
    q.add("a");
    q.add("b");
    q.add("b");
    q.add("b");
    await q.idle();
    expect(seen).toEqual(["a", "b"]);
  });

  it("never runs one key twice at once; an add during a pass gives exactly one more pass", async () => {
    let running = 0;
    let maxRunning = 0;
    let passes = 0;
    const holds = [gate(), gate()];
    const q = new WorkQueue(async () => {
      running++;
      maxRunning = Math.max(maxRunning, running);
      await holds[passes]?.promise;
      passes++;
      running--;
    }, { workers: 4 });
    q.add("fn");
    await Promise.resolve();
    q.add("fn");
    q.add("fn");
    holds[0]!.open();
    holds[1]!.open();
    await q.idle();
    await vi.runAllTimersAsync();
    await q.idle();
    expect(passes).toBe(2);
    expect(maxRunning).toBe(1);
  });

  it("retries a failing key with doubling delays and resets after a success", async () => {
    const attempts: number[] = [];
    let fail = 3;
    const delays: number[] = [];
    const q = new WorkQueue(async () => {
      attempts.push(Date.now());
      if (fail-- > 0) throw new Error("conflict");
    }, { baseDelayMs: 100, maxDelayMs: 250, onError: (_k, _e, ms) => delays.push(ms) });
    q.add("fn");
    await vi.runAllTimersAsync();
    expect(attempts).toHaveLength(4);
    expect(delays).toEqual([100, 200, 250]);
    expect(q.size).toBe(0);
  });

  it("a new add replaces a pending retry and runs at once", async () => {
    let calls = 0;
    const q = new WorkQueue(async () => {
      calls++;
      if (calls === 1) throw new Error("boom");
    }, { baseDelayMs: 10_000 });
    q.add("fn");
    await vi.advanceTimersByTimeAsync(1);
    expect(calls).toBe(1);
    q.add("fn");
    await vi.advanceTimersByTimeAsync(1);
    expect(calls).toBe(2);
    await vi.advanceTimersByTimeAsync(20_000);
    expect(calls).toBe(2);
  });

  it("stop cancels retries and ignores later adds", async () => {
    let calls = 0;
    const q = new WorkQueue(async () => {
      calls++;
      throw new Error("down");
    }, { baseDelayMs: 50 });
    q.add("fn");
    await vi.advanceTimersByTimeAsync(1);
    await q.stop();
    q.add("fn");
    await vi.advanceTimersByTimeAsync(10_000);
    expect(calls).toBe(1);
  });
});

describe("retryDelayMs", () => {
  it("doubles from the base and stops at the cap", () => {
    expect([1, 2, 3, 4, 10].map((n) => retryDelayMs(n, 100, 1000))).toEqual([100, 200, 400, 800, 1000]);
    expect(retryDelayMs(500, 100, 30_000)).toBe(30_000);
  });
});
