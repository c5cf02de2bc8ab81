// Named errors of the function store. The control API maps them to HTTP statuses in
// controller/api/errors.ts; nothing here knows about HTTP.

/** Options shared by the store's errors: the underlying error, kept for --debug output. */
export interface StoreErrorOptions {
  cause?: unknown;
}

/** A function or revision that the caller named does not exist. */
export class NotFoundError extends Error {
  override name = "NotFoundError";
  constructor(message: string, options: StoreErrorOptions = {}) {
    super(message, options);
  }
}

/** The request is valid but cannot apply to the current state (e.g. nothing to roll back to). */
export class ConflictError extends Error {
  override name = "ConflictError";
  constructor(message: string, options: StoreErrorOptions = {}) {
    super(message, options);
  }
}

/** The caller's input is invalid (a bad path, traffic not summing to 100, a name mismatch). */
export class ValidationError extends Error {
  override name = "ValidationError";
  constructor(message: string, options: StoreErrorOptions = {}) {
    super(message, options);
  }
}

/** A stored document cannot be read or is inconsistent; `file` names it so an operator can fix or delete it. */
export class CorruptStateError extends Error {
  override name = "CorruptStateError";
  constructor(readonly file: string, detail: string, options: StoreErrorOptions = {}) {
    super(`corrupt state file ${file}: ${detail} (fix it, or delete the function to start over)`, options);
  }
}

/** Reading or writing the state directory failed (disk full, permissions); wraps the system error with context. */
export class StoreIoError extends Error {
  override name = "StoreIoError";
  constructor(message: string, options: StoreErrorOptions = {}) {
    super(message, options);
  }
}
