/** A validated, normalized function.yaml: durations in ms, sizes in bytes, defaults filled. */
export interface FunctionSpec {
  /** DNS-1123 label; also the URL segment under /fn/. */
  name: string;
  /** Entry file relative to the function directory. */
  entry: string;
  /** Reachable over HTTP at /fn/<name>/*. */
  http: boolean;
  /** NATS triggers. */
  events: EventTrigger[];
  /** Autoscaling bounds and targets. */
  scale: ScaleSpec;
  /** Per-request deadline. */
  timeoutMs: number;
  /** Largest request body accepted. */
  maxBodyBytes: number;
  /** Declared environment passed to replicas (and nothing else of the host's). */
  env: Record<string, string>;
  /** Files or folders (relative to the function directory) copied beside the bundle. */
  assets: string[];
  /** Requested cpu, memory and gpus per replica. */
  resources: ResourceSpec;
  /** Adaptive batching for model functions; absent means off. */
  batch?: BatchSpec;
}

/** One NATS trigger of a function. */
export interface EventTrigger {
  /** NATS subject consumed; may use `*` and `>` wildcards. */
  subject: string;
  /** Only events of this CloudEvent type are delivered. */
  type?: string;
  /** Subject on which a returned CloudEvent is published. */
  reply?: string;
  /** Deliveries before an event goes to the dead-letter subject (1..100, default 5). */
  maxDeliver: number;
  /** Redelivery delays; the last repeats. */
  backoffMs: number[];
}

/** Autoscaling bounds and targets (Knative KPA vocabulary). */
export interface ScaleSpec {
  /** Fewest replicas (0 allows scale to zero). */
  min: number;
  /** Most replicas (>= min). */
  max: number;
  /** Hard per-replica limit of requests in flight. */
  concurrency: number;
  /** Concurrency per replica the autoscaler aims for. */
  target: number;
  /** Stable window over which concurrency is averaged. */
  windowMs: number;
  /** Idle time after which a function goes to zero (when min is 0). */
  scaleToZeroAfterMs: number;
}

/** Requested resources, as Kubernetes quantities plus parsed numbers for local use. */
export interface ResourceSpec {
  /** Kubernetes quantity as written, e.g. "1" or "500m". */
  cpu: string;
  /** cpu in millicores (rounded up, as Kubernetes does). */
  cpuMillis: number;
  /** Kubernetes quantity, e.g. "1Gi". */
  memory: string;
  /** memory in bytes (rounded up). */
  memoryBytes: number;
  /** Whole GPUs requested. */
  gpu: number;
}

/** Adaptive batching: group concurrent calls into one model call. */
export interface BatchSpec {
  /** Most rows (summed batch dimensions) in one model call; a larger request runs alone. */
  maxSize: number;
  /** Longest a request waits for a batch to fill (0..1000). */
  maxDelayMs: number;
}
