import { describe, expect, it } from "vitest";
import { AutoscalerTickError, ScaleApplyError } from "./errors.ts";
import { makeFakeClock } from "./fake-clock.ts";
import { type AutoscalerDecision, type AutoscalerOptions, HISTORY_LIMIT, startAutoscaler } from "./runner.ts";
import { makeTestSpec } from "./simulate.ts";

// A runner wired to in-memory observations. Replicas become ready the moment they are
// applied unless `instant` is false; everything it did is recorded for assertions.
function harness(over: Partial<AutoscalerOptions> & { replicas?: number; instant?: boolean } = {}) {
  const clock = makeFakeClock(0);
  const io = {
    concurrency: 0,
    replicas: { ready: over.replicas ?? 0, desired: over.replicas ?? 0 },
    applied: [] as Array<{ atMs: number; n: number }>,
    decisions: [] as AutoscalerDecision[],
    errors: [] as Error[],
    reads: 0,
  };
  const scaler = startAutoscaler({
    spec: makeTestSpec(),
    name: "echo",
    clock,
    readConcurrency: () => (io.reads++, io.concurrency),
    readReplicas: () => ({ ...io.replicas }),
    applyDesired: (n) => {
      io.applied.push({ atMs: clock.now(), n });
      if (over.instant !== false) io.replicas = { ready: n, desired: n };
    },
    onDecision: (d) => io.decisions.push(d),
    onError: (err) => io.errors.push(err),
    ...over,
  });
  return { clock, io, scaler };
}

// Lets rejected promises from applyDesired settle (microtasks only; no time passes).
const settle = () => new Promise<void>((resolve) => setImmediate(resolve));

describe("startAutoscaler", () => {
  it("decides immediately on poke", () => {
    const { clock, io, scaler } = harness();
    clock.advance(500);
    io.concurrency = 1;
    scaler.poke();
    expect(io.applied).toEqual([{ atMs: 500, n: 1 }]);
    expect(io.decisions.at(-1)).toMatchObject({ trigger: "poke", from: 0, desired: 1 });
  });

  it.each([
    { tickMs: 2000, advanceMs: 10_000, want: [2000, 4000, 6000, 8000, 10_000] },
    { tickMs: 3000, advanceMs: 10_000, want: [3000, 6000, 9000] },
  ])("decides every $tickMs ms", ({ tickMs, advanceMs, want }) => {
    const { clock, io } = harness({ tickMs });
    clock.advance(advanceMs);
    expect(io.decisions.map((d) => d.atMs)).toEqual(want);
    expect(io.decisions.every((d) => d.trigger === "tick")).toBe(true);
  });

  it("samples concurrency every second (and once more before each decision)", () => {
    const { clock, io } = harness();
    clock.advance(10_000);
    expect(io.reads).toBe(10 + 5);
  });

  it("applies only decisions that change the count", () => {
    const { clock, io } = harness({ replicas: 2 });
    io.concurrency = 7.1;
    clock.advance(60_000);
    expect(io.decisions).toHaveLength(30);
    expect(io.applied).toEqual([]);
  });

  it("stop clears its timers and ignores later pokes and records", () => {
    const { clock, io, scaler } = harness();
    clock.advance(2000);
    scaler.stop();
    expect(clock.pending()).toBe(0);
    io.concurrency = 50;
    scaler.record(50);
    scaler.poke();
    clock.advance(60_000);
    expect(io.decisions).toHaveLength(1);
    expect(io.applied).toEqual([]);
  });

  it("keeps the last 20 notable decisions in history", () => {
    // applyDesired never takes effect, so every tick decides 0 -> 1 again and retries.
    const { clock, io, scaler } = harness({ instant: false });
    io.concurrency = 1;
    clock.advance(2000 * (HISTORY_LIMIT + 5));
    const history = scaler.history();
    expect(history).toHaveLength(HISTORY_LIMIT);
    expect(history[0]!.atMs).toBe(2000 * 6);
    expect(history.at(-1)!.atMs).toBe(2000 * (HISTORY_LIMIT + 5));
    expect(io.applied).toHaveLength(HISTORY_LIMIT + 5);
  });

  it("leaves decisions that change nothing out of history", () => {
    const { clock, io, scaler } = harness({ replicas: 1 });
    io.concurrency = 5;
    clock.advance(60_000);
    expect(scaler.history()).toEqual([]);
  });

  it("records leaving the restart panic in history (a mode change)", () => {
    // Restarted with 2 ready replicas: it holds them in panic for a stable window.
    const { clock, io, scaler } = harness({ replicas: 2 });
    io.concurrency = 7.1;
    clock.advance(60_000);
    expect(scaler.history()).toMatchObject([{ atMs: 60_000, mode: "stable", from: 2, desired: 2 }]);
  });

  it.each([
    { name: "a rejected promise", fail: () => Promise.reject(new Error("apiserver down")) },
    {
      name: "a synchronous throw",
      fail: () => {
        throw new Error("apiserver down");
      },
    },
  ])("keeps running when applyDesired fails with $name", async ({ fail }) => {
    let failing = true;
    const applied: number[] = [];
    const { clock, io } = harness({
      applyDesired: (n) => {
        if (failing) return fail();
        applied.push(n);
        io.replicas = { ready: n, desired: n };
      },
    });
    io.concurrency = 3;
    clock.advance(2000);
    await settle();
    expect(io.errors).toHaveLength(1);
    expect(io.errors[0]).toBeInstanceOf(ScaleApplyError);
    expect(io.errors[0]!.message).toBe('failed to scale function "echo" to 1');
    expect((io.errors[0]!.cause as Error).message).toBe("apiserver down");
    failing = false;
    clock.advance(2000);
    expect(applied).toEqual([1]);
  });

  it("skips a tick whose observations cannot be read", () => {
    let broken = true;
    const { clock, io } = harness({
      readReplicas: () => {
        if (broken) throw new Error("lister not synced");
        return { ...io.replicas };
      },
    });
    clock.advance(2000);
    expect(io.errors[0]).toBeInstanceOf(AutoscalerTickError);
    expect(io.errors[0]!.message).toBe('autoscaler for "echo" failed to decide');
    broken = false;
    clock.advance(2000);
    expect(io.decisions).toHaveLength(1);
  });

  it("record() pushes samples the next decision sees", () => {
    const { io, scaler } = harness();
    scaler.record(1); // the gateway saw a request arrive at zero
    scaler.poke();
    expect(io.applied).toEqual([{ atMs: 0, n: 1 }]);
  });

  it("counts extra demand", () => {
    const { io, scaler } = harness({ readExtraDemand: () => 30 });
    scaler.poke();
    expect(io.applied).toEqual([{ atMs: 0, n: 5 }]);
  });

  it("uses an updated spec from the next decision on", () => {
    const { clock, io, scaler } = harness({ replicas: 1 });
    io.concurrency = 7;
    clock.advance(2000);
    scaler.updateSpec(makeTestSpec({ min: 3 }));
    clock.advance(2000);
    expect(io.applied).toEqual([{ atMs: 4000, n: 3 }]);
  });

  it("scales to zero exactly scaleToZeroAfter after the last request", () => {
    const { clock, io } = harness({ replicas: 1 });
    io.concurrency = 2;
    clock.advance(10_000); // last busy sample at 10s
    io.concurrency = 0;
    clock.advance(29_999);
    expect(io.replicas.desired).toBe(1);
    clock.advance(1);
    expect(io.applied.at(-1)).toEqual({ atMs: 40_000, n: 0 });
    expect(io.decisions.at(-1)!.reason).toBe("idle for 30s: to zero");
  });
});
