// Named errors of the event path. The dispatcher dead-letters on InvalidCloudEventError at once
// (retrying cannot fix a malformed event), keeping the message as the dead letter's reason; the
// others wrap a NATS failure with what was being done.

/** A NATS message is not a CloudEvent this binding can read; the message names what is wrong. */
export class InvalidCloudEventError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(`invalid CloudEvent: ${message}`, options);
    this.name = "InvalidCloudEventError";
  }
}

/** One stream or consumer could not be created, updated or deleted; the message names which. */
export class TopologyError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "TopologyError";
  }
}

/** reconcileTopology finished with some consumers failing; `failures` holds each one's error. */
export class TopologyReconcileError extends Error {
  readonly failures: TopologyError[];
  constructor(failures: TopologyError[]) {
    super(`failed to reconcile ${failures.length} JetStream object(s): ${failures.map((f) => f.message).join("; ")}`, { cause: failures[0] });
    this.name = "TopologyReconcileError";
    this.failures = failures;
  }
}

/** An event could not be published (JetStream did not store it, or the connection failed). */
export class PublishError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "PublishError";
  }
}

/** A dead letter could not be written, read or removed. */
export class DeadLetterError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "DeadLetterError";
  }
}

/** A consumer's lag could not be read. */
export class LagReadError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "LagReadError";
  }
}
