// Named errors of the inference protocol; statuses map through runtime/errors.ts (HttpError).
import { HttpError } from "../errors.ts";

/** The infer request is malformed or does not fit the model's metadata (400). */
export class InvalidInferRequestError extends HttpError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(400, message, options);
    this.name = "InvalidInferRequestError";
  }
}

/** No such model, or no such version of it, in this replica (404). */
export class ModelNotFoundError extends HttpError {
  constructor(message: string) {
    super(404, message);
    this.name = "ModelNotFoundError";
  }
}

/** The model's infer returned outputs that do not fit its metadata (500: a bug in the function). */
export class ModelOutputError extends HttpError {
  constructor(message: string) {
    super(500, message);
    this.name = "ModelOutputError";
  }
}

/** The model's metadata is invalid; thrown while the replica starts, so init fails. */
export class ModelMetadataError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ModelMetadataError";
  }
}
