// Shapes shared by the control plane's parts (store, backends, gateway, autoscaler wiring).
import type { FunctionSpec } from "../spec/types.ts";

/** How a revision's replicas are isolated: child processes, or runc containers from an OCI image. */
export type Isolation = "process" | "container";

/** An immutable, content-addressed version of a function: its build output and spec. */
export interface Revision {
  /** `<fn>-<first 12 hex of the content hash>`; the same code and spec always give the same id. */
  id: string;
  fn: string;
  spec: FunctionSpec;
  /** Directory holding the build output (index.mjs, assets, node_modules). */
  bundleDir: string;
  /** sha256 of the build's output files and spec (and the isolation, when not "process"). */
  contentHash: string;
  createdAtMs: number;
  /** Absent means "process". Part of the content hash: the same code in a container is another revision. */
  isolation?: Isolation;
}

/** Where a replica is in its life. */
export type ReplicaPhase = "starting" | "ready" | "draining" | "exited";

/** One running copy of a revision, as a backend reports it. */
export interface ReplicaInfo {
  /** Unique for the platform's life, e.g. `hello-3f2a9c1b0d4e-r7`. */
  id: string;
  fn: string;
  revision: string;
  /** Base URL of the replica's runtime, e.g. http://127.0.0.1:41234 */
  url: string;
  phase: ReplicaPhase;
  startedAtMs: number;
  readyAtMs?: number;
  /** Why it exited (exit code, signal, crash), when phase is "exited". */
  exitReason?: string;
}

/** Runs replicas: process children locally, runc containers, or Kubernetes pods. */
export interface Backend {
  /** Sets how many replicas of a revision should run; starts new ones or drains extra ones. Idempotent. */
  scale(revision: Revision, desired: number): void;
  /** Replicas of a revision (every phase but long-exited ones). */
  replicas(revisionId: string): ReplicaInfo[];
  /** Called on every replica phase change; returns an unsubscribe function. */
  onChange(listener: (replica: ReplicaInfo) => void): () => void;
  /** Drains every replica (SIGTERM, grace, SIGKILL) and stops supervising. */
  stop(): Promise<void>;
}

/** A log line of a replica. */
export interface LogLine {
  fn: string;
  replica: string;
  stream: "stdout" | "stderr";
  atMs: number;
  text: string;
}
