// Named errors of the platform's own nats-server. Their messages are meant for users as is:
// `skiff up` prints them as one line.

/** No nats-server binary could be found (message says how to install one or avoid needing it). */
export class NatsServerNotFoundError extends Error {
  override name = "NatsServerNotFoundError";
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** nats-server was found but did not come up (it exited or never accepted connections). */
export class NatsServerStartError extends Error {
  override name = "NatsServerStartError";
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** A connection to a NATS server could not be opened. */
export class NatsConnectError extends Error {
  override name = "NatsConnectError";
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}
