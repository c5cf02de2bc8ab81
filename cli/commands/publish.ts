import { readFile } from "node:fs/promises";
import { jetstream, jetstreamManager } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/nats-core";
import { CloudEvent } from "cloudevents";
import { NATS, publishEvent, type PublishResult, toNatsHeaders } from "../../controller/events/index.ts";
import { REPLY_PATTERN } from "../../spec/index.ts";
import { parseVerbArgs } from "../args.ts";
import { CliError, UsageError } from "../errors.ts";
import { report, type Io } from "../io.ts";
import { NATS_OPTIONS, openNats } from "../nats-target.ts";

const USAGE = "publish <subject> --type T [--source S] [--data JSON|@file] [--id ID] [--structured] [--nats URL] [--state-dir DIR]";

/** Data and content type of an event, from --data. */
export interface EventData {
  data: unknown;
  datacontenttype: string;
}

/** `skiff publish`: publishes one CloudEvent on a subject (stored in JetStream when a stream covers it). */
export async function run(argv: string[], io: Io): Promise<number> {
  const { values, positionals } = parseVerbArgs(
    argv,
    { type: { type: "string" }, source: { type: "string", default: "/skiff/cli" }, data: { type: "string" }, id: { type: "string" }, structured: { type: "boolean", default: false }, ...NATS_OPTIONS },
    USAGE,
  );
  if (positionals.length !== 1) throw new UsageError("expected one subject", USAGE);
  const subject = checkPublishSubject(positionals[0]!);
  const event = makeEvent({
    type: values.type as string | undefined, source: values.source as string, id: values.id as string | undefined,
    data: values.data === undefined ? undefined : await readData(values.data as string),
  });
  const { nc } = await openNats(values);
  try {
    const result = await publish(nc, subject, event, values.structured ? "structured" : "binary").catch((error: Error) => {
      throw new CliError(error.message, { cause: error });
    });
    await nc.flush();
    report(io, values.json as boolean, { id: event.id, subject, ...result }, `published ${event.id} to ${subject} (${describeResult(subject, result)})`);
    return 0;
  } finally {
    await nc.close();
  }
}

/**
 * Through JetStream when a stream stores the subject, else on core NATS. The stream is looked up
 * first because a JetStream publish to a subject no stream stores, but that a core subscriber
 * (`skiff events tail`) listens on, reaches that subscriber and then times out waiting for an
 * ack nobody sends, instead of failing fast with "no responders".
 */
async function publish(nc: NatsConnection, subject: string, event: CloudEvent<unknown>, mode: "binary" | "structured"): Promise<PublishResult> {
  if (await streamOf(nc, subject)) return publishEvent(jetstream(nc), nc, subject, event, { mode });
  const message = mode === "structured" ? NATS.structured(event) : NATS.binary(event);
  nc.publish(subject, message.body, { headers: toNatsHeaders(message.headers) });
  return { stored: false };
}

/** The stream storing `subject`, undefined when none does (or the server has no JetStream). */
async function streamOf(nc: NatsConnection, subject: string): Promise<string | undefined> {
  try {
    return await (await jetstreamManager(nc)).streams.find(subject);
  } catch (error) {
    const { name, message } = error as Error;
    if (name === "StreamNotFoundError" || name === "JetStreamNotEnabled" || /no responders/i.test(message)) return undefined;
    throw error;
  }
}

function describeResult(subject: string, result: { stored: boolean; seq?: number; duplicate?: boolean }): string {
  if (!result.stored) return `no function listens on ${subject}: published on core NATS only`;
  // The stream drops a repeat of (subject, source, id) inside its duplicate window.
  if (result.duplicate) return `already stored in JetStream seq ${result.seq}: same --id and --source published recently, so not stored again`;
  return `stored in JetStream seq ${result.seq}`;
}

/** The subject if events can be published on it (concrete: no wildcards, spaces or empty tokens), else a UsageError naming it. */
export function checkPublishSubject(subject: string): string {
  if (REPLY_PATTERN.test(subject)) return subject;
  throw new UsageError(`invalid subject ${JSON.stringify(subject)}: publish needs a concrete NATS subject (dot-separated non-empty tokens, no spaces, no "*" or ">")`, USAGE);
}

/** --data as event data: JSON when it parses, else UTF-8 text, else (from @file) bytes. */
export function parseEventData(input: string | Uint8Array): EventData {
  let text: string;
  try {
    text = typeof input === "string" ? input : new TextDecoder("utf-8", { fatal: true, ignoreBOM: true }).decode(input);
  } catch {
    return { data: input, datacontenttype: "application/octet-stream" };
  }
  try {
    return { data: JSON.parse(text), datacontenttype: "application/json" };
  } catch {
    return { data: text, datacontenttype: "text/plain; charset=utf-8" };
  }
}

async function readData(value: string): Promise<EventData> {
  if (!value.startsWith("@")) return parseEventData(value);
  const path = value.slice(1);
  const bytes = await readFile(path).catch((error: NodeJS.ErrnoException) => {
    throw new CliError(`cannot read --data file ${path}: ${error.code === "ENOENT" ? "no such file" : error.message}`);
  });
  return parseEventData(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength));
}

/** The CloudEvent to publish; attributes the SDK would not check (non-strict, so a source may hold non-ASCII) are checked here. */
function makeEvent(options: { type?: string; source: string; id?: string; data?: EventData }): CloudEvent<unknown> {
  if (!options.type) throw new UsageError("--type is required (the CloudEvent type, e.g. com.example.order.created)", USAGE);
  if (options.source === "") throw new UsageError("--source must not be empty", USAGE);
  if (options.id === "") throw new UsageError("--id must not be empty", USAGE);
  return new CloudEvent<unknown>(
    { type: options.type, source: options.source, ...(options.id ? { id: options.id } : {}), ...(options.data ?? {}) },
    false,
  );
}
