// The dead-letter message (contract: the CLI and redrive read it). Published with JetStream on
// skiff.dlq.<fn> into the SKIFF_DLQ stream. Body and headers are the ORIGINAL message's, so a dead
// letter is still the original event in whatever mode it came (or the original bytes, when it was
// not an event at all); skiff-dlq-* headers say why it died:
//   skiff-dlq-reason      what went wrong (outcome.ts DLQ_REASONS), percent-encoded
//   skiff-dlq-status      last HTTP status from the function, 0 when there was none
//   skiff-dlq-error       last error text, percent-encoded like ce- values, at most 1 KiB encoded
//   skiff-dlq-deliveries  deliveries made (JetStream's delivery count)
//   skiff-dlq-subject     the subject the event was published on (redrive republishes there)
//   skiff-dlq-consumer    the durable consumer that gave up
//   skiff-dlq-time        when, RFC 3339
//   skiff-dlq-stream-seq  the original's sequence in its stream
import type { CloudEvent } from "cloudevents";
import type { JetStreamClient, JetStreamManager, MsgRequest, PubAck } from "@nats-io/jetstream";
import { decodeHeaderValue, encodeHeaderValue } from "../../runtime/index.ts";
import { DeadLetterError } from "./errors.ts";
import { fromNatsMsg, NATS, toNatsHeaders, type NatsMessage } from "./nats-binding.ts";
import { DLQ_PREFIX, DLQ_STREAM, subjectOfDlq } from "./topology.ts";

/** Header names of the dead-letter metadata. */
export const DLQ_HEADERS = {
  reason: "skiff-dlq-reason",
  status: "skiff-dlq-status",
  error: "skiff-dlq-error",
  deliveries: "skiff-dlq-deliveries",
  subject: "skiff-dlq-subject",
  consumer: "skiff-dlq-consumer",
  time: "skiff-dlq-time",
  streamSeq: "skiff-dlq-stream-seq",
} as const;
/** Longest skiff-dlq-error value, after percent-encoding. */
export const MAX_DLQ_ERROR_BYTES = 1024;

/** What the dispatcher knows when it gives up on a message. */
export interface DeadLetterInput {
  fn: string;
  /** The original message, as received. */
  message: NatsMessage;
  /** The subject it was published on. */
  subject: string;
  consumer: string;
  streamSeq?: number;
  reason: string;
  /** Last HTTP status, 0 when there was none. */
  status: number;
  error?: string;
  deliveries: number;
  timeMs: number;
}

/** A dead letter read back: the metadata and the original message (and event, when it is one). */
export interface DeadLetter {
  /** Sequence in SKIFF_DLQ (what removeDeadLetter takes). */
  seq?: number;
  fn: string;
  reason: string;
  status: number;
  error: string;
  deliveries: number;
  subject: string;
  consumer: string;
  time: string;
  streamSeq?: number;
  /** The original headers and bytes, exactly as they were dead-lettered. */
  original: NatsMessage;
  /** The original event; absent when the original was not a valid CloudEvent (see invalid). */
  event?: CloudEvent<unknown>;
  /** Why the original could not be read as an event. */
  invalid?: string;
}

/** The dead-letter message for `input` (pure): subject, headers, body and a Nats-Msg-Id. */
export function makeDeadLetter(input: DeadLetterInput): { subject: string; message: NatsMessage; msgID?: string } {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(input.message.headers)) {
    // Nats-* headers steer JetStream (Nats-Msg-Id would dedup the dead letter against unrelated
    // messages); old skiff-dlq-* would contradict the new ones.
    const lower = name.toLowerCase();
    if (!lower.startsWith("nats-") && !lower.startsWith("skiff-dlq-")) headers[name] = value;
  }
  headers[DLQ_HEADERS.reason] = encodeHeaderValue(input.reason);
  headers[DLQ_HEADERS.status] = String(input.status);
  if (input.error) headers[DLQ_HEADERS.error] = encodeTruncated(input.error, MAX_DLQ_ERROR_BYTES);
  headers[DLQ_HEADERS.deliveries] = String(input.deliveries);
  headers[DLQ_HEADERS.subject] = input.subject;
  headers[DLQ_HEADERS.consumer] = input.consumer;
  headers[DLQ_HEADERS.time] = new Date(input.timeMs).toISOString();
  if (input.streamSeq !== undefined) headers[DLQ_HEADERS.streamSeq] = String(input.streamSeq);
  // The same stream message dead-lettered twice by one consumer (the term after a stored dead
  // letter was lost) is stored once.
  const msgID = input.streamSeq !== undefined ? `${input.consumer}:${input.streamSeq}` : undefined;
  return { subject: subjectOfDlq(input.fn), message: { headers, body: input.message.body }, ...(msgID ? { msgID } : {}) };
}

/** Percent-encodes `text` and cuts it at a character boundary so the result fits in maxBytes. */
export function encodeTruncated(text: string, maxBytes: number): string {
  const encoded = encodeHeaderValue(text);
  if (encoded.length <= maxBytes) return encoded;
  const marker = "...";
  let out = "";
  for (const char of text) {
    const piece = encodeHeaderValue(char);
    if (out.length + piece.length + marker.length > maxBytes) break;
    out += piece;
  }
  return out + marker;
}

