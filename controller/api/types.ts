// The control API's view of the platform. The API is a thin HTTP layer: the platform
// (written elsewhere) implements PlatformOps, and these shapes are the JSON on the wire.
import type { FunctionSpec } from "../../spec/types.ts";
import type { AutoscalerDecision } from "../autoscaler/index.ts";
import type { TrafficTarget } from "../store/index.ts";
import type { Isolation, LogLine, ReplicaInfo, Revision } from "../types.ts";
import type { BundleLimits } from "./bundle-format.ts";

export type { TrafficTarget };

/** Ready and desired replica counts of a function (all revisions together). */
export interface ReplicaCounts {
  ready: number;
  desired: number;
}

/** One function as `skiff list` shows it. */
export interface FunctionSummary {
  name: string;
  /** Gateway URL, e.g. http://127.0.0.1:8080/fn/hello/ */
  url: string;
  latestRevision?: string;
  traffic: TrafficTarget[];
  replicas: ReplicaCounts;
  createdAtMs: number;
  updatedAtMs: number;
}

/** A revision as described: its identity and its share of traffic (the spec is on the description). */
export interface RevisionSummary {
  id: string;
  contentHash: string;
  createdAtMs: number;
  /** Present for container revisions (absent: process). */
  isolation?: Isolation;
  /** Share of traffic routed to it now, 0 when none. */
  percent: number;
}

/** A notable autoscaler decision (a change of count or mode). */
export type ScaleEvent = Pick<AutoscalerDecision, "atMs" | "trigger" | "from" | "desired" | "mode" | "reason">;

/** A replica's start: how long it took from spawn to ready (the cold start). */
export interface ColdStart {
  replica: string;
  revision: string;
  startedAtMs: number;
  readyAtMs: number;
  durationMs: number;
}

/** One function as `skiff describe` shows it. */
export interface FunctionDescription extends Omit<FunctionSummary, "replicas"> {
  /** Spec of the latest revision (absent before the first deploy). */
  spec?: FunctionSpec;
  generation: number;
  /** Oldest first. */
  revisions: RevisionSummary[];
  /** Counts plus every live replica. */
  replicas: ReplicaCounts & { list: ReplicaInfo[] };
  /** Most recent last. */
  scaleEvents: ScaleEvent[];
  /** Most recent last. */
  coldStarts: ColdStart[];
}

/** What a deploy uploads. */
export interface DeployInput {
  name: string;
  spec: FunctionSpec;
  /** Build output: relative posix path -> content. */
  files: Map<string, Uint8Array>;
  /** Split to apply with the deploy (LATEST_REVISION names the new revision); default 100% to it. */
  traffic?: TrafficTarget[];
  /** How the revision's replicas run; absent means "process". */
  isolation?: Isolation;
}

/** What a deploy did. */
export interface DeployResult {
  revision: Revision;
  url: string;
  /** True when the function did not exist before. */
  created: boolean;
}

/** Options of PlatformOps.logs. */
export interface LogsOptions {
  /** Keep streaming new lines until `signal` aborts. */
  follow: boolean;
  /** Start with at most this many recent lines (all kept lines when absent). */
  tail?: number;
  /** Aborts when the client disconnects; the iterable must then finish. */
  signal: AbortSignal;
}

/** The original event of a dead letter, as far as it could be read. */
export interface DeadLetterEvent {
  id: string;
  type: string;
  source: string;
  datacontenttype?: string;
  /** JSON data as is; text as a string; bytes as base64 (datacontenttype says which). */
  data?: unknown;
}

/** One dead letter of a function, as `skiff dlq list` shows it. */
export interface DeadLetterSummary {
  /** Sequence in the dead-letter stream (what a redrive acknowledges). */
  seq: number;
  /** Subject the event arrived on. */
  subject: string;
  /** Why it was dead-lettered (e.g. "maxDeliver", "status 400", "invalid event"). */
  reason: string;
  /** Last HTTP status from the function (0 when none, e.g. a timeout). */
  status: number;
  /** Last error message, when there was one. */
  error?: string;
  /** How many times it was delivered. */
  deliveries: number;
  /** When it was dead-lettered (RFC 3339). */
  time: string;
  /** Absent when the message was not a readable CloudEvent. */
  event?: DeadLetterEvent;
}

/** Options of PlatformOps.dlqList. */
export interface DlqListOptions {
  /** At most this many dead letters, oldest first. */
  limit: number;
}

/** What a redrive did: events republished, events that could not be, and dead letters left. */
export interface RedriveResult {
  redriven: number;
  failed: number;
  remaining: number;
}

/** What the control API needs from the platform. Throw store errors (NotFoundError, ValidationError, ...) for failures. */
export interface PlatformOps {
  /** Stores a revision and routes traffic to it (content-addressed: an unchanged upload reuses the revision). */
  deploy(input: DeployInput): Promise<DeployResult>;
  /** Every function, sorted by name. */
  list(): Promise<FunctionSummary[]>;
  /** One function, or undefined when unknown. */
  describe(name: string): Promise<FunctionDescription | undefined>;
  /** Stops the function's replicas and removes it; false when unknown. */
  delete(name: string): Promise<boolean>;
  /** Routes 100% to `to`, or to the revision before the current one. */
  rollback(name: string, to?: string): Promise<FunctionSummary>;
  /** Replaces the traffic split. */
  setTraffic(name: string, traffic: TrafficTarget[]): Promise<FunctionSummary>;
  /** Resolves to the function's log lines once the function is known; rejects with NotFoundError otherwise. */
  logs(name: string, options: LogsOptions): Promise<AsyncIterable<LogLine>>;
  /** A function's dead letters, oldest first; NotFoundError for an unknown function. Absent: the route answers 501. */
  dlqList?(name: string, options: DlqListOptions): Promise<DeadLetterSummary[]>;
  /** Republishes a function's dead letters to their subjects and removes those that were; NotFoundError for an unknown function. */
  dlqRedrive?(name: string): Promise<RedriveResult>;
}

/** The JSON header of a deploy bundle (see bundle-format.ts). */
export interface DeployMeta {
  /** function.yaml as written (durations and sizes as strings); validated with validateFunctionSpec. */
  spec: unknown;
  traffic?: TrafficTarget[];
  /** "process" (the default) or "container". */
  isolation?: Isolation;
}

/** Options of makeControlApi. */
export interface ControlApiOptions {
  /** The bearer token every route but /v1/health requires. */
  token: string;
  /** Where users find the token, shown in 401 messages (e.g. `<stateDir>/token`). */
  tokenFile?: string;
  /** Limits on deploy uploads; defaults in bundle-format.ts. */
  bundleLimits?: Partial<BundleLimits>;
  /** Called with unexpected (500) errors; default console.error. */
  onError?: (error: unknown) => void;
}
