import { describe, expect, it } from "vitest";
import { type ConcurrencyWindow, makeWindow, panicWindowMs, recordSample, windowAverage, withRetention } from "./window.ts";

function fill(samples: Array<[atMs: number, value: number]>, retainMs = 60_000): ConcurrencyWindow {
  return samples.reduce((w, [at, v]) => recordSample(w, at, v), makeWindow({ retainMs }));
}

function steady(value: number, fromMs: number, toMs: number): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  for (let t = fromMs; t <= toMs; t += 1000) out.push([t, value]);
  return out;
}

describe("windowAverage", () => {
  it.each([
    { name: "empty window", samples: [], nowMs: 10_000, spanMs: 6000, want: 0 },
    { name: "steady 35 over the stable window", samples: steady(35, 0, 120_000), nowMs: 120_000, spanMs: 60_000, want: 35 },
    { name: "short history is not diluted", samples: steady(8, 0, 4000), nowMs: 4000, spanMs: 60_000, want: 8 },
    // Buckets 5..10 are the 6s panic window ending at 10s: two of them hold 60.
    { name: "panic window sees only the last 6 buckets", samples: [...steady(0, 0, 8000), [9000, 60], [10_000, 60]], nowMs: 10_000, spanMs: 6000, want: 20 },
    { name: "samples in one bucket are averaged", samples: [[0, 2], [500, 4], [999, 6]], nowMs: 999, spanMs: 1000, want: 4 },
    { name: "missing buckets count as zero", samples: [[0, 10], [5000, 10]], nowMs: 5000, spanMs: 6000, want: 20 / 6 },
    { name: "samples after now are ignored", samples: [[0, 1], [1000, 1], [9000, 100]], nowMs: 1000, spanMs: 6000, want: 1 },
    { name: "negative and NaN samples read as zero", samples: [[0, -5], [1000, Number.NaN]], nowMs: 1000, spanMs: 2000, want: 0 },
  ] satisfies Array<{ name: string; samples: Array<[number, number]>; nowMs: number; spanMs: number; want: number }>)(
    "$name",
    ({ samples, nowMs, spanMs, want }) => {
      expect(windowAverage(fill(samples), nowMs, spanMs)).toBeCloseTo(want, 9);
    },
  );

  it("drops buckets older than the retention", () => {
    const w = fill(steady(1, 0, 300_000), 60_000);
    expect(w.buckets).toHaveLength(60);
    expect(w.buckets[0]!.startMs).toBe(241_000);
  });

  it("does not mutate the window it was given", () => {
    const before = fill(steady(3, 0, 5000));
    const snapshot = structuredClone(before);
    recordSample(before, 6000, 50);
    expect(before).toEqual(snapshot);
  });

  it("tracks the last time anything was in flight", () => {
    const w = fill([[0, 0], [1000, 2], [2000, 0], [3000, 0]]);
    expect(w.lastActiveMs).toBe(1000);
    expect(fill([[0, 0]]).lastActiveMs).toBeNull();
  });

  it("re-prunes when the retention shrinks", () => {
    const w = withRetention(fill(steady(1, 0, 59_000)), 10_000);
    expect(w.buckets).toHaveLength(10);
    expect(w.retainMs).toBe(10_000);
  });
});

describe("panicWindowMs", () => {
  it.each([
    { windowMs: 60_000, tickMs: 2000, want: 6000 },
    { windowMs: 600_000, tickMs: 2000, want: 60_000 },
    { windowMs: 6000, tickMs: 2000, want: 2000 }, // 10% would be shorter than a tick
  ])("$windowMs ms window, $tickMs ms tick -> $want ms", ({ windowMs, tickMs, want }) => {
    expect(panicWindowMs(windowMs, tickMs)).toBe(want);
  });
});
