// One revision's admission: which ready replica gets a request, how many each holds, and the
// FIFO queue of requests waiting for a slot (at zero replicas, or with all of them full).
// Time comes from an injected clock so deadlines are tested without sleeping.
import type { Clock, TimerHandle } from "../autoscaler/index.ts";
import { pickLeastOutstanding, type Candidate } from "./balancer.ts";
import type { ClientGone } from "./client-watch.ts";
import { QueueFullError, QueueTimeoutError, RequestAbortedError } from "./errors.ts";
import type { Endpoint } from "./types.ts";

/** A slot on one replica, held while the request is in flight. */
export interface Slot {
  replica: Endpoint;
  /** How long the request waited in the queue (0 when a slot was free at once). */
  waitedMs: number;
  /** The request waited because the revision had no ready replica when it arrived. */
  coldStart: boolean;
  /** Gives the slot back; idempotent. */
  release(): void;
}

/** How a request asks for a slot. */
export interface AcquireOptions {
  /** Longest the request may wait in the queue. */
  timeoutMs: number;
  /** The request leaves the queue when its client goes away. */
  client?: ClientGone;
  /** A replica not to use (the one that just failed this request). */
  exclude?: string;
  /** Go to the head of the queue, past its bound: a retry of a request already admitted. */
  retry?: boolean;
}

/** Fixed settings of one revision's dispatcher. */
export interface DispatcherOptions {
  fn: string;
  revision: string;
  /** Most requests outstanding per replica (spec.scale.concurrency). */
  capacity: number;
  /** Most requests waiting. */
  maxQueue: number;
  clock: Clock;
  /** Called after a request joins the queue (the gateway pokes the autoscaler). */
  onQueued(): void;
}

interface Waiter {
  readonly enqueuedMs: number;
  readonly coldStart: boolean;
  readonly exclude: string | undefined;
  resolve(slot: Slot): void;
  reject(error: Error): void;
  /** Clears the deadline timer and the abort listener. */
  cleanup(): void;
}

/** Admission and least-outstanding dispatch for one revision. */
export class RevisionDispatcher {
  private endpoints: Endpoint[] = [];
  private readonly outstanding = new Map<string, number>();
  private readonly waiting: Waiter[] = [];
  private readonly suspended = new Map<string, TimerHandle>();
  private active = 0;
  private rotation = 0;
  private capacity: number;

  constructor(private readonly options: DispatcherOptions) {
    this.capacity = options.capacity;
  }

  /** Requests holding a slot now. */
  get inFlight(): number {
    return this.active;
  }
  /** Requests waiting for a slot now. */
  get queued(): number {
    return this.waiting.length;
  }
  /** Ready replicas known now (suspended ones included). */
  get readyCount(): number {
    return this.endpoints.length;
  }
  /** Requests outstanding on one replica (tests, stats). */
  outstandingOn(replicaId: string): number {
    return this.outstanding.get(replicaId) ?? 0;
  }

  /** Changes the per-replica limit (the function's spec changed); a higher one frees slots at once. */
  setCapacity(capacity: number): void {
    if (capacity === this.capacity) return;
    this.capacity = capacity;
    this.dispatchWaiting();
  }

  /** Replaces the ready replicas and hands free slots to waiting requests. */
  setEndpoints(endpoints: ReadonlyArray<Endpoint>): void {
    this.endpoints = [...endpoints];
    this.dispatchWaiting();
  }

  /** True when a ready replica other than `replicaId` exists (worth retrying there). */
  hasOtherReplica(replicaId: string): boolean {
    return this.endpoints.some((e) => e.id !== replicaId && !this.suspended.has(e.id));
  }

  /**
   * Keeps new requests off a replica for `ms` (it refused a connection: it is gone, and the
   * platform's readiness view has not caught up). Waiting requests are re-dispatched after.
   */
  suspend(replicaId: string, ms: number): void {
    if (this.suspended.has(replicaId)) return;
    const timer = this.options.clock.setTimeout(() => {
      this.suspended.delete(replicaId);
      this.dispatchWaiting();
    }, ms);
    this.suspended.set(replicaId, timer);
  }

