// The store's public shapes. FunctionStore has two implementations (the file store here,
// a Kubernetes-backed one later); both must pass store-contract.ts.
import type { FunctionSpec } from "../../spec/types.ts";
import type { Isolation, Revision } from "../types.ts";

/** One route of a function's traffic: a revision and the whole-number share of requests it gets. */
export interface TrafficTarget {
  revision: string;
  percent: number;
}

/** A function's desired state as stored. */
export interface FunctionRecord {
  name: string;
  /** Every stored revision, oldest first (by first upload; re-uploading the same content keeps its place). */
  revisions: Revision[];
  /** Where requests go; empty until a revision is deployed. Percents sum to 100 otherwise. */
  traffic: TrafficTarget[];
  /** The revision deployed last (Knative's latestRevision); rollback and setTraffic leave it alone. */
  latestRevision?: string;
  createdAtMs: number;
  updatedAtMs: number;
  /** Bumped by every change to the record; lets watchers and reconcilers skip stale work. */
  generation: number;
}

/** A revision's files: relative posix paths to contents, or a directory (e.g. a build output) to copy. */
export type RevisionFiles = Map<string, Uint8Array> | { fromDir: string };

/** How a revision runs, beyond its files and spec. */
export interface PutRevisionOptions {
  /** Default "process"; "container" makes a different revision of the same files and spec. */
  isolation?: Isolation;
}

/** A change, delivered after it is durable. `record` is absent for deletions. */
export interface StoreEvent {
  type: "put" | "deleted";
  name: string;
  record?: FunctionRecord;
}

/** Something found wrong in stored state that the store skipped instead of failing on. */
export interface StoreProblem {
  /** The function concerned, when known. */
  name?: string;
  /** The file or object at fault, for the operator to look at. */
  file: string;
  message: string;
}

/** Desired state of every function: revisions (immutable, content-addressed) and traffic. */
export interface FunctionStore {
  /** Stores a revision (or finds the identical one) and adds it to the function, creating the function if needed. */
  putRevision(name: string, files: RevisionFiles, spec: FunctionSpec, options?: PutRevisionOptions): Promise<Revision>;
  /** The function's record, or undefined; throws CorruptStateError when its stored state is unreadable. */
  getFunction(name: string): Promise<FunctionRecord | undefined>;
  /** Every readable function, sorted by name. */
  listFunctions(): Promise<FunctionRecord[]>;
  /** Replaces the traffic split; every revision must exist and percents must be integers summing to 100. */
  setTraffic(name: string, traffic: TrafficTarget[]): Promise<FunctionRecord>;
  /** Makes `revision` the latest and routes to it: 100%, or `traffic` (where LATEST_REVISION names this revision). */
  deployRevision(name: string, revision: string, traffic?: TrafficTarget[]): Promise<FunctionRecord>;
  /** Routes 100% to `toRevision`, or by default to the revision stored just before the current 100% target. */
  rollback(name: string, toRevision?: string): Promise<FunctionRecord>;
  /** Removes the function and its revision files; false when it did not exist. */
  deleteFunction(name: string): Promise<boolean>;
  /** Calls `listener` after every durable change; returns an unsubscribe function. */
  watch(listener: (event: StoreEvent) => void): () => void;
  /** Problems found while loading (corrupt documents), for `skiff up` to print. */
  problems(): StoreProblem[];
  /** Releases resources (watchers); the store must not be used afterwards. */
  close(): Promise<void>;
}
