// The gateway's numbers per revision, as an object (stats(), `skiff describe`) and as
// Prometheus text. Hand-written like the runtime's registry: a handful of series, no dependency.
import type { GatewayStats } from "./types.ts";

/** Cold-start wait buckets, in seconds: from a warm-ish 50 ms to a slow model load. */
export const COLD_START_BUCKETS_SECONDS = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120] as const;

/** Counters of one revision; gauges (in flight, queued) are read from its dispatcher. */
export class RevisionStats {
  /** Finished requests by status. */
  readonly requests = new Map<number, number>();
  coldStarts = 0;
  coldStartWaitMsTotal = 0;
  coldStartWaitMsMax = 0;
  /** Non-cumulative counts per COLD_START_BUCKETS_SECONDS bound (the last slot is +Inf). */
  readonly coldStartBuckets: number[] = new Array<number>(COLD_START_BUCKETS_SECONDS.length + 1).fill(0);
  queueFull = 0;
  queueTimeout = 0;
  retries = 0;
  replicaFailures = 0;

  constructor(readonly fn: string, readonly revision: string) {}

  /** Counts a finished request. */
  recordRequest(status: number): void {
    this.requests.set(status, (this.requests.get(status) ?? 0) + 1);
  }

  /** Counts a request that waited for a replica to come up from zero. */
  recordColdStart(waitMs: number): void {
    this.coldStarts++;
    this.coldStartWaitMsTotal += waitMs;
    this.coldStartWaitMsMax = Math.max(this.coldStartWaitMsMax, waitMs);
    const seconds = waitMs / 1000;
    const index = COLD_START_BUCKETS_SECONDS.findIndex((bound) => seconds <= bound);
    this.coldStartBuckets[index < 0 ? COLD_START_BUCKETS_SECONDS.length : index]! += 1;
  }
}

/** A revision's counters plus its gauges, read at one moment. */
export interface RevisionSnapshot {
  stats: RevisionStats;
  inFlight: number;
  queued: number;
}

/** Sums snapshots (one revision, or all of a function's) into the stats() shape. */
export function summarize(fn: string, snapshots: ReadonlyArray<RevisionSnapshot>): GatewayStats {
  const out: GatewayStats = {
    fn,
    revisions: [],
    inFlight: 0,
    queued: 0,
    requests: {},
    coldStarts: { count: 0, totalWaitMs: 0, maxWaitMs: 0 },
    rejected: { queueFull: 0, queueTimeout: 0 },
    retries: 0,
    replicaFailures: 0,
  };
  for (const { stats: s, inFlight, queued } of snapshots) {
    out.revisions.push(s.revision);
    out.inFlight += inFlight;
    out.queued += queued;
    for (const [status, n] of s.requests) out.requests[String(status)] = (out.requests[String(status)] ?? 0) + n;
    out.coldStarts.count += s.coldStarts;
    out.coldStarts.totalWaitMs += s.coldStartWaitMsTotal;
    out.coldStarts.maxWaitMs = Math.max(out.coldStarts.maxWaitMs, s.coldStartWaitMsMax);
    out.rejected.queueFull += s.queueFull;
    out.rejected.queueTimeout += s.queueTimeout;
    out.retries += s.retries;
    out.replicaFailures += s.replicaFailures;
  }
  return out;
}

/** Prometheus text exposition of every revision, plus requests that matched no function. */
export function renderMetrics(snapshots: ReadonlyArray<RevisionSnapshot>, unrouted: ReadonlyMap<number, number>): string {
  const lines: string[] = [];
  const family = (name: string, type: string, help: string, series: Array<[labels: Labels, value: number]>) => {
    lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
    for (const [labels, value] of series) lines.push(`${name}${formatLabels(labels)} ${value}`);
  };
  const each = (read: (s: RevisionSnapshot) => number) => snapshots.map((s): [Labels, number] => [revisionLabels(s.stats), read(s)]);
  family("skiff_gateway_requests_total", "counter", "Requests answered, by function, revision and status (499: client went away).", [
    ...snapshots.flatMap((s) => [...s.stats.requests].map(([code, n]): [Labels, number] => [{ ...revisionLabels(s.stats), code: String(code) }, n])),
    ...[...unrouted].map(([code, n]): [Labels, number] => [{ fn: "", revision: "", code: String(code) }, n]),
  ]);
  family("skiff_gateway_in_flight", "gauge", "Requests sent to a replica and not finished.", each((s) => s.inFlight));
  family("skiff_gateway_queued", "gauge", "Requests waiting for a replica slot.", each((s) => s.queued));
  family("skiff_gateway_cold_starts_total", "counter", "Requests that waited for a replica because none was ready.", each((s) => s.stats.coldStarts));
  lines.push(
    "# HELP skiff_gateway_cold_start_wait_seconds How long cold-start requests waited for a ready replica.",
    "# TYPE skiff_gateway_cold_start_wait_seconds histogram",
  );
  for (const s of snapshots) lines.push(...histogramLines("skiff_gateway_cold_start_wait_seconds", s.stats));
  family("skiff_gateway_rejected_total", "counter", "503s answered by the gateway: queue full or no slot before the deadline.", [
    ...snapshots.map((s): [Labels, number] => [{ ...revisionLabels(s.stats), reason: "queue_full" }, s.stats.queueFull]),
    ...snapshots.map((s): [Labels, number] => [{ ...revisionLabels(s.stats), reason: "queue_timeout" }, s.stats.queueTimeout]),
  ]);
  family("skiff_gateway_retries_total", "counter", "Requests retried on another replica after a connection failure.", each((s) => s.stats.retries));
  family("skiff_gateway_replica_failures_total", "counter", "Connection failures talking to replicas.", each((s) => s.stats.replicaFailures));
  return `${lines.join("\n")}\n`;
}

type Labels = Record<string, string>;

function revisionLabels(stats: RevisionStats): Labels {
  return { fn: stats.fn, revision: stats.revision };
}

function histogramLines(name: string, stats: RevisionStats): string[] {
  const labels = revisionLabels(stats);
  const lines: string[] = [];
  let cumulative = 0;
  COLD_START_BUCKETS_SECONDS.forEach((bound, i) => {
    cumulative += stats.coldStartBuckets[i]!;
    lines.push(`${name}_bucket${formatLabels({ ...labels, le: String(bound) })} ${cumulative}`);
  });
  lines.push(`${name}_bucket${formatLabels({ ...labels, le: "+Inf" })} ${stats.coldStarts}`);
  lines.push(`${name}_sum${formatLabels(labels)} ${stats.coldStartWaitMsTotal / 1000}`);
  lines.push(`${name}_count${formatLabels(labels)} ${stats.coldStarts}`);
  return lines;
}

/** `{a="x",b="y"}` with Prometheus escaping. */
function formatLabels(labels: Labels): string {
  const parts = Object.entries(labels).map(([k, v]) => `${k}="${v.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n")}"`);
  return parts.length ? `{${parts.join(",")}}` : "";
}
