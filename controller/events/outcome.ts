// What the dispatcher does with a delivery's result (pure): the DESIGN table for at-least-once
// events. 2xx acks (publishing a reply when the trigger has a reply subject); 5xx, 408, 409, 429
// and no response at all (status 0: connection error, timeout) nak with the trigger's backoff
// until maxDeliver, then dead-letter; 400 and every other status dead-letter at once, since
// retrying cannot change the function's answer.
import type { EventTrigger } from "../../spec/types.ts";

/** Most replies an event chain may carry (the hop count of a reply); deeper replies are dead-lettered. */
export const MAX_HOPS = 16;
/** Longest delay a Retry-After from the function may impose on one redelivery. */
export const MAX_RETRY_AFTER_MS = 300_000;

/** Reasons a message is dead-lettered (the skiff-dlq-reason header). */
export const DLQ_REASONS = {
  invalidEvent: "invalid event",
  maxDeliveries: "max deliveries reached",
  rejected: "rejected by the function",
  unexpectedStatus: "unexpected status",
  hopLimit: "hop limit",
} as const;

/** What happened to one delivery, as decideOutcome sees it. */
export interface OutcomeInput {
  /** HTTP status of the function's answer; 0 when there was none (thrown, timeout). */
  status: number;
  error?: string;
  /** 1 for the first delivery (JetStream's delivery count). */
  deliveryCount: number;
  trigger: Pick<EventTrigger, "reply" | "maxDeliver" | "backoffMs">;
  /** Hop count the reply would carry; absent when the function returned no event. */
  hops?: number;
  /** From a Retry-After on a retryable answer. */
  retryAfterMs?: number;
}

/** The decision: ack (maybe publishing the reply first), nak after delayMs, or dead-letter with a reason. */
export type Outcome =
  | { action: "ack"; publishReply: boolean }
  | { action: "nak"; delayMs: number }
  | { action: "dead-letter"; reason: string };

/** The delay before redelivery after delivery number `deliveryCount`; the table's last entry repeats. */
export function backoffDelayMs(backoffMs: readonly number[], deliveryCount: number): number {
  if (backoffMs.length === 0) return 0;
  return backoffMs[Math.min(Math.max(deliveryCount - 1, 0), backoffMs.length - 1)]!;
}

/** Statuses worth another delivery: no answer, timeouts, conflicts, throttling and server errors. */
export function isRetryableStatus(status: number): boolean {
  return status === 0 || status === 408 || status === 409 || status === 429 || (status >= 500 && status <= 599);
}

/** The DESIGN outcome table. */
export function decideOutcome(input: OutcomeInput): Outcome {
  const { status, deliveryCount, trigger } = input;
  if (status >= 200 && status <= 299) {
    if (input.hops === undefined || !trigger.reply) return { action: "ack", publishReply: false };
    if (input.hops > MAX_HOPS) return { action: "dead-letter", reason: DLQ_REASONS.hopLimit };
    return { action: "ack", publishReply: true };
  }
  if (isRetryableStatus(status)) {
    if (deliveryCount >= trigger.maxDeliver) return { action: "dead-letter", reason: DLQ_REASONS.maxDeliveries };
    const retryAfterMs = Math.min(input.retryAfterMs ?? 0, MAX_RETRY_AFTER_MS);
    return { action: "nak", delayMs: Math.max(backoffDelayMs(trigger.backoffMs, deliveryCount), retryAfterMs) };
  }
  if (status >= 400 && status <= 499) return { action: "dead-letter", reason: DLQ_REASONS.rejected };
  return { action: "dead-letter", reason: DLQ_REASONS.unexpectedStatus };
}