  /**
   * Resolves with a slot once one is free; rejects with QueueFullError at once, or
   * QueueTimeoutError / RequestAbortedError while waiting.
   */
  acquire(options: AcquireOptions): Promise<Slot> {
    if (options.client?.gone) return Promise.reject(new RequestAbortedError());
    // A free slot goes straight to a new request only when nobody waits: FIFO otherwise.
    if (this.waiting.length === 0) {
      const replica = this.pick(options.exclude);
      if (replica) return Promise.resolve(this.grant(replica, 0, false));
    }
    if (!options.retry && this.waiting.length >= this.options.maxQueue) {
      return Promise.reject(new QueueFullError(this.options.fn, this.waiting.length, this.endpoints.length));
    }
    const promise = this.enqueue(options);
    this.dispatchWaiting();
    this.options.onQueued();
    return promise;
  }

  /** Rejects every waiting request with `error` and clears timers (the gateway is stopping). */
  close(error: Error): void {
    for (const w of this.waiting.splice(0)) {
      w.cleanup();
      w.reject(error);
    }
    for (const timer of this.suspended.values()) this.options.clock.clearTimeout(timer);
    this.suspended.clear();
  }

  private enqueue(options: AcquireOptions): Promise<Slot> {
    const { clock } = this.options;
    return new Promise<Slot>((resolve, reject) => {
      let timer: TimerHandle;
      let stopWatching: (() => void) | undefined;
      const waiter: Waiter = {
        enqueuedMs: clock.now(),
        coldStart: this.endpoints.length === 0,
        exclude: options.exclude,
        resolve,
        reject,
        cleanup: () => {
          clock.clearTimeout(timer);
          stopWatching?.();
        },
      };
      timer = clock.setTimeout(() => {
        const queued = this.waiting.length;
        this.leave(waiter, () => this.timeoutError(clock.now() - waiter.enqueuedMs, queued));
      }, options.timeoutMs);
      stopWatching = options.client?.onGone(() => this.leave(waiter, () => new RequestAbortedError()));
      if (options.retry) this.waiting.unshift(waiter);
      else this.waiting.push(waiter);
    });
  }

  /** Takes a waiter out of the queue and fails it, unless it already got a slot. */
  private leave(waiter: Waiter, makeError: () => Error): void {
    const index = this.waiting.indexOf(waiter);
    if (index < 0) return;
    this.waiting.splice(index, 1);
    waiter.cleanup();
    waiter.reject(makeError());
  }

  private timeoutError(waitedMs: number, queued: number): QueueTimeoutError {
    return new QueueTimeoutError(this.options.fn, waitedMs, queued, this.endpoints.length, this.capacity);
  }

  /**
   * Hands free slots to waiters, earliest first. A waiter excluding the only free replica is
   * skipped so later ones can use it; one without exclusions finding nothing means nothing is
   * free for anyone, so the scan stops there (O(1) when saturated).
   */
  private dispatchWaiting(): void {
    for (let i = 0; i < this.waiting.length; ) {
      const waiter = this.waiting[i]!;
      const replica = this.pick(waiter.exclude);
      if (!replica) {
        if (waiter.exclude === undefined) return;
        i++;
        continue;
      }
      this.waiting.splice(i, 1);
      waiter.cleanup();
      const waitedMs = this.options.clock.now() - waiter.enqueuedMs;
      waiter.resolve(this.grant(replica, waitedMs, waiter.coldStart));
    }
  }

  private pick(exclude: string | undefined): Endpoint | undefined {
    const candidates: Candidate[] = [];
    for (const e of this.endpoints) {
      if (e.id === exclude || this.suspended.has(e.id)) continue;
      candidates.push({ id: e.id, outstanding: this.outstanding.get(e.id) ?? 0 });
    }
    const id = pickLeastOutstanding(candidates, this.capacity, this.rotation);
    if (id === undefined) return undefined;
    this.rotation = (this.rotation + 1) % 1_000_000;
    return this.endpoints.find((e) => e.id === id);
  }

  private grant(replica: Endpoint, waitedMs: number, coldStart: boolean): Slot {
    this.outstanding.set(replica.id, (this.outstanding.get(replica.id) ?? 0) + 1);
    this.active++;
    let released = false;
    return {
      replica,
      waitedMs,
      coldStart,
      release: () => {
        if (released) return;
        released = true;
        this.active--;
        const left = (this.outstanding.get(replica.id) ?? 1) - 1;
        // Forget replicas with nothing outstanding so ids of long-gone replicas do not pile up.
        if (left <= 0) this.outstanding.delete(replica.id);
        else this.outstanding.set(replica.id, left);
        this.dispatchWaiting();
      },
    };
  }
}
