// The gateway's shared state: one dispatcher and one set of counters per revision that has
// seen traffic, the agent pool, and the requests still being handled (for drain).
import { systemClock, type Clock } from "../autoscaler/index.ts";
import { renderMetrics, RevisionStats, summarize, type RevisionSnapshot } from "./metrics.ts";
import { AgentPool } from "./proxy.ts";
import { RevisionDispatcher } from "./revision-queue.ts";
import type { GatewayLogger, GatewayOptions, GatewayStats, Route } from "./types.ts";

/** Default bound of each revision's queue (Knative's activator allows 10000 across revisions). */
export const DEFAULT_MAX_QUEUE = 1000;
/** Default bound on how long stop() waits for requests to finish. */
export const DEFAULT_DRAIN_TIMEOUT_MS = 30_000;

/** A revision that has seen traffic. */
export interface RevisionEntry {
  readonly fn: string;
  readonly revision: string;
  readonly dispatcher: RevisionDispatcher;
  readonly stats: RevisionStats;
}

/** State shared by the request handler and the server shell. */
export class GatewayCore {
  readonly revisions = new Map<string, RevisionEntry>();
  /** Requests answered before a revision was chosen (400, 404, ...), by status. */
  readonly unrouted = new Map<number, number>();
  readonly pool = new AgentPool();
  /** Requests being handled now; stop() waits for them. */
  readonly pending = new Set<Promise<void>>();
  readonly clock: Clock;
  readonly logger: GatewayLogger;
  readonly random: () => number;
  readonly maxQueue: number;
  stopping = false;

  constructor(readonly options: GatewayOptions) {
    this.clock = options.clock ?? systemClock;
    this.logger = options.logger ?? defaultLogger;
    this.random = options.random ?? Math.random;
    this.maxQueue = options.queue?.maxPerRevision ?? DEFAULT_MAX_QUEUE;
  }

  /** The revision's entry, created (with its current ready replicas) on its first request. */
  entryFor(route: Route, revision: string): RevisionEntry {
    const existing = this.revisions.get(revision);
    if (existing) {
      existing.dispatcher.setCapacity(route.spec.scale.concurrency);
      return existing;
    }
    const dispatcher = new RevisionDispatcher({
      fn: route.fn,
      revision,
      capacity: route.spec.scale.concurrency,
      maxQueue: this.maxQueue,
      clock: this.clock,
      onQueued: () => this.demand(revision),
    });
    dispatcher.setEndpoints(this.options.endpoints.ready(revision));
    const entry: RevisionEntry = { fn: route.fn, revision, dispatcher, stats: new RevisionStats(route.fn, revision) };
    this.revisions.set(revision, entry);
    return entry;
  }

  /** Re-reads every known revision's ready replicas (some replica changed) and retires agents of gone ones. */
  refreshEndpoints(): void {
    const live = new Set<string>();
    for (const entry of this.revisions.values()) {
      const ready = this.options.endpoints.ready(entry.revision);
      for (const e of ready) live.add(e.url);
      entry.dispatcher.setEndpoints(ready);
    }
    this.pool.retainOnly(live);
  }

  /** In flight + queued for a revision (0 if unknown). */
  concurrency(revision: string): number {
    const entry = this.revisions.get(revision);
    return entry ? entry.dispatcher.inFlight + entry.dispatcher.queued : 0;
  }

  /** Stats of a revision id, else the sum over a function's revisions. */
  stats(revisionOrFn: string): GatewayStats | undefined {
    const entry = this.revisions.get(revisionOrFn);
    if (entry) return summarize(entry.fn, [snapshot(entry)]);
    const ofFn = [...this.revisions.values()].filter((e) => e.fn === revisionOrFn);
    return ofFn.length ? summarize(revisionOrFn, ofFn.map(snapshot)) : undefined;
  }

  /** Prometheus text of every revision. */
  metricsText(): string {
    return renderMetrics([...this.revisions.values()].map(snapshot), this.unrouted);
  }

  /** Counts an answer given before any revision was chosen. */
  recordUnrouted(status: number): void {
    this.unrouted.set(status, (this.unrouted.get(status) ?? 0) + 1);
  }

  /** Pokes the autoscaler; its failure must not fail the request that caused it. */
  private demand(revision: string): void {
    try {
      this.options.onDemand(revision);
    } catch (error) {
      this.logger.error("onDemand failed", { revision, error: String(error) });
    }
  }
}

function snapshot(entry: RevisionEntry): RevisionSnapshot {
  return { stats: entry.stats, inFlight: entry.dispatcher.inFlight, queued: entry.dispatcher.queued };
}

/** Warnings and errors to stderr; info is dropped unless the platform passes a logger. */
const defaultLogger: GatewayLogger = {
  info: () => undefined,
  warn: (message, fields) => console.error(`WARN gateway: ${message}`, fields ?? ""),
  error: (message, fields) => console.error(`ERROR gateway: ${message}`, fields ?? ""),
};
