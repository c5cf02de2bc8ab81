// Public API of the process backend: replicas as local child processes on loopback.
export {
  type BackendLogger,
  type ProcessBackend,
  type ProcessBackendOptions,
  EXITED_KEEP,
  EXITED_RETENTION_MS,
  startProcessBackend,
} from "./process-backend.ts";
export type { ProcessReplicaInfo } from "./replica-process.ts";
export { DEFAULT_POOL_SIZE, type PoolWorkerInfo, type ReplicaPool, type ReplicaPoolOptions, startReplicaPool } from "./pool.ts";
export { type PoolWorker, type WorkerAssignment, canRunPooled, spawnPoolWorker } from "./pool-worker-process.ts";
export { type BackoffPolicy, DEFAULT_BACKOFF, backoffDelayMs } from "./backoff.ts";
export { defaultDrainGraceMs, FALLBACK_PATH, makeReplicaEnv } from "./env.ts";
export { type ExitStatus, type LaunchedReplica, type LaunchRequest, makeNodeLauncher, type ReplicaLauncher } from "./launcher.ts";
export { makeLineSplitter } from "./output.ts";
export { formatLogFileLine, logFilePath } from "./log-files.ts";
export { planScale, pickDrainVictims, type PlanReplica, type ScalePlan } from "./plan.ts";
export {
  BackendStoppedError,
  InvalidScaleError,
  ListenerError,
  LogFileError,
  ReplicaCrashError,
  ReplicaSpawnError,
} from "./errors.ts";
export { probeReady } from "./readiness.ts";
