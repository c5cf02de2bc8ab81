// Named errors of the gateway and the one place they become HTTP answers (httpErrorOf).
// Every body is JSON {error, reason, fn?, requestId} so clients and `skiff invoke` can show it.

/** The request path is not under /fn/<name>/. */
export class NoRouteError extends Error {
  constructor(readonly path: string) {
    super(`no route for ${path}: functions are served at /fn/<name>/<path>`);
    this.name = "NoRouteError";
  }
}

/** The name segment is not a DNS-1123 label, so no function can have it. */
export class InvalidFunctionNameError extends Error {
  constructor(readonly fn: string) {
    super(
      `invalid function name "${fn}": a name is a DNS-1123 label (lowercase letters, digits and "-", ` +
        `starting with a letter and ending with a letter or digit, at most 63 characters)`,
    );
    this.name = "InvalidFunctionNameError";
  }
}

/** No function of that name is deployed. */
export class UnknownFunctionError extends Error {
  constructor(readonly fn: string) {
    super(`no function named "${fn}"`);
    this.name = "UnknownFunctionError";
  }
}

/** The function has `http: false`: it is reachable only through its event triggers. */
export class EventOnlyFunctionError extends Error {
  constructor(readonly fn: string) {
    super(`function "${fn}" only takes events (http: false in its function.yaml); publish a CloudEvent to one of its subjects instead`);
    this.name = "EventOnlyFunctionError";
  }
}

/** The declared Content-Length exceeds the function's maxBodySize. */
export class BodyTooLargeError extends Error {
  constructor(readonly fn: string, readonly declaredBytes: number, readonly limitBytes: number) {
    super(`request body of ${declaredBytes} bytes is larger than maxBodySize of function "${fn}" (${limitBytes} bytes)`);
    this.name = "BodyTooLargeError";
  }
}

/** The function's route has no revision with a positive traffic share. */
export class NoTrafficTargetError extends Error {
  constructor(readonly fn: string) {
    super(`function "${fn}" has no revision receiving traffic`);
    this.name = "NoTrafficTargetError";
  }
}

/** The revision's queue already holds its maximum of waiting requests. */
export class QueueFullError extends Error {
  constructor(readonly fn: string, readonly queued: number, readonly readyReplicas: number) {
    super(
      readyReplicas === 0
        ? `function "${fn}" has no ready replica and its queue is full (${queued} requests waiting)`
        : `function "${fn}" is at capacity and its queue is full (${queued} requests waiting for ${readyReplicas} replicas)`,
    );
    this.name = "QueueFullError";
  }
}

/** No replica slot freed up before the request's queue deadline. */
export class QueueTimeoutError extends Error {
  constructor(
    readonly fn: string,
    readonly waitedMs: number,
    readonly queued: number,
    readonly readyReplicas: number,
    readonly capacity: number,
  ) {
    super(
      readyReplicas === 0
        ? `function "${fn}" has no ready replica after ${waitedMs}ms (queue of ${queued})`
        : `function "${fn}" had no free replica after ${waitedMs}ms: ${readyReplicas} ready replicas each at their ` +
            `concurrency limit of ${capacity} (queue of ${queued})`,
    );
    this.name = "QueueTimeoutError";
  }
}

/** The client went away while its request waited; nobody is left to answer. */
export class RequestAbortedError extends Error {
  constructor() {
    super("the client closed the request");
    this.name = "RequestAbortedError";
  }
}

/** The gateway is stopping and takes no new requests. */
export class GatewayStoppingError extends Error {
  constructor() {
    super("the gateway is shutting down");
    this.name = "GatewayStoppingError";
  }
}

/** Talking to a replica failed before it answered (refused, reset, closed). */
export class ReplicaFailedError extends Error {
  constructor(readonly replicaId: string, readonly reason: string, options?: { cause?: unknown }) {
    super(`replica ${replicaId} failed: ${reason}`, options);
    this.name = "ReplicaFailedError";
  }
}

/** A replica did not start answering within its backstop deadline (it normally answers 504 itself first). */
export class ReplicaTimeoutError extends Error {
  constructor(readonly replicaId: string, readonly timeoutMs: number) {
    super(`replica ${replicaId} did not answer within ${timeoutMs}ms`);
    this.name = "ReplicaTimeoutError";
  }
}

/** An error as the client sees it. */
export interface HttpError {
  status: number;
  headers: Record<string, string>;
  body: { error: string; reason: string; fn?: string; requestId?: string };
}

const RETRY_SOON = { "retry-after": "1" };

/** Maps any error to its status, headers and JSON body: the only place gateway errors get a status. */
export function httpErrorOf(error: unknown, requestId?: string): HttpError {
  const [status, reason, headers] = classify(error);
  const message = error instanceof Error && status !== 500 ? error.message : "internal gateway error";
  const fn = error instanceof Error && "fn" in error && typeof error.fn === "string" ? error.fn : undefined;
  return { status, headers, body: { error: message, reason, ...(fn ? { fn } : {}), ...(requestId ? { requestId } : {}) } };
}

function classify(error: unknown): [status: number, reason: string, headers: Record<string, string>] {
  if (error instanceof InvalidFunctionNameError) return [400, "invalid-name", {}];
  if (error instanceof NoRouteError) return [404, "no-route", {}];
  if (error instanceof UnknownFunctionError) return [404, "unknown-function", {}];
  if (error instanceof EventOnlyFunctionError) return [404, "event-only", {}];
  if (error instanceof BodyTooLargeError) return [413, "body-too-large", {}];
  if (error instanceof NoTrafficTargetError) return [503, "no-traffic-target", RETRY_SOON];
  if (error instanceof QueueFullError) return [503, "queue-full", RETRY_SOON];
  if (error instanceof QueueTimeoutError) return [503, "queue-timeout", RETRY_SOON];
  if (error instanceof GatewayStoppingError) return [503, "stopping", RETRY_SOON];
  if (error instanceof ReplicaFailedError) return [502, "replica-failed", {}];
  if (error instanceof ReplicaTimeoutError) return [504, "replica-timeout", {}];
  // Logged by the caller; nobody reads this answer anyway.
  if (error instanceof RequestAbortedError) return [499, "client-closed", {}];
  return [500, "internal", {}];
}
