// Named errors of the process backend. Supervision never throws them at the autoscaler or the
// gateway (a replica failing is a phase change, not an exception); they go to the logger with
// their cause, except InvalidScaleError, which is a caller bug and thrown at once.

/** scale() was called with a count that is not a non-negative integer. */
export class InvalidScaleError extends Error {
  constructor(readonly revisionId: string, readonly desired: number) {
    super(`cannot scale revision "${revisionId}" to ${desired}: desired must be a non-negative integer`);
    this.name = "InvalidScaleError";
  }
}

/** scale() arrived after stop(); it is ignored so a late autoscaler tick cannot restart replicas. */
export class BackendStoppedError extends Error {
  constructor(readonly revisionId: string) {
    super(`process backend is stopped: ignored scale of revision "${revisionId}"`);
    this.name = "BackendStoppedError";
  }
}

/** The child process of a replica could not be spawned (or no port could be found for it). */
export class ReplicaSpawnError extends Error {
  constructor(readonly replicaId: string, options?: { cause?: unknown }) {
    super(`failed to start replica "${replicaId}"`, options);
    this.name = "ReplicaSpawnError";
  }
}

/** A replica exited without being asked to (crash, kill, init failure); it will be replaced. */
export class ReplicaCrashError extends Error {
  constructor(readonly replicaId: string, readonly reason: string, readonly restartInMs: number) {
    super(`replica "${replicaId}" ${reason}; replacing it in ${restartInMs}ms`);
    this.name = "ReplicaCrashError";
  }
}

/** Appending to `<stateDir>/logs/<fn>.log` failed; replica output still reaches onLog. */
export class LogFileError extends Error {
  constructor(readonly path: string, options?: { cause?: unknown }) {
    super(`failed to write log file "${path}"`, options);
    this.name = "LogFileError";
  }
}

/** An onChange or onLog listener threw; the backend carries on with the other listeners. */
export class ListenerError extends Error {
  constructor(readonly what: string, options?: { cause?: unknown }) {
    super(`a ${what} listener threw`, options);
    this.name = "ListenerError";
  }
}
