// Named errors of the autoscaler runner. The runner never throws them at callers: it hands
// them to its onError hook so one failing tick cannot stop the loop.

/** Applying a desired replica count failed (the next tick retries, since the count still differs). */
export class ScaleApplyError extends Error {
  constructor(readonly functionName: string, readonly desired: number, options?: { cause?: unknown }) {
    super(`failed to scale function "${functionName}" to ${desired}`, options);
    this.name = "ScaleApplyError";
  }
}

/** Reading an observation (concurrency, replicas, backlog) or deciding failed; that tick is skipped. */
export class AutoscalerTickError extends Error {
  constructor(readonly functionName: string, readonly phase: string, options?: { cause?: unknown }) {
    super(`autoscaler for "${functionName}" failed to ${phase}`, options);
    this.name = "AutoscalerTickError";
  }
}
