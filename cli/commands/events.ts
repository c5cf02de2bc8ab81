import type { Msg, NatsConnection } from "@nats-io/nats-core";
import type { CloudEvent } from "cloudevents";
import { fromNatsMsg, NATS } from "../../controller/events/index.ts";
import { SUBJECT_PATTERN } from "../../spec/index.ts";
import { parseVerbArgs } from "../args.ts";
import { UsageError } from "../errors.ts";
import type { Io } from "../io.ts";
import { NATS_OPTIONS, openNats } from "../nats-target.ts";

const USAGE = "events tail <subject> [--count N] [--nats URL] [--state-dir DIR]";
const DATA_CHARS = 200;

/** `skiff events tail`: prints each CloudEvent arriving on a subject (wildcards allowed), one per line. */
export async function run(argv: string[], io: Io): Promise<number> {
  const { values, positionals } = parseVerbArgs(argv, { count: { type: "string" }, ...NATS_OPTIONS }, USAGE);
  const [sub, subject, ...extra] = positionals;
  if (sub !== "tail") throw new UsageError(sub === undefined ? "expected a subcommand: tail" : `unknown subcommand "${sub}" (expected tail)`, USAGE);
  if (subject === undefined || extra.length > 0) throw new UsageError("expected one subject", USAGE);
  if (!SUBJECT_PATTERN.test(subject)) {
    throw new UsageError(`invalid subject ${JSON.stringify(subject)}: dot-separated non-empty tokens without spaces; "*" and ">" only as whole tokens, ">" only last`, USAGE);
  }
  const count = parseCount(values.count as string | undefined);
  const { nc, url } = await openNats(values);
  await tail(nc, { subject, url, count, json: values.json as boolean, io });
  return 0;
}

/** Subscribes and prints until `count` CloudEvents arrived, or SIGINT/SIGTERM. */
async function tail(nc: NatsConnection, options: { subject: string; url: string; count?: number; json: boolean; io: Io }): Promise<void> {
  const subscription = nc.subscribe(options.subject);
  const stop = () => void nc.close();
  for (const signal of ["SIGINT", "SIGTERM"] as const) process.once(signal, stop);
  try {
    // Flushed first: once the server has the subscription, "listening" is a promise kept.
    await nc.flush();
    options.io.err(`listening on ${options.subject} (${options.url}); Ctrl-C stops`);
    let seen = 0;
    for await (const msg of subscription) {
      if (printMessage(msg, options.json, options.io) && ++seen === options.count) break;
    }
  } finally {
    for (const signal of ["SIGINT", "SIGTERM"] as const) process.off(signal, stop);
    if (!nc.isClosed()) await nc.close();
  }
}

/** Prints one message; true when it was a CloudEvent. */
function printMessage(msg: Msg, json: boolean, io: Io): boolean {
  let event: CloudEvent<unknown>;
  try {
    event = NATS.toEvent(fromNatsMsg(msg));
  } catch (error) {
    const reason = (error as Error).message;
    io.out(json ? JSON.stringify({ subject: msg.subject, error: reason }) : `not a CloudEvent on ${msg.subject}: ${reason}`);
    return false;
  }
  io.out(json ? JSON.stringify(event) : formatEventLine(event));
  return true;
}

/** One human line: `<time> <type> <source> <id> <data as JSON, truncated>`. */
export function formatEventLine(event: Pick<CloudEvent<unknown>, "time" | "type" | "source" | "id" | "data">): string {
  return [event.time ?? "-", event.type, event.source, event.id, formatData(event.data)].join(" ");
}

function formatData(data: unknown): string {
  if (data === undefined) return "-";
  const text = ArrayBuffer.isView(data) ? `<${data.byteLength} bytes>` : JSON.stringify(data);
  // Cut by code points, so a truncated line never ends in half a surrogate pair.
  const chars = [...text];
  return chars.length > DATA_CHARS ? `${chars.slice(0, DATA_CHARS).join("")}…` : text;
}

function parseCount(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (!/^[0-9]+$/.test(value) || Number(value) < 1) throw new UsageError(`--count must be a whole number >= 1, got "${value}"`, USAGE);
  return Number(value);
}
