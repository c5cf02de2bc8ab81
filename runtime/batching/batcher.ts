// The thin shell around BatchQueue: stamps arrivals with the clock, keeps one timer armed for
// the next group to fall due, and hands every ready batch to `dispatch`.
import type { BatchSpec } from "../../spec/types.ts";
import { BatchQueue, type Batch, type Pending } from "./queue.ts";

/** Time and a timer; tests pass a fake one to drive batching without sleeping. */
export interface BatchClock {
  now(): number;
  setTimer(callback: () => void, delayMs: number): unknown;
  clearTimer(handle: unknown): void;
}

/** Monotonic time and Node timers. */
export const systemClock: BatchClock = {
  now: () => performance.now(),
  setTimer: (callback, delayMs) => setTimeout(callback, delayMs),
  clearTimer: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
};

/** Collects requests into batches and dispatches each as soon as the queue says it is ready. */
export class Batcher<T> {
  private readonly queue: BatchQueue<T>;
  private timer: unknown;
  private timerDueMs: number | undefined;

  constructor(
    spec: BatchSpec,
    private readonly dispatch: (batch: Batch<T>, nowMs: number) => void,
    private readonly clock: BatchClock = systemClock,
  ) {
    this.queue = new BatchQueue(spec);
  }

  /** Requests waiting now. */
  get waiting(): number {
    return this.queue.waiting;
  }

  /** Queues a request (dispatching any batch it completes) and returns its handle for `remove`. */
  add(key: string, rows: number, value: T): Pending<T> {
    const nowMs = this.clock.now();
    const item: Pending<T> = { key, rows, enqueuedAtMs: nowMs, value };
    const ready = this.queue.add(item, nowMs);
    this.arm();
    for (const batch of ready) this.dispatch(batch, nowMs);
    return item;
  }

  /** Withdraws a waiting request; false when it already left in a batch. */
  remove(item: Pending<T>): boolean {
    const removed = this.queue.remove(item);
    if (removed) this.arm();
    return removed;
  }

  /** Keeps exactly one timer, set for the earliest due group (re-armed only when that changes). */
  private arm(): void {
    const dueMs = this.queue.nextDueMs();
    if (dueMs === this.timerDueMs) return;
    if (this.timer !== undefined) this.clock.clearTimer(this.timer);
    this.timer = undefined;
    this.timerDueMs = dueMs;
    if (dueMs === undefined) return;
    this.timer = this.clock.setTimer(() => this.fire(), Math.max(0, Math.ceil(dueMs - this.clock.now())));
  }

  private fire(): void {
    this.timer = undefined;
    this.timerDueMs = undefined;
    const nowMs = this.clock.now();
    const ready = this.queue.takeDue(nowMs);
    // A timer that fired a hair early finds nothing due and is simply re-armed.
    this.arm();
    for (const batch of ready) this.dispatch(batch, nowMs);
  }
}
