// Named errors of the event path. The dispatcher dead-letters on InvalidCloudEventError at once
// (retrying cannot fix a malformed event), keeping the message as the dead letter's reason.

/** A NATS message is not a CloudEvent this binding can read; the message names what is wrong. */
export class InvalidCloudEventError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(`invalid CloudEvent: ${message}`, options);
    this.name = "InvalidCloudEventError";
  }
}
