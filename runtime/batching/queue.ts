// The pure core of adaptive batching: which waiting requests form a batch, and when. Time is
// passed in (`nowMs`), so tests drive it without timers; batcher.ts is the shell that owns one.
import type { BatchSpec } from "../../spec/types.ts";

/** A request waiting for its batch. */
export interface Pending<T> {
  /** Requests with equal keys may share a model call (same non-batch dims, datatypes, outputs). */
  readonly key: string;
  /** Its size along the batch (first) dimension. */
  readonly rows: number;
  readonly enqueuedAtMs: number;
  readonly value: T;
}

/** Requests to run as one model call, oldest first. */
export interface Batch<T> {
  readonly key: string;
  readonly items: Pending<T>[];
  /** Sum of the items' rows. */
  readonly rows: number;
}

interface Group<T> {
  items: Pending<T>[];
  rows: number;
}

/**
 * Groups pending requests by key. A group is released as a batch when its rows reach
 * `maxSize`, or once its OLDEST request has waited `maxDelayMs` (so no request waits longer,
 * and with maxDelayMs 0 nothing waits). A request that would push a group past maxSize
 * releases the group first and starts the next one; one larger than maxSize runs alone.
 */
export class BatchQueue<T> {
  private readonly groups = new Map<string, Group<T>>();

  constructor(private readonly spec: BatchSpec) {}

  /** Requests waiting now. */
  get waiting(): number {
    let count = 0;
    for (const group of this.groups.values()) count += group.items.length;
    return count;
  }

  /** Adds a request; returns the batches it made ready (usually none, at most two). */
  add(item: Pending<T>, nowMs: number): Batch<T>[] {
    const ready: Batch<T>[] = [];
    let group = this.groups.get(item.key);
    if (group && group.rows + item.rows > this.spec.maxSize) {
      ready.push(this.release(item.key, group));
      group = undefined;
    }
    if (!group) {
      group = { items: [], rows: 0 };
      this.groups.set(item.key, group);
    }
    group.items.push(item);
    group.rows += item.rows;
    if (group.rows >= this.spec.maxSize || this.isDue(group, nowMs)) ready.push(this.release(item.key, group));
    return ready;
  }

  /** Releases every group whose oldest request has waited maxDelayMs by `nowMs`. */
  takeDue(nowMs: number): Batch<T>[] {
    const ready: Batch<T>[] = [];
    for (const [key, group] of this.groups) if (this.isDue(group, nowMs)) ready.push(this.release(key, group));
    return ready;
  }

  /** When the next group falls due (its oldest request's arrival + maxDelayMs); undefined when empty. */
  nextDueMs(): number | undefined {
    let next: number | undefined;
    for (const group of this.groups.values()) {
      const due = group.items[0]!.enqueuedAtMs + this.spec.maxDelayMs;
      if (next === undefined || due < next) next = due;
    }
    return next;
  }

  /** Takes a waiting request out (its caller gave up); false when it already left in a batch. */
  remove(item: Pending<T>): boolean {
    const group = this.groups.get(item.key);
    const index = group ? group.items.indexOf(item) : -1;
    if (!group || index < 0) return false;
    group.items.splice(index, 1);
    group.rows -= item.rows;
    if (group.items.length === 0) this.groups.delete(item.key);
    return true;
  }

  private isDue(group: Group<T>, nowMs: number): boolean {
    return nowMs - group.items[0]!.enqueuedAtMs >= this.spec.maxDelayMs;
  }

  private release(key: string, group: Group<T>): Batch<T> {
    this.groups.delete(key);
    return { key, items: group.items, rows: group.rows };
  }
}
