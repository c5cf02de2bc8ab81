// How the platform's own event deliveries identify themselves to its gateway: a header any
// client could set, plus the platform's bearer token, which only the platform knows.
import type { IncomingMessage } from "node:http";
import { timingSafeEqual } from "node:crypto";

/** Marks a delivery from the event dispatcher. */
export const INTERNAL_EVENT_HEADER = "x-skiff-internal";
/** Carries the platform token with it. */
export const INTERNAL_TOKEN_HEADER = "x-skiff-token";

/** The gateway's allowEventOnly: true only for the dispatcher's own deliveries. */
export function makeAllowEventOnly(token: string): (req: IncomingMessage) => boolean {
  const expected = Buffer.from(token);
  return (req) => {
    if (req.headers[INTERNAL_EVENT_HEADER] !== "event") return false;
    const given = Buffer.from(String(req.headers[INTERNAL_TOKEN_HEADER] ?? ""));
    return given.length === expected.length && timingSafeEqual(given, expected);
  };
}