/** Reads a stored dead letter (pure); never throws on an original that is not an event. */
export function parseDeadLetter(msg: NatsMessage & { subject: string; seq?: number }): DeadLetter {
  const h = msg.headers;
  const original: NatsMessage = {
    headers: Object.fromEntries(Object.entries(h).filter(([name]) => !name.toLowerCase().startsWith("skiff-dlq-"))),
    body: msg.body,
  };
  const letter: DeadLetter = {
    ...(msg.seq !== undefined ? { seq: msg.seq } : {}),
    fn: msg.subject.startsWith(DLQ_PREFIX) ? msg.subject.slice(DLQ_PREFIX.length) : msg.subject,
    reason: decodeHeaderValue(h[DLQ_HEADERS.reason] ?? ""),
    status: Number(h[DLQ_HEADERS.status] ?? 0) || 0,
    error: decodeHeaderValue(h[DLQ_HEADERS.error] ?? ""),
    deliveries: Number(h[DLQ_HEADERS.deliveries] ?? 0) || 0,
    subject: h[DLQ_HEADERS.subject] ?? "",
    consumer: h[DLQ_HEADERS.consumer] ?? "",
    time: h[DLQ_HEADERS.time] ?? "",
    original,
  };
  if (h[DLQ_HEADERS.streamSeq]) letter.streamSeq = Number(h[DLQ_HEADERS.streamSeq]);
  try {
    letter.event = NATS.toEvent<unknown>(original);
  } catch (error) {
    letter.invalid = (error as Error).message;
  }
  return letter;
}

/** Stores a dead letter with JetStream (never core NATS: a dead letter nobody stored is lost). */
export async function publishDeadLetter(js: JetStreamClient, input: DeadLetterInput): Promise<PubAck> {
  const { subject, message, msgID } = makeDeadLetter(input);
  try {
    return await js.publish(subject, message.body, { headers: toNatsHeaders(message.headers), ...(msgID ? { msgID } : {}) });
  } catch (error) {
    throw new DeadLetterError(`failed to dead-letter a message of ${input.fn} (from ${input.subject}) on ${subject}: ${(error as Error).message}`, { cause: error });
  }
}

/** A function's dead letters, oldest first, without consuming them (stream reads by subject). */
export async function listDeadLetters(jsm: JetStreamManager, fn: string, options: { limit?: number; fromSeq?: number } = {}): Promise<DeadLetter[]> {
  const limit = options.limit ?? 100;
  const letters: DeadLetter[] = [];
  let seq = options.fromSeq ?? 1;
  try {
    while (letters.length < limit) {
      // next_by_subj: the first message at or after seq on that subject (null when none). The
      // server (2.9+) takes it on STREAM.MSG.GET; the client's MsgRequest type only lacks it.
      const query = { seq, next_by_subj: subjectOfDlq(fn) } as unknown as MsgRequest;
      const stored = await jsm.streams.getMessage(DLQ_STREAM, query);
      if (!stored) break;
      letters.push(parseDeadLetter({ ...fromNatsMsg({ headers: stored.header, data: stored.data }), subject: stored.subject, seq: stored.seq }));
      seq = stored.seq + 1;
    }
  } catch (error) {
    if (/not found/i.test((error as Error).message)) return letters;
    throw new DeadLetterError(`failed to list dead letters of ${fn}: ${(error as Error).message}`, { cause: error });
  }
  return letters;
}

/** How many dead letters a function has. */
export async function countDeadLetters(jsm: JetStreamManager, fn: string): Promise<number> {
  try {
    const info = await jsm.streams.info(DLQ_STREAM, { subjects_filter: subjectOfDlq(fn) });
    return info.state.subjects?.[subjectOfDlq(fn)] ?? 0;
  } catch (error) {
    if (/not found/i.test((error as Error).message)) return 0;
    throw new DeadLetterError(`failed to count dead letters of ${fn}: ${(error as Error).message}`, { cause: error });
  }
}

/** Deletes one dead letter by its SKIFF_DLQ sequence; false when it was already gone. */
export async function removeDeadLetter(jsm: JetStreamManager, seq: number): Promise<boolean> {
  try {
    // erase=false: a plain delete; overwriting the bytes on disk buys nothing here.
    return await jsm.streams.deleteMessage(DLQ_STREAM, seq, false);
  } catch (error) {
    if (/no message found|not found/i.test((error as Error).message)) return false;
    throw new DeadLetterError(`failed to remove dead letter ${seq}: ${(error as Error).message}`, { cause: error });
  }
}

/**
 * Republishes a dead letter's original message (headers and bytes, so invalid originals too) on
 * its original subject. No Nats-Msg-Id: a replay must never be dropped as a duplicate of the
 * original publish. Remove the dead letter afterwards; a crash in between replays it twice.
 */
export async function redriveDeadLetter(js: JetStreamClient, letter: DeadLetter): Promise<PubAck> {
  if (!letter.subject) throw new DeadLetterError(`dead letter ${letter.seq ?? "?"} of ${letter.fn} has no ${DLQ_HEADERS.subject} header`);
  try {
    return await js.publish(letter.subject, letter.original.body, { headers: toNatsHeaders(letter.original.headers) });
  } catch (error) {
    throw new DeadLetterError(`failed to redrive dead letter ${letter.seq ?? "?"} of ${letter.fn} to ${letter.subject}: ${(error as Error).message}`, { cause: error });
  }
}
