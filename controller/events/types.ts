// Shapes the event dispatcher is built from; the platform supplies the implementations.
import type { JetStreamClient } from "@nats-io/jetstream";
import type { CloudEvent } from "cloudevents";
import type { EventTrigger } from "../../spec/types.ts";
import type { DeadLetterInput } from "./dead-letter.ts";

/** The function's answer to one delivery. */
export interface DeliveryResult {
  /** HTTP status; 0 when there was no answer (the dispatcher also maps a throw to 0). */
  status: number;
  /** A CloudEvent the function returned (HTTP binary or structured response). */
  reply?: CloudEvent<unknown>;
  /** What went wrong, for the dead letter (response body, connection error). */
  error?: string;
  /** From a Retry-After header on a 429/503; lengthens the nak delay, never shortens it. */
  retryAfterMs?: number;
}

/** What deliver is told besides the event. */
export interface DeliveryContext {
  /** 1 for the first delivery. */
  deliveryCount: number;
  /** Aborted when the dispatcher stops (or deliverTimeoutMs passes): give up and return or throw. */
  signal: AbortSignal;
  fn: string;
  trigger: EventTrigger;
}

/** Hands one event to the function (the platform: an HTTP binary-mode POST through the gateway). May throw. */
export type Deliver = (event: CloudEvent<unknown>, context: DeliveryContext) => Promise<DeliveryResult>;

/** Publishes a reply (already carrying its hop count) on the trigger's reply subject; throws when not sent. */
export type PublishReply = (subject: string, event: CloudEvent<unknown>) => Promise<unknown>;

/** Stores a dead letter (publishDeadLetter); throws when it was not stored. */
export type DeadLetterSink = (letter: DeadLetterInput) => Promise<unknown>;

/** Where the dispatcher writes what it does; the platform's logger fits. */
export interface EventsLogger {
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

/** Time and one-shot timers; the autoscaler's Clock (systemClock) fits. */
export interface EventsClock {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

/** Options of startDispatcher. */
export interface DispatcherOptions {
  js: JetStreamClient;
  /** The stream and durable consumer to pull from (ConsumerPlan.stream and .name). */
  stream: string;
  consumerName: string;
  fn: string;
  trigger: EventTrigger;
  /** Most deliveries at once; read before every pull, so it may change (ConsumerPlan.capacity). */
  capacity: () => number;
  deliver: Deliver;
  publishReply: PublishReply;
  deadLetter: DeadLetterSink;
  logger?: EventsLogger;
  clock?: EventsClock;
  /** How long one pull request waits on an idle consumer (default 5 s, at least 1 s). */
  pullExpiresMs?: number;
  /** How long stop() waits for deliveries in flight (default 10 s). */
  stopTimeoutMs?: number;
  /** Gives up on a delivery after this long (status 0, retried); default none: deliver owns its timeout. */
  deliverTimeoutMs?: number;
}

/** Counters since start. */
export interface DispatcherStats {
  /** Calls of deliver. */
  delivered: number;
  /** Messages acked: delivered with a 2xx, or skipped. */
  acked: number;
  /** Messages naked for redelivery (retryable answers, failed reply publishes, stop). */
  naked: number;
  /** Messages stored in the DLQ (then terminated). */
  deadLettered: number;
  /** Events acked without delivery because their type did not match the trigger's. */
  skipped: number;
  /** Replies published on the trigger's reply subject. */
  replies: number;
  replyFailures: number;
  deadLetterFailures: number;
  /** Failed pulls (connection lost, consumer missing); the loop retries. */
  pullErrors: number;
  /** Messages being delivered now. */
  inFlight: number;
  /** Messages received and waiting for a free slot. */
  waiting: number;
}

/** A running dispatcher for one (function, trigger) consumer. */
export interface Dispatcher {
  readonly consumerName: string;
  stats(): DispatcherStats;
  /** Stops pulling, waits (bounded) for deliveries in flight; unfinished ones are neither acked nor naked. */
  stop(): Promise<void>;
}
