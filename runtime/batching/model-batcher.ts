// Adaptive batching of model calls: concurrent compatible requests are joined into one infer
// call and its outputs split back. If a batched call fails, each of its requests is retried
// alone, so a request whose data makes the model throw fails only itself. Each request keeps
// its own timeout and AbortSignal: one that gives up while waiting leaves the queue, and the
// batched call's signal fires only once every request in it has given up.
import type { BatchSpec } from "../../spec/types.ts";
import { Counter, Histogram, type Registry } from "../metrics.ts";
import type { InferContext, TensorMetadata, Tensors } from "../oip/types.ts";
import type { Logger } from "../types.ts";
import { Batcher, systemClock, type BatchClock } from "./batcher.ts";
import type { Batch } from "./queue.ts";
import { batchKey, batchRows, concatInputs, splitOutputs } from "./tensor-batch.ts";

/** A model call as the OIP layer makes it. */
export type InferFn = (inputs: Tensors, ctx: InferContext<unknown>) => Promise<Tensors>;

/** Batching metrics in the replica's Prometheus registry. */
export interface BatchMetrics {
  /** Rows per model call. */
  batchSize: Histogram;
  /** Time each request waited for its batch. */
  delaySeconds: Histogram;
  /** Batched calls that failed and were retried request by request. */
  retries: Counter;
}

/** Registers the batching metrics. */
export function makeBatchMetrics(registry: Registry): BatchMetrics {
  return {
    batchSize: registry.add(new Histogram("skiff_batch_size", "Rows per model call (batch dimension).", [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024])),
    delaySeconds: registry.add(
      new Histogram("skiff_batch_delay_seconds", "Time a request waited for its batch.", [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1]),
    ),
    retries: registry.add(new Counter("skiff_batch_retries_total", "Batched model calls that failed and were retried one request at a time.")),
  };
}

interface Waiter {
  inputs: Tensors;
  ctx: InferContext<unknown>;
  resolve(outputs: Tensors): void;
  reject(reason: unknown): void;
}

/** What makeBatchedInfer needs. */
export interface BatchedInferOptions {
  spec: BatchSpec;
  infer: InferFn;
  /** The model's declared outputs (batched outputs are checked against them before splitting). */
  outputs: readonly TensorMetadata[];
  metrics: BatchMetrics;
  logger: Logger;
  clock?: BatchClock;
}

/** Wraps `infer` so that concurrent compatible requests share one call (see BatchQueue for when). */
export function makeBatchedInfer(options: BatchedInferOptions): InferFn {
  const { infer, metrics } = options;
  const callAlone = (w: Waiter, rows: number) => {
    metrics.batchSize.observe(rows);
    callInfer(infer, w.inputs, w.ctx).then(w.resolve, w.reject);
  };
  const batcher = new Batcher<Waiter>(options.spec, (batch, nowMs) => void runBatch(options, batch, nowMs, callAlone), options.clock ?? systemClock);
  return (inputs, ctx) => {
    const rows = batchRows(inputs);
    if (rows === undefined) {
      metrics.batchSize.observe(1);
      return callInfer(infer, inputs, ctx);
    }
    return new Promise<Tensors>((resolve, reject) => {
      const signal = ctx.signal;
      const pending = batcher.add(batchKey(inputs, ctx), rows, { inputs, ctx, resolve, reject });
      signal.addEventListener("abort", () => batcher.remove(pending) && reject(signal.reason), { once: true });
    });
  };
}

/** Runs one batch: requests that gave up are dropped, the rest share a call or fall back to one each. */
async function runBatch(options: BatchedInferOptions, batch: Batch<Waiter>, nowMs: number, callAlone: (w: Waiter, rows: number) => void) {
  const live = batch.items.filter(({ value }) => {
    const { signal } = value.ctx;
    if (signal.aborted) value.reject(signal.reason);
    return !signal.aborted;
  });
  for (const item of live) options.metrics.delaySeconds.observe((nowMs - item.enqueuedAtMs) / 1000);
  if (live.length <= 1) {
    if (live[0]) callAlone(live[0].value, live[0].rows);
    return;
  }
  const rows = live.map((item) => item.rows);
  options.metrics.batchSize.observe(rows.reduce((a, b) => a + b, 0));
  const waiters = live.map((item) => item.value);
  let parts;
  try {
    const outputs = await callInfer(options.infer, concatInputs(waiters.map((w) => w.inputs)), batchContext(waiters.map((w) => w.ctx)));
    const wanted = waiters[0]!.ctx.outputs.map((name) => options.outputs.find((o) => o.name === name)!);
    parts = splitOutputs(outputs, wanted, rows);
  } catch (error) {
    options.metrics.retries.inc();
    options.logger.warn("batched infer failed; retrying each request alone", {
      requests: waiters.length,
      error: error instanceof Error ? error.message : String(error),
    });
    live.forEach((item) => callAlone(item.value, item.rows));
    return;
  }
  waiters.forEach((w, i) => w.resolve(parts[i]!));
}

/** Calls infer, turning a synchronous throw into a rejection. */
function callInfer(infer: InferFn, inputs: Tensors, ctx: InferContext<unknown>): Promise<Tensors> {
  try {
    return Promise.resolve(infer(inputs, ctx));
  } catch (error) {
    return Promise.reject(error);
  }
}

/**
 * The batched call's context: the first request's (its requestId and logger), with a signal
 * that fires only when every request in the batch has given up.
 */
function batchContext(members: InferContext<unknown>[]): InferContext<unknown> {
  const controller = new AbortController();
  let gaveUp = 0;
  for (const member of members) {
    member.signal.addEventListener("abort", () => ++gaveUp === members.length && controller.abort(member.signal.reason), { once: true });
  }
  return Object.create(members[0]!, { signal: { value: controller.signal } }) as InferContext<unknown>;
}
