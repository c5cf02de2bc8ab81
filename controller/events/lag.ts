// Consumer lag as demand for the autoscaler, the way KEDA's JetStream scaler reads it:
// lag = num_pending (not yet delivered) + num_ack_pending (delivered, not yet acked). In-flight
// work counts, so replicas busy with events are not scaled away mid-work, and an event-only
// function at zero replicas wakes up as soon as an event waits for it.
import type { JetStreamManager } from "@nats-io/jetstream";
import { LagReadError } from "./errors.ts";

/** Pending plus ack-pending messages of one durable consumer. */
export async function readLag(jsm: JetStreamManager, stream: string, consumerName: string): Promise<number> {
  try {
    const info = await jsm.consumers.info(stream, consumerName);
    return info.num_pending + info.num_ack_pending;
  } catch (error) {
    throw new LagReadError(`failed to read the lag of consumer "${consumerName}" on stream ${stream}: ${(error as Error).message}`, { cause: error });
  }
}

/** A consumer whose lag counts toward a function's demand. */
export interface LagSource {
  fn: string;
  stream: string;
  consumer: string;
}

/** Timers the poller uses; the autoscaler's Clock (and systemClock) fits. */
export interface LagClock {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

/** Options of startLagPoller. */
export interface LagPollerOptions {
  jsm: JetStreamManager;
  /** Read on every tick, so consumers added or removed since the last tick are followed. */
  consumers: () => LagSource[];
  intervalMs?: number;
  /** Called each tick for every function whose consumers could all be read, with their summed lag. */
  onLag: (fn: string, lag: number) => void;
  /** A consumer that could not be read; its function is not reported this tick (better than under-reporting). */
  onError?: (error: LagReadError, source: LagSource) => void;
  clock?: LagClock;
}

/** A running poller. */
export interface LagPoller {
  /** The last lag reported per function. */
  lastLag(): ReadonlyMap<string, number>;
  /** Polls once now (also what each tick does). */
  poll(): Promise<void>;
  stop(): void;
}

const realTimers: LagClock = {
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
};

/** Polls every consumer's lag each intervalMs (default 1 s) and reports it per function. */
export function startLagPoller(options: LagPollerOptions): LagPoller {
  const clock = options.clock ?? realTimers;
  const intervalMs = options.intervalMs ?? 1_000;
  const last = new Map<string, number>();
  let stopped = false;
  let timer: unknown;

  const poll = async (): Promise<void> => {
    const sources = options.consumers();
    const results = await Promise.all(sources.map(async (source) => {
      try {
        return { source, lag: await readLag(options.jsm, source.stream, source.consumer) };
      } catch (error) {
        options.onError?.(error as LagReadError, source);
        return { source, lag: undefined };
      }
    }));
    const byFn = new Map<string, number | undefined>();
    for (const { source, lag } of results) {
      const sum = byFn.has(source.fn) ? byFn.get(source.fn) : 0;
      byFn.set(source.fn, sum === undefined || lag === undefined ? undefined : sum + lag);
    }
    for (const [fn, lag] of byFn) {
      if (lag === undefined || stopped) continue;
      last.set(fn, lag);
      options.onLag(fn, lag);
    }
  };
  // Ticks never overlap: the next is scheduled when this one has finished.
  const tick = (): void => {
    // A throwing onLag must not end the polling; the next tick reports again.
    void poll().catch(() => undefined).finally(() => {
      if (!stopped) timer = clock.setTimeout(tick, intervalMs);
    });
  };
  timer = clock.setTimeout(tick, 0);
  return {
    lastLag: () => last,
    poll,
    stop: () => {
      stopped = true;
      clock.clearTimeout(timer);
    },
  };
}
