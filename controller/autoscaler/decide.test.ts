import { describe, expect, it } from "vitest";
import type { ScaleSpec } from "../../spec/types.ts";
import { type AutoscalerState, type AutoscalerTuning, TARGET_UTILIZATION, decideScale, makeAutoscalerState } from "./decide.ts";
import { makeTestSpec, simulate } from "./simulate.ts";
import { type ConcurrencyWindow, makeWindow, recordSample } from "./window.ts";

interface One {
  load: number;
  from: number;
  ready?: number;
  spec?: Partial<ScaleSpec>;
  tuning?: Partial<AutoscalerTuning>;
  state?: AutoscalerState;
  extra?: number;
  nowMs?: number;
}

// A window holding a constant load for the whole of [0, nowMs], one sample a second.
function steadyWindow(load: number, nowMs: number): ConcurrencyWindow {
  let w = makeWindow({ retainMs: 60_000 });
  for (let t = 0; t <= nowMs; t += 1000) w = recordSample(w, t, load);
  return w;
}

// One decision on a steady load, from a stable state whose last activity is `nowMs`.
function decideOne(c: One) {
  const nowMs = c.nowMs ?? 120_000;
  return decideScale({
    spec: makeTestSpec(c.spec),
    observed: { readyReplicas: c.ready ?? c.from, currentDesired: c.from },
    metrics: steadyWindow(c.load, nowMs),
    extraDemand: c.extra,
    state: c.state ?? makeAutoscalerState(nowMs),
    nowMs,
    tuning: c.tuning,
  });
}

describe("stable scaling", () => {
  it("uses 70% target utilization by default", () => {
    expect(TARGET_UTILIZATION).toBe(0.7);
  });

  it.each([
    { name: "35 in flight, target 10 -> 5", load: 35, from: 3, want: 5 },
    { name: "exact multiple does not round up", load: 14, from: 2, want: 2 },
    { name: "just above a multiple adds one", load: 14.1, from: 2, want: 3 },
    { name: "light load keeps one", load: 0.5, from: 1, want: 1 },
    { name: "target is capped by the hard concurrency limit", load: 35, from: 8, spec: { concurrency: 5 }, want: 10 },
    { name: "utilization is a parameter", load: 35, from: 4, tuning: { utilization: 0.5 }, want: 7 },
    { name: "scale down to what fits under the deadband", load: 10, from: 4, want: 2 },
  ] satisfies Array<One & { name: string; want: number }>)("$name", (c) => {
    const d = decideOne(c);
    expect(d.desired).toBe(c.want);
    expect(d.mode).toBe("stable");
  });

  it("explains itself", () => {
    expect(decideOne({ load: 35, from: 3 }).reason).toBe("stable: 35 avg over 60s, 3 -> 5");
    expect(decideOne({ load: 7.1, from: 2 }).reason).toBe("stable: 7.1 avg over 60s, holding 2");
  });
});

describe("rate limits", () => {
  it.each([
    { name: "1000x of one ready replica", load: 1e6, from: 1, ready: 1, want: 1000 },
    { name: "from zero counts as one", load: 1e6, from: 0, ready: 0, want: 1000 },
    { name: "1000x of three", load: 1e6, from: 3, ready: 3, want: 3000 },
    { name: "never cuts an existing count", load: 1e6, from: 5000, ready: 2, want: 5000 },
  ] satisfies Array<One & { name: string; want: number }>)("scale up: $name", (c) => {
    expect(decideOne(c).desired).toBe(c.want);
  });

  it.each([
    { from: 16, want: 8 },
    { from: 15, want: 8 },
    { from: 3, want: 2 },
    { from: 2, want: 1 },
  ])("scale down halves at most: $from -> $want", ({ from, want }) => {
    expect(decideOne({ load: 0.1, from }).desired).toBe(want);
  });

  it("steps down one halving per tick without a delay", () => {
    const steps = simulate({ spec: makeTestSpec(), load: () => 1, startReplicas: 16, durationMs: 10_000, tuning: { scaleDownDelayMs: 0 } });
    expect(steps.map((s) => s.desired)).toEqual([8, 4, 2, 1, 1]);
  });

  it("never more than halves per tick with the default delay", () => {
    const steps = simulate({ spec: makeTestSpec(), load: () => 1, startReplicas: 64, durationMs: 120_000 });
    let prev = 64;
    for (const s of steps) {
      expect(s.desired).toBeGreaterThanOrEqual(Math.ceil(prev / 2));
      prev = s.desired;
    }
    expect(prev).toBe(1);
  });
});

describe("clamping", () => {
  it.each([
    { name: "min raises a light load", load: 1, from: 3, spec: { min: 3 }, want: 3 },
    { name: "max caps a heavy load", load: 100, from: 4, spec: { max: 6 }, want: 6 },
    { name: "max 0 is unbounded", load: 700, from: 60, spec: { max: 0 }, want: 100 },
    { name: "min > 0 never goes to zero when idle", load: 0, from: 2, spec: { min: 2 }, nowMs: 600_000, want: 2 },
  ] satisfies Array<One & { name: string; want: number }>)("$name", (c) => {
    expect(decideOne({ ...c, state: makeAutoscalerState(0) }).desired).toBe(c.want);
  });

  it("notes the bound in the reason", () => {
    expect(decideOne({ load: 100, from: 6, spec: { max: 6 } }).reason).toContain("max 6");
  });
});

