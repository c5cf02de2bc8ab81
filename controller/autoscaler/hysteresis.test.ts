import { describe, expect, it } from "vitest";
import { countChanges, countReversals, makeTestSpec, simulate } from "./simulate.ts";

const TEN_MINUTES_MS = 600_000;
const spec = makeTestSpec({ target: 10 }); // 7 in flight per replica at 70% utilization

// Deterministic pseudo-random noise (a sine hash of the time), so a failure replays exactly.
function noise(seed: number): (t: number) => number {
  return (t) => {
    const x = Math.sin(seed * 9301 + t * 0.049297) * 233_280;
    return x - Math.floor(x); // in [0, 1)
  };
}

describe("steady loads never flap", () => {
  it.each([
    { load: 0.3, replicas: 1 },
    { load: 7.1, replicas: 2 },
    { load: 13.9, replicas: 2 },
    { load: 35, replicas: 5 },
    { load: 69.9, replicas: 10 },
    { load: 140.3, replicas: 21 },
  ])("$load in flight holds $replicas for ten minutes", ({ load, replicas }) => {
    const steps = simulate({ spec, load: () => load, startReplicas: replicas, durationMs: TEN_MINUTES_MS });
    expect(steps).toHaveLength(TEN_MINUTES_MS / 2000);
    expect(new Set(steps.map((s) => s.desired))).toEqual(new Set([replicas]));
  });

  it.each([{ load: 7.1 }, { load: 35 }, { load: 140.3 }])("$load reached from one replica changes only upwards, then settles", ({ load }) => {
    const counts = simulate({ spec, load: () => load, startReplicas: 1, durationMs: TEN_MINUTES_MS }).map((s) => s.desired);
    expect(countReversals([1, ...counts])).toBe(0);
    // Settled long before the end: the last five minutes are one count.
    expect(new Set(counts.slice(counts.length / 2)).size).toBe(1);
  });
});

describe("loads oscillating around a boundary do not flap", () => {
  const cases = [
    { name: "square wave 6.5/7.5, 2 min period", load: (t: number) => (Math.floor(t / 60_000) % 2 === 0 ? 6.5 : 7.5) },
    { name: "sine 7 +/- 0.6, 20 s period", load: (t: number) => 7 + 0.6 * Math.sin((2 * Math.PI * t) / 20_000) },
    { name: "sine 14 +/- 1, 3 min period", load: (t: number) => 14 + Math.sin((2 * Math.PI * t) / 180_000) },
    { name: "noisy 35 +/- 10%", load: (t: number) => 35 * (0.9 + 0.2 * noise(1)(t)) },
    { name: "bursty on/off averaging 7 (0 or 14 every other second)", load: (t: number) => ((t / 1000) % 2 === 0 ? 14 : 0) },
  ];

  it.each(cases)("$name", ({ load }) => {
    const counts = simulate({ spec, load, startReplicas: 1, durationMs: TEN_MINUTES_MS }).map((s) => s.desired);
    expect(countReversals([1, ...counts])).toBe(0);
    expect(countChanges([1, ...counts])).toBeLessThanOrEqual(2);
  });

  it("would flap without the hysteresis (so the test above means something)", () => {
    const load = cases[0]!.load;
    const tuning = { deadband: 0, scaleDownDelayMs: 0 };
    const counts = simulate({ spec, load, startReplicas: 1, durationMs: TEN_MINUTES_MS, tuning }).map((s) => s.desired);
    expect(countReversals([1, ...counts])).toBeGreaterThanOrEqual(4);
  });

  it("still follows a real drop in load", () => {
    // 35 for five minutes, then 7: the deadband must not pin the count high forever.
    const steps = simulate({ spec, load: (t) => (t < 300_000 ? 35 : 5), startReplicas: 5, durationMs: TEN_MINUTES_MS });
    expect(steps.find((s) => s.atMs === 298_000)!.desired).toBe(5);
    expect(steps.at(-1)!.desired).toBe(1);
    expect(countReversals(steps.map((s) => s.desired))).toBe(0);
  });
});
