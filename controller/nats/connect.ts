// Connections of the platform and the CLI to NATS.
import type { NatsConnection } from "@nats-io/nats-core";
import { connect } from "@nats-io/transport-node";
import { NatsConnectError } from "./errors.ts";

/** Options of connectNats. */
export interface ConnectNatsOptions {
  /** Connection name shown by the server's monitoring (default "skiff"). */
  name?: string;
  /** Initial connect timeout (default 5s). */
  timeoutMs?: number;
}

/** Connects to `url`, reconnecting forever (every ~250ms) after the server goes away; the first connect must succeed. */
export async function connectNats(url: string, options: ConnectNatsOptions = {}): Promise<NatsConnection> {
  try {
    return await connect({
      servers: url,
      name: options.name ?? "skiff",
      maxReconnectAttempts: -1,
      reconnectTimeWait: 250,
      timeout: options.timeoutMs ?? 5_000,
    });
  } catch (error) {
    throw new NatsConnectError(`cannot connect to NATS at ${url}: ${(error as Error).message}`, { cause: error });
  }
}
