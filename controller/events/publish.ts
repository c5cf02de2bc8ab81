// Publishing a CloudEvent on NATS: through JetStream when a stream stores the subject (the publish
// is acknowledged once stored, and a repeated publish inside the stream's duplicate window is
// dropped by its Nats-Msg-Id), else as a plain core NATS message that only live subscribers see.
//
// Whether a stream stores the subject is asked first (STREAM.NAMES by subject), not inferred from
// a failed JetStream publish: that publish is a request, and a live core subscriber on the subject
// (`skiff events tail`) "answers" it with silence, so it would time out instead of failing fast.
import { createHash } from "node:crypto";
import type { JetStreamClient, JetStreamManager, PubAck } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/nats-core";
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
export interface PublishOptions {
  /** CloudEvents NATS binding mode (default binary: ce- headers, data as payload). */
  mode?: "binary" | "structured";
  /** Set false to skip publish dedup (default true). */
  dedup?: boolean;
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
  const msgID = options.dedup === false ? undefined : msgIdOf(subject, event);
  try {
    return await publishMessage(js, nc, subject, message, msgID);
  } catch (error) {
    throw new PublishError(`failed to publish event "${event.id}" on subject "${subject}": ${(error as Error).message}`, { cause: error });
  }
}

/** Publishes raw headers and body: JetStream first, core NATS when no stream stores the subject. */
export async function publishMessage(
  js: JetStreamClient,
  nc: NatsConnection,
  subject: string,
  message: NatsMessage,
  msgID?: string,
): Promise<PublishResult> {
  let ack: PubAck | undefined;
  if (await isStored(js, subject)) {
    try {
      ack = await js.publish(subject, message.body, { headers: toNatsHeaders(message.headers), ...(msgID ? { msgID } : {}) });
    } catch (error) {
      // The stream went away since we asked: publish it like any unstored subject.
      if (!isNoStream(error)) throw error;
    }
  }
  if (ack) return { stored: true, stream: ack.stream, seq: ack.seq, duplicate: ack.duplicate };
  // No stream stores this subject (a reply subject no trigger consumes, say); core NATS still
  // reaches live subscribers. flush() surfaces a broken connection here rather than never.
  nc.publish(subject, message.body, { headers: toNatsHeaders(message.headers) });
  await nc.flush();
  return { stored: false };
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
