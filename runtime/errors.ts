// Named errors of the runtime and the one place that maps any thrown value to an HTTP status.

/** An error that already knows its HTTP status (4xx or 5xx). */
export class HttpError extends Error {
  constructor(readonly status: number, message: string, options?: { cause?: unknown; headers?: Record<string, string> }) {
    super(message, options);
    this.name = "HttpError";
    this.headers = options?.headers ?? {};
  }
  readonly headers: Record<string, string>;
}

/** The request body is over maxBodySize (413). */
export class BodyTooLargeError extends HttpError {
  constructor(limitBytes: number) {
    super(413, `request body is larger than maxBodySize (${limitBytes} bytes)`);
    this.name = "BodyTooLargeError";
  }
}

/** The handler did not answer within the function's timeout (504). */
export class HandlerTimeoutError extends HttpError {
  constructor(timeoutMs: number) {
    super(504, `handler did not respond within the timeout (${timeoutMs}ms)`);
    this.name = "HandlerTimeoutError";
  }
}

/** The request is not a valid CloudEvent, or is a batch (400). */
export class InvalidEventError extends HttpError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(400, `invalid CloudEvent: ${message}`, options);
    this.name = "InvalidEventError";
  }
}

/** The replica cannot take the request now: queue full or shutting down (503, retry elsewhere). */
export class UnavailableError extends HttpError {
  constructor(message: string, retryAfterSeconds = 1) {
    super(503, message, { headers: { "retry-after": String(retryAfterSeconds) } });
    this.name = "UnavailableError";
  }
}

/** A user hook returned something the runtime cannot send. */
export class BadHandlerResultError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "BadHandlerResultError";
  }
}

/**
 * Status for any thrown value: HttpError's own, a user error's numeric `status` when it is
 * 4xx/5xx (DESIGN: "an error carrying a numeric status sets that status"), else 500.
 */
export function statusOf(error: unknown): number {
  if (error instanceof HttpError) return error.status;
  const status = (error as { status?: unknown } | null)?.status;
  if (typeof status === "number" && Number.isInteger(status) && status >= 400 && status <= 599) return status;
  return 500;
}

/** The JSON error body `{error, requestId}` every failed request gets. */
export function errorResponse(error: unknown, requestId: string): Response {
  const status = statusOf(error);
  const message = error instanceof Error ? error.message : String(error);
  const headers: Record<string, string> = { "x-request-id": requestId };
  if (error instanceof HttpError) Object.assign(headers, error.headers);
  return Response.json({ error: message, requestId }, { status, headers });
}
