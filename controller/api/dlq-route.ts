// GET /v1/functions/:name/dlq and POST /v1/functions/:name/dlq/redrive: a function's dead
// letters and their replay. The platform may run without an event side, in which case the
// operations are absent and the routes answer 501 (through the one error mapper).
import { BadRequestError, NotImplementedError } from "./errors.ts";
import type { DeadLetterSummary, PlatformOps, RedriveResult } from "./types.ts";

/** Dead letters listed when the request gives no limit. */
export const DEFAULT_DLQ_LIMIT = 100;
/** Largest `limit` accepted. */
export const MAX_DLQ_LIMIT = 10_000;

/** Answers a dlq list request for function `name` (already validated); `limit` is the raw query value. */
export async function answerDlqList(ops: PlatformOps, name: string, limit: string | undefined): Promise<{ deadLetters: DeadLetterSummary[] }> {
  const parsed = parseLimit(limit);
  if (!ops.dlqList) throw notImplemented();
  return { deadLetters: await ops.dlqList(name, { limit: parsed }) };
}

/** Answers a redrive request for function `name` (already validated). */
export async function answerDlqRedrive(ops: PlatformOps, name: string): Promise<RedriveResult> {
  if (!ops.dlqRedrive) throw notImplemented();
  return ops.dlqRedrive(name);
}

function notImplemented(): NotImplementedError {
  return new NotImplementedError("dead letters are not available: this platform runs without NATS events");
}

function parseLimit(value: string | undefined): number {
  if (value === undefined || value === "") return DEFAULT_DLQ_LIMIT;
  const n = Number(value);
  if (!/^[0-9]+$/.test(value) || n < 1 || n > MAX_DLQ_LIMIT) {
    throw new BadRequestError(`limit must be a whole number from 1 to ${MAX_DLQ_LIMIT}, got ${JSON.stringify(value)}`);
  }
  return n;
}