describe("panic", () => {
  const spec = makeTestSpec();
  // 5 in flight (one replica's worth) until 60s, a burst of 70 until 90s, then 5 again.
  const burst = (t: number) => (t > 60_000 && t <= 90_000 ? 70 : 5);
  const steps = simulate({ spec, load: burst, startReplicas: 1, durationMs: 240_000 });
  const at = (t: number) => steps.find((s) => s.atMs === t)!;

  it("enters on the first tick the burst shows in the panic window", () => {
    expect(at(60_000).mode).toBe("stable");
    expect(at(62_000).mode).toBe("panic");
    expect(at(62_000).desired).toBeGreaterThan(1);
    expect(at(62_000).reason).toMatch(/^panic: \d+(\.\d)? in flight over 6s, 1 -> \d+$/);
  });

  it("scales up to the burst and never down while panicking", () => {
    const panicking = steps.filter((s) => s.mode === "panic");
    for (let i = 1; i < panicking.length; i++) expect(panicking[i]!.desired).toBeGreaterThanOrEqual(panicking[i - 1]!.desired);
    expect(Math.max(...panicking.map((s) => s.desired))).toBe(10);
  });

  it("leaves exactly one stable window after the panic condition last held", () => {
    const lastPanicMs = Math.max(...steps.map((s) => s.state.lastPanicMs ?? 0));
    expect(at(lastPanicMs + 58_000).mode).toBe("panic");
    expect(at(lastPanicMs + 60_000).mode).toBe("stable");
    expect(at(lastPanicMs + 60_000).reason).toMatch(/^panic over; stable: /);
  });

  it("scales back to the steady load afterwards", () => {
    expect(steps.at(-1)!.desired).toBe(1);
  });

  it("starts in panic after a restart with several replicas, holding them", () => {
    const state = makeAutoscalerState(0, 4);
    const held = simulate({ spec, load: () => 1, startReplicas: 4, durationMs: 58_000, state });
    expect(held.every((s) => s.desired === 4 && s.mode === "panic")).toBe(true);
  });
});

describe("scale to zero", () => {
  const spec = makeTestSpec({ scaleToZeroAfterMs: 30_000 });
  // Traffic until 20s (the sample at 20s still sees a request), then silence.
  const steps = simulate({ spec, load: (t) => (t <= 20_000 ? 5 : 0), startReplicas: 1, durationMs: 60_000 });
  const at = (t: number) => steps.find((s) => s.atMs === t)!;

  it("happens exactly scaleToZeroAfter after the last traffic, not a tick earlier", () => {
    expect(at(48_000).desired).toBe(1);
    expect(at(50_000).desired).toBe(0);
    expect(at(50_000).reason).toBe("idle for 30s: to zero");
  });

  it("stays at zero without demand", () => {
    expect(at(52_000)).toMatchObject({ desired: 0, reason: "idle: at zero" });
  });

  it("counts extra demand (a backlog) as traffic", () => {
    const s = simulate({ spec, load: () => 0, extra: (t) => (t <= 20_000 ? 1 : 0), startReplicas: 1, durationMs: 60_000 });
    expect(s.find((x) => x.atMs === 48_000)!.desired).toBe(1);
    expect(s.find((x) => x.atMs === 50_000)!.desired).toBe(0);
  });

  it("ends a panic when everything went silent", () => {
    const s = simulate({ spec, load: (t) => (t <= 10_000 ? 100 : 0), startReplicas: 1, durationMs: 42_000 });
    expect(s.find((x) => x.atMs === 10_000)!.mode).toBe("panic");
    expect(s.find((x) => x.atMs === 40_000)).toMatchObject({ desired: 0, mode: "stable" });
  });
});

describe("scale from zero", () => {
  const idle = makeAutoscalerState(0);
  it.each([
    { name: "no demand stays at zero", load: 0, extra: 0, want: 0 },
    { name: "one request in flight", load: 1, extra: 0, want: 1 },
    { name: "extra demand only", load: 0, extra: 1, want: 1 },
    { name: "a big backlog scales past one", load: 0, extra: 30, want: 5 },
  ])("$name -> $want", ({ load, extra, want }) => {
    let w = makeWindow({ retainMs: 60_000 });
    for (let t = 0; t <= 100_000; t += 1000) w = recordSample(w, t, t === 100_000 ? load : 0);
    const d = decideScale({
      spec: makeTestSpec(),
      observed: { readyReplicas: 0, currentDesired: 0 },
      metrics: w,
      extraDemand: extra,
      state: idle,
      nowMs: 100_000,
    });
    expect(d.desired).toBe(want);
  });

  it("does not start a fresh function that nobody called", () => {
    const steps = simulate({ spec: makeTestSpec(), load: () => 0, startReplicas: 0, durationMs: 10_000 });
    expect(steps.every((s) => s.desired === 0)).toBe(true);
  });
});
