// The gateway's contracts with the rest of the platform: where routes and ready replicas come
// from (both implemented by the platform), its options, and what it hands back.
import type { IncomingMessage, OutgoingHttpHeaders } from "node:http";
import type { FunctionSpec } from "../../spec/index.ts";
import type { Clock } from "../autoscaler/index.ts";

/** One revision's share of a function's traffic (Knative route semantics). */
export interface TrafficTarget {
  revision: string;
  /** Share of requests, 0..100; shares are weighted against their sum, so they need not add to 100. */
  percent: number;
}

/** What the gateway needs to route one function's requests. */
export interface Route {
  fn: string;
  /** The function's spec: capacity (scale.concurrency), timeoutMs, maxBodyBytes, http. */
  spec: FunctionSpec;
  targets: ReadonlyArray<TrafficTarget>;
}

/** Function name -> route; implemented by the platform over its store. Called on every request, so keep it a map lookup. */
export interface RouteTable {
  resolve(name: string): Route | undefined;
}

/** A replica the gateway may send requests to. */
export interface Endpoint {
  id: string;
  /** Base URL of the replica's runtime, e.g. http://127.0.0.1:41234 */
  url: string;
}

/** Ready replicas per revision; implemented by the platform over its Backend. */
export interface EndpointSource {
  /** Replicas of the revision that are ready and not draining (the gateway trusts this list as is). */
  ready(revisionId: string): ReadonlyArray<Endpoint>;
  /** Calls `listener` whenever any replica's readiness changes; returns an unsubscribe function. */
  onChange(listener: () => void): () => void;
}

/** Structured log sink; the platform passes its own. */
export interface GatewayLogger {
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

/** Bounds of each revision's request queue (requests waiting for a replica slot). */
export interface QueueOptions {
  /** Most requests waiting per revision; one more gets 503 at once (default 1000). */
  maxPerRevision?: number;
  /** Longest a request waits for a slot; default: the function's spec.timeoutMs. */
  timeoutMs?: number;
}

/** Everything startGateway needs. */
export interface GatewayOptions {
  /** Listen address (default 127.0.0.1). */
  host?: string;
  /** Listen port; 0 picks a free one (default 0). */
  port?: number;
  routes: RouteTable;
  endpoints: EndpointSource;
  /**
   * Pokes the autoscaler: called (synchronously, so keep it cheap) each time a request joins a
   * revision's queue, which includes every request arriving while the revision has no ready replica.
   */
  onDemand(revisionId: string): void;
  queue?: QueueOptions;
  /**
   * Lets a request reach a function with `http: false`. The event dispatcher delivers through the
   * gateway with `x-skiff-internal: event`; since any client can set a header, the platform should
   * also check something a client cannot forge (loopback peer, a shared secret). Default: never.
   */
  allowEventOnly?(req: IncomingMessage): boolean;
  /** Longest stop() waits for in-flight and queued requests before cutting them (default 30000). */
  drainTimeoutMs?: number;
  logger?: GatewayLogger;
  /** Time for queue deadlines and wait measurements (tests inject a fake one). */
  clock?: Clock;
  /** Uniform [0, 1) source for traffic splits (tests inject a seeded one). */
  random?: () => number;
}

/** Cold starts of a revision: requests that waited for a replica because none was ready. */
export interface ColdStartStats {
  count: number;
  totalWaitMs: number;
  maxWaitMs: number;
}

/** Counters and gauges of one revision, or summed over a function's revisions. */
export interface GatewayStats {
  fn: string;
  /** The revisions these numbers cover. */
  revisions: string[];
  /** Requests sent to a replica now. */
  inFlight: number;
  /** Requests waiting for a replica slot now. */
  queued: number;
  /** Finished requests by HTTP status ("499" = the client went away first). */
  requests: Record<string, number>;
  coldStarts: ColdStartStats;
  /** 503s the gateway answered itself: queue full, or no slot before the deadline. */
  rejected: { queueFull: number; queueTimeout: number };
  /** Requests retried on another replica after a connection failure. */
  retries: number;
  /** Connection failures (refused, reset, timeout) talking to replicas. */
  replicaFailures: number;
}

/** A request the platform hands to the gateway in process (Gateway.deliverInternal). */
export interface InternalRequest {
  /** Default POST. */
  method?: string;
  /** Path and query as the replica sees them (default "/"). */
  path?: string;
  headers?: Record<string, string>;
  body?: Uint8Array;
  /** Aborting gives up: the request leaves the queue, or its upstream request is cut. */
  signal?: AbortSignal;
}

/** The replica's whole answer (hop-by-hop headers removed), or the gateway's own JSON error answer. */
export interface InternalResponse {
  status: number;
  headers: OutgoingHttpHeaders;
  body: Uint8Array;
}

/** A running gateway. */
export interface Gateway {
  readonly port: number;
  /** http://host:port */
  readonly url: string;
  /** Stops accepting, lets in-flight and queued requests finish (bounded by drainTimeoutMs), closes connections. */
  stop(): Promise<void>;
  /** In flight + queued for the revision: the number the autoscaler averages. */
  concurrency(revisionId: string): number;
  /** Numbers for one revision id, or summed over a function's revisions; undefined if it never saw traffic. */
  stats(revisionOrFn: string): GatewayStats | undefined;
  /** Prometheus text exposition of every revision's numbers (also served at /_skiff/metrics). */
  metricsText(): string;
  /**
   * Sends one request to a function without the client-side HTTP hop (the platform's event
   * dispatcher): the same traffic split, queue (scale from zero, deadline, per-replica capacity,
   * least outstanding), metrics, concurrency and retry/502 rules as a request to /fn/<name>/,
   * and event-only functions are allowed. Resolves with the answer, the gateway's error answers
   * (404, 503, 502, ...) included; rejects when `signal` aborts or the answer is cut mid-body.
   */
  deliverInternal(fnName: string, request: InternalRequest): Promise<InternalResponse>;
}
