// Errors of the control API and the one place that maps any error to an HTTP status.
// Store errors pass through the platform unchanged and are mapped here too.
import { SpecError } from "../../spec/index.ts";
import { ConflictError, CorruptStateError, NotFoundError, StoreIoError, ValidationError } from "../store/index.ts";

/** Options of the API's errors. */
export interface ApiErrorOptions {
  cause?: unknown;
}

/** A request the API cannot make sense of (bad JSON, bad query parameter, name mismatch). */
export class BadRequestError extends Error {
  override name = "BadRequestError";
  constructor(message: string, options: ApiErrorOptions = {}) {
    super(message, options);
  }
}

/** The bearer token is missing or wrong. */
export class UnauthorizedError extends Error {
  override name = "UnauthorizedError";
  constructor(message: string, options: ApiErrorOptions = {}) {
    super(message, options);
  }
}

/** The request body has a content type the route does not take. */
export class UnsupportedMediaTypeError extends Error {
  override name = "UnsupportedMediaTypeError";
  constructor(message: string, options: ApiErrorOptions = {}) {
    super(message, options);
  }
}

/** A deploy bundle is malformed (truncated, bad magic, bad path, bad header JSON). */
export class BundleFormatError extends Error {
  override name = "BundleFormatError";
  constructor(message: string, options: ApiErrorOptions = {}) {
    super(message, options);
  }
}

/** A deploy bundle exceeds a limit (total size, entries, path or header length). */
export class BundleLimitError extends Error {
  override name = "BundleLimitError";
  constructor(message: string, options: ApiErrorOptions = {}) {
    super(message, options);
  }
}

/** The platform does not offer this operation (say, dead letters without an event side). */
export class NotImplementedError extends Error {
  override name = "NotImplementedError";
  constructor(message: string, options: ApiErrorOptions = {}) {
    super(message, options);
  }
}

/** A control API call failed: `status` is the HTTP status (0 when the server was unreachable), `message` the server's. */
export class ControlApiError extends Error {
  override name = "ControlApiError";
  constructor(readonly status: number, message: string, options: ApiErrorOptions = {}) {
    super(message, options);
  }
}

/** How an error is answered: status, the message for `{"error": ...}`, and extra headers. */
export interface ErrorResponse {
  status: number;
  message: string;
  headers?: Record<string, string>;
  /** True for errors nobody anticipated (500s worth logging with their stack). */
  unexpected?: boolean;
}

const STATUS_BY_TYPE: Array<[new (...args: never[]) => Error, number]> = [
  [BadRequestError, 400],
  [BundleFormatError, 400],
  [ValidationError, 400],
  [SpecError, 400],
  [UnauthorizedError, 401],
  [NotFoundError, 404],
  [ConflictError, 409],
  [BundleLimitError, 413],
  [UnsupportedMediaTypeError, 415],
  // An operator must act on these, so their message (naming the file) is shown as is.
  [CorruptStateError, 500],
  [StoreIoError, 500],
  [NotImplementedError, 501],
];

/** Maps any error to its HTTP answer; the only place statuses are chosen for errors. */
export function toErrorResponse(error: unknown): ErrorResponse {
  for (const [type, status] of STATUS_BY_TYPE) {
    if (error instanceof type) {
      const headers = status === 401 ? { "WWW-Authenticate": "Bearer" } : undefined;
      return { status, message: error.message, ...(headers ? { headers } : {}) };
    }
  }
  const message = error instanceof Error ? error.message : String(error);
  return { status: 500, message: `internal error: ${message}`, unexpected: true };
}
