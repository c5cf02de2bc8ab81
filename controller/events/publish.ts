// Publishing a CloudEvent on NATS: through JetStream when a stream stores the subject (the publish
// is acknowledged once stored, and a repeated publish inside the stream's duplicate window is
// dropped by its Nats-Msg-Id), else as a plain core NATS message that only live subscribers see.
//
// Whether a stream stores the subject is asked first (STREAM.NAMES by subject), not inferred from
// a failed JetStream publish: that publish is a request, and a live core subscriber on the subject
// (`skiff events tail`) "answers" it with silence, so it would time out instead of failing fast.
import { createHash } from "node:crypto";
import type { JetStreamClient, JetStreamManager, PubAck } from "@nats-io/jetstream";
import type { MsgHdrs, NatsConnection } from "@nats-io/nats-core";
import type { CloudEventV1 } from "cloudevents";
import { PublishError } from "./errors.ts";
import { NATS, toNatsHeaders, type NatsMessage } from "./nats-binding.ts";

/** Where a published event went. */
export interface PublishResult {
  /** True when a JetStream stream stored it (or already had it: duplicate). */
  stored: boolean;
  stream?: string;
  seq?: number;
  /** The stream already held a message with this Nats-Msg-Id (a retried publish). */
  duplicate?: boolean;
}

/** Options of publishEvent. */
export interface PublishOptions extends MessageOptions {
  /** CloudEvents NATS binding mode (default binary: ce- headers, data as payload). */
  mode?: "binary" | "structured";
  /** Set false to skip publish dedup (default true). */
  dedup?: boolean;
}

/** Options of publishMessage. */
export interface MessageOptions {
  /**
   * Remembers which subjects a stream stores, so a publish does not first cost a STREAM.NAMES
   * request. Whoever changes streams invalidates it (the platform does after each topology
   * reconcile); entries also expire after its TTL, for streams changed by someone else.
   */
  streams?: StreamLookupCache;
  /**
   * Bound on the publish (JetStream ack, or core flush), default nats.js's (5 s). The stream
   * lookup is bounded by the JetStreamClient's own timeout (`jetstream(nc, { timeout })`).
   */
  timeoutMs?: number;
}

/** Default lifetime of a StreamLookupCache answer. */
export const STREAM_LOOKUP_TTL_MS = 30_000;

/** "Does a stream store subject S", per subject, until invalidated or expired. */
export class StreamLookupCache {
  private readonly entries = new Map<string, { stored: Promise<boolean>; atMs: number }>();

  constructor(
    private readonly ttlMs = STREAM_LOOKUP_TTL_MS,
    private readonly now: () => number = Date.now,
  ) {}

  /** The cached answer, else `ask()`'s (concurrent lookups of one subject share one request; failures are not kept). */
  lookup(subject: string, ask: () => Promise<boolean>): Promise<boolean> {
    const hit = this.entries.get(subject);
    if (hit && this.now() - hit.atMs < this.ttlMs) return hit.stored;
    const stored = ask();
    const entry = { stored, atMs: this.now() };
    this.entries.set(subject, entry);
    stored.catch(() => this.entries.get(subject) === entry && this.entries.delete(subject));
    return stored;
  }

  /** Forgets one subject's answer, or every answer (streams changed). */
  invalidate(subject?: string): void {
    if (subject === undefined) this.entries.clear();
    else this.entries.delete(subject);
  }

  /** Subjects with an answer now (tests). */
  get size(): number {
    return this.entries.size;
  }
}

/**
 * The Nats-Msg-Id of an event on a subject. CloudEvents makes (source, id) unique; the subject is
 * included because dedup spans the whole stream, and a function that echoes its input (same
 * source and id) onto a reply subject must not be taken for a repeat of that input.
 */
export function msgIdOf(subject: string, event: Pick<CloudEventV1<unknown>, "source" | "id">): string {
  return createHash("sha256").update(`${subject}\0${event.source}\0${event.id}`).digest("hex").slice(0, 32);
}

/** Encodes the event in the binding's mode and publishes it on `subject`; stored when a stream covers it. */
export async function publishEvent(
  js: JetStreamClient,
  nc: NatsConnection,
  subject: string,
  event: CloudEventV1<unknown>,
  options: PublishOptions = {},
): Promise<PublishResult> {
  const message = options.mode === "structured" ? NATS.structured(event) : NATS.binary(event);
  // Only a JetStream publish uses it: computed (a sha256) once we know a stream stores the subject.
  const msgID = options.dedup === false ? undefined : () => msgIdOf(subject, event);
  try {
    return await publishMessage(js, nc, subject, message, msgID, options);
  } catch (error) {
    throw new PublishError(`failed to publish event "${event.id}" on subject "${subject}": ${(error as Error).message}`, { cause: error });
  }
}

