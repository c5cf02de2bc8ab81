import { describe, expect, it } from "vitest";
import { makeLogger } from "../logger.ts";
import { Registry } from "../metrics.ts";
import type { InferContext, Tensors } from "../oip/types.ts";
import type { BatchClock } from "./batcher.ts";
import { makeBatchedInfer, makeBatchMetrics } from "./model-batcher.ts";

/** A clock whose time moves only when the test says. */
function fakeClock() {
  let now = 0;
  let nextId = 0;
  const timers = new Map<number, { at: number; callback: () => void }>();
  const clock: BatchClock = {
    now: () => now,
    setTimer: (callback, delayMs) => (timers.set(++nextId, { at: now + delayMs, callback }), nextId),
    clearTimer: (handle) => void timers.delete(handle as number),
  };
  const advance = (ms: number) => {
    now += ms;
    for (;;) {
      const due = [...timers].filter(([, t]) => t.at <= now).sort((a, b) => a[1].at - b[1].at)[0];
      if (!due) return;
      timers.delete(due[0]);
      due[1].callback();
    }
  };
  return { clock, advance, armed: () => timers.size };
}

const row = (...values: number[]): Tensors => ({ x: { datatype: "FP32", shape: [1, values.length], data: new Float32Array(values) } });
const flush = () => new Promise((resolve) => setImmediate(resolve));

function makeCtx(requestId: string, outputs = ["y"]) {
  const controller = new AbortController();
  const ctx = { requestId, version: undefined, parameters: {}, outputs, signal: controller.signal } as unknown as InferContext<unknown>;
  return { ctx, abort: () => controller.abort(new Error(`${requestId} gave up`)) };
}

/** y = 10x over rows; a row starting with 666 throws. Records each call's rows and context. */
function setup(maxSize = 4, maxDelayMs = 10) {
  const calls: Array<{ rows: number; ctx: InferContext<unknown> }> = [];
  const registry = new Registry();
  const { clock, advance, armed } = fakeClock();
  const infer = makeBatchedInfer({
    spec: { maxSize, maxDelayMs },
    outputs: [{ name: "y", datatype: "FP32", shape: [-1, -1] }],
    metrics: makeBatchMetrics(registry),
    logger: makeLogger({ level: "error", write: () => {} }),
    clock,
    infer: async (inputs, ctx) => {
      const x = inputs.x!;
      calls.push({ rows: x.shape[0]!, ctx });
      if ((x.data as Float32Array).some((v, i) => i % x.shape[1]! === 0 && v === 666)) throw new Error("poisoned");
      return { y: { datatype: "FP32", shape: x.shape, data: (x.data as Float32Array).map((v) => v * 10) } };
    },
  });
  const run = (inputs: Tensors, id: string) => infer(inputs, makeCtx(id).ctx);
  return { infer, run, calls, advance, armed, metrics: () => registry.render() };
}
const data = (outputs: Tensors) => Array.from(outputs.y!.data as Float32Array);

describe("makeBatchedInfer", () => {
  it("sends a full batch at once and splits the outputs back by request", async () => {
    const { run, calls, metrics } = setup(3);
    const results = await Promise.all([run(row(1, 2), "a"), run(row(3, 4), "b"), run({ x: { datatype: "FP32", shape: [1, 2], data: new Float32Array([5, 6]) } }, "c")]);
    expect(calls.map((c) => c.rows)).toEqual([3]);
    expect(results.map(data)).toEqual([[10, 20], [30, 40], [50, 60]]);
    expect(results[0]!.y!.shape).toEqual([1, 2]);
    expect(metrics()).toContain('skiff_batch_size_bucket{le="4"} 1');
    expect(metrics()).toContain("skiff_batch_delay_seconds_count 3");
  });

  it("holds a lone request exactly maxDelay, then runs it alone", async () => {
    const { run, calls, advance, armed } = setup(4, 10);
    const result = run(row(1), "a");
    advance(9);
    await flush();
    expect(calls).toEqual([]);
    advance(1);
    expect(data(await result)).toEqual([10]);
    expect(calls.map((c) => c.rows)).toEqual([1]);
    expect(armed()).toBe(0);
  });

  it("measures maxDelay from the oldest request of a batch", async () => {
    const { run, calls, advance } = setup(8, 10);
    const first = run(row(1), "a");
    advance(6);
    const second = run(row(2), "b");
    advance(4);
    expect((await Promise.all([first, second])).map(data)).toEqual([[10], [20]]);
    expect(calls.map((c) => c.rows)).toEqual([2]);
  });

  it("does not mix requests of different shapes", async () => {
    const { run, calls, advance } = setup(4, 10);
    const results = Promise.all([run(row(1, 1), "a"), run(row(2), "b"), run(row(3, 3), "c")]);
    advance(10);
    expect((await results).map(data)).toEqual([[10, 10], [20], [30, 30]]);
    expect(calls.map((c) => c.rows).sort()).toEqual([1, 2]);
  });

  it("retries a failed batch one request at a time, so only the poisoned request fails", async () => {
    const { run, calls, metrics } = setup(3);
    const results = await Promise.allSettled([run(row(1), "a"), run(row(666), "b"), run(row(3), "c")]);
    expect(results.map((r) => r.status)).toEqual(["fulfilled", "rejected", "fulfilled"]);
    expect((results[1] as PromiseRejectedResult).reason).toEqual(new Error("poisoned"));
    expect(data((results[2] as PromiseFulfilledResult<Tensors>).value)).toEqual([30]);
    expect(calls.map((c) => c.rows)).toEqual([3, 1, 1, 1]);
    expect(metrics()).toContain("skiff_batch_retries_total 1");
  });

  it("drops a request that gave up while waiting, with its own reason", async () => {
    const { infer, run, calls, advance } = setup(4, 10);
    const quitter = makeCtx("q");
    const gaveUp = infer(row(9), quitter.ctx);
    const stays = run(row(1), "a");
    quitter.abort();
    await expect(gaveUp).rejects.toThrow("q gave up");
    advance(10);
    expect(data(await stays)).toEqual([10]);
    expect(calls.map((c) => c.rows)).toEqual([1]);
  });

  it("gives the batched call a signal that fires only when every request has given up", async () => {
    const { infer, calls } = setup(2);
    const [a, b] = [makeCtx("a"), makeCtx("b")];
    const both = Promise.all([infer(row(1), a.ctx), infer(row(2), b.ctx)]);
    await both;
    const signal = calls[0]!.ctx.signal;
    expect(calls[0]!.ctx.requestId).toBe("a");
    a.abort();
    expect(signal.aborted).toBe(false);
    b.abort();
    expect(signal.aborted).toBe(true);
  });

  it("runs a request that cannot be batched (scalar input) at once", async () => {
    const { run, calls } = setup(4, 10);
    const result = run({ x: { datatype: "FP32", shape: [], data: new Float32Array([2]) } }, "s");
    expect(calls).toHaveLength(1);
    expect(data(await result)).toEqual([20]);
  });
});
