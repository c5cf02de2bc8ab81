import { ConcurrencyLimiter } from "./limiter.ts";
import { Counter, Gauge, Histogram, LATENCY_BUCKETS_SECONDS, Registry } from "./metrics.ts";

/** Lifecycle of one replica: starting (init running) -> ready -> draining -> stopped. */
export type Phase = "starting" | "ready" | "draining" | "stopped";

/** Mutable state shared by the server, the request pipeline and the metrics endpoint. */
export interface ReplicaState {
  phase: Phase;
  readonly limiter: ConcurrencyLimiter;
  readonly metrics: ReplicaMetrics;
  /** Resolves when nothing is in flight or queued; re-armed as requests come and go. */
  idle(): Promise<void>;
  /** Called by the pipeline when a request finishes. */
  notifySettled(): void;
}

/** The metrics every replica exposes at /_skiff/metrics. */
export interface ReplicaMetrics {
  registry: Registry;
  requests: Counter;
  errors: Counter;
  duration: Histogram;
  initSeconds: { value: number };
}

/** Creates replica state with its limiter and metrics. */
export function makeReplicaState(options: { concurrency: number; queueSize: number }): ReplicaState {
  const limiter = new ConcurrencyLimiter(options.concurrency, options.queueSize);
  const registry = new Registry();
  const initSeconds = { value: 0 };
  const startedAt = Date.now() / 1000;
  let idleWaiters: Array<() => void> = [];
  const state: ReplicaState = {
    phase: "starting",
    limiter,
    metrics: {
      registry,
      requests: registry.add(new Counter("skiff_requests_total", "Requests handled, by kind (http|event) and status code.")),
      errors: registry.add(new Counter("skiff_errors_total", "Requests that failed, by reason (handler|timeout|body_too_large|invalid_event|unavailable).")),
      duration: registry.add(new Histogram("skiff_request_duration_seconds", "Time from arrival to response.", LATENCY_BUCKETS_SECONDS)),
      initSeconds,
    },
    idle: () =>
      limiter.inFlight + limiter.queued === 0 ? Promise.resolve() : new Promise((resolve) => idleWaiters.push(resolve)),
    notifySettled: () => {
      if (idleWaiters.length === 0 || limiter.inFlight + limiter.queued > 0) return;
      const waiters = idleWaiters;
      idleWaiters = [];
      for (const resolve of waiters) resolve();
    },
  };
  registry.add(new Gauge("skiff_in_flight_requests", "Requests in handlers now.", () => limiter.inFlight));
  registry.add(new Gauge("skiff_queued_requests", "Requests waiting for a concurrency slot.", () => limiter.queued));
  registry.add(new Gauge("skiff_concurrency_limit", "Per-replica concurrency limit.", () => limiter.concurrency));
  registry.add(new Gauge("skiff_ready", "1 when the replica takes traffic.", () => (state.phase === "ready" ? 1 : 0)));
  registry.add(new Gauge("skiff_init_duration_seconds", "How long init took (model loading included).", () => initSeconds.value));
  registry.add(new Gauge("skiff_process_start_time_seconds", "Unix time the replica process started.", () => startedAt));
  return state;
}