/** Publishes raw headers and body: JetStream first, core NATS when no stream stores the subject. `msgID` may be a function, called only for a JetStream publish. */
export async function publishMessage(
  js: JetStreamClient,
  nc: NatsConnection,
  subject: string,
  message: NatsMessage,
  msgID?: string | (() => string),
  options: MessageOptions = {},
): Promise<PublishResult> {
  let ack: PubAck | undefined;
  const { streams, timeoutMs } = options;
  const stored = streams ? await streams.lookup(subject, () => isStored(js, subject)) : await isStored(js, subject);
  if (stored) {
    if (typeof msgID === "function") msgID = msgID();
    try {
      ack = await js.publish(subject, message.body, {
        headers: toNatsHeaders(message.headers),
        ...(msgID ? { msgID } : {}),
        ...(timeoutMs ? { timeout: timeoutMs } : {}),
      });
    } catch (error) {
      // The stream went away since we asked: publish it like any unstored subject.
      if (!isNoStream(error)) throw error;
      streams?.invalidate(subject);
    }
  }
  if (ack) return { stored: true, stream: ack.stream, seq: ack.seq, duplicate: ack.duplicate };
  // No stream stores this subject (a reply subject no trigger consumes, say); core NATS still
  // reaches live subscribers. flush() surfaces a broken connection here rather than never.
  await publishCore(nc, subject, message, timeoutMs);
  return { stored: false };
}

/** The core publishes of one event-loop turn on one connection, per timeout, and their shared flush. */
interface CoreBatch {
  messages: Array<{ subject: string; body: Uint8Array; headers: MsgHdrs; error?: unknown }>;
  flushed: Promise<void>;
}

const coreBatches = new WeakMap<NatsConnection, Map<number, CoreBatch>>();

/**
 * Publishes on core NATS and resolves once the server has read the message (a PING/PONG round
 * trip after it). The publishes of one event-loop turn are sent together from setImmediate,
 * followed by one PING: one socket write and one round trip per turn instead of one per reply,
 * with the same guarantee (nats.js keeps one ordered outbound buffer, so the PONG comes after the
 * server read them all). Bounded by timeoutMs (0: nats.js's own) from the end of the turn.
 */
function publishCore(nc: NatsConnection, subject: string, message: NatsMessage, timeoutMs = 0): Promise<void> {
  let byTimeout = coreBatches.get(nc);
  if (!byTimeout) coreBatches.set(nc, (byTimeout = new Map()));
  let batch = byTimeout.get(timeoutMs);
  if (!batch) {
    const pending = byTimeout;
    const messages: CoreBatch["messages"] = [];
    const flushed = new Promise<void>((resolve, reject) => {
      setImmediate(() => {
        pending.delete(timeoutMs);
        for (const m of messages) {
          try {
            nc.publish(m.subject, m.body, { headers: m.headers });
          } catch (error) {
            m.error = error; // that caller's failure (closed connection, bad subject), not the others'
          }
        }
        (timeoutMs ? withTimeout(nc.flush(), timeoutMs, "flush") : nc.flush()).then(resolve, reject);
      });
    });
    batch = { messages, flushed };
    byTimeout.set(timeoutMs, batch);
  }
  const entry: CoreBatch["messages"][number] = { subject, body: message.body, headers: toNatsHeaders(message.headers) };
  batch.messages.push(entry);
  return batch.flushed.then(() => {
    if (entry.error !== undefined) throw entry.error;
  });
}

function withTimeout<T>(work: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what} timed out after ${ms}ms`)), ms)));
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}

const managers = new WeakMap<JetStreamClient, Promise<JetStreamManager>>();

/** True when some stream's subjects match `subject`. */
async function isStored(js: JetStreamClient, subject: string): Promise<boolean> {
  let jsm = managers.get(js);
  if (!jsm) managers.set(js, (jsm = js.jetstreamManager(false)));
  try {
    await (await jsm).streams.find(subject);
    return true;
  } catch (error) {
    if ((error as Error)?.name === "StreamNotFoundError" || /no stream matches/i.test((error as Error)?.message ?? "")) return false;
    throw error;
  }
}

/** nats.js reports "no responders" on a JetStream publish as JetStreamNotEnabled caused by a RequestError. */
function isNoStream(error: unknown): boolean {
  const cause = (error as { cause?: { isNoResponders?: () => boolean } })?.cause;
  return (error as Error)?.name === "JetStreamNotEnabled" && typeof cause?.isNoResponders === "function" && cause.isNoResponders();
}
