import { describe, expect, it } from "vitest";
import { backoffDelayMs, decideOutcome, DLQ_REASONS, MAX_HOPS, type Outcome, type OutcomeInput } from "./outcome.ts";

const trigger = { reply: "out", maxDeliver: 3, backoffMs: [100, 1_000, 10_000] };
const noReply = { ...trigger, reply: undefined };
const ack: Outcome = { action: "ack", publishReply: false };
const dlq = (reason: string): Outcome => ({ action: "dead-letter", reason });

describe("decideOutcome (the DESIGN table)", () => {
  it.each<[string, Omit<OutcomeInput, "trigger"> & { trigger?: OutcomeInput["trigger"] }, Outcome]>([
    ["200 without a reply acks", { status: 200, deliveryCount: 1 }, ack],
    ["202 without a reply acks", { status: 202, deliveryCount: 3 }, ack],
    ["200 with a reply publishes it, then acks", { status: 200, deliveryCount: 1, hops: 1 }, { action: "ack", publishReply: true }],
    ["a reply at exactly MAX_HOPS is still published", { status: 200, deliveryCount: 1, hops: MAX_HOPS }, { action: "ack", publishReply: true }],
    ["a reply beyond MAX_HOPS is dead-lettered", { status: 200, deliveryCount: 1, hops: MAX_HOPS + 1 }, dlq(DLQ_REASONS.hopLimit)],
    ["a reply without a reply subject is dropped", { status: 200, deliveryCount: 1, hops: MAX_HOPS + 5, trigger: noReply }, ack],
    ["500 naks with the first backoff", { status: 500, deliveryCount: 1 }, { action: "nak", delayMs: 100 }],
    ["503 on delivery 2 naks with the second", { status: 503, deliveryCount: 2 }, { action: "nak", delayMs: 1_000 }],
    ["408 is retried", { status: 408, deliveryCount: 1 }, { action: "nak", delayMs: 100 }],
    ["409 is retried", { status: 409, deliveryCount: 1 }, { action: "nak", delayMs: 100 }],
    ["429 is retried", { status: 429, deliveryCount: 1 }, { action: "nak", delayMs: 100 }],
    ["no answer (0: thrown, timeout) is retried", { status: 0, deliveryCount: 1, error: "ECONNREFUSED" }, { action: "nak", delayMs: 100 }],
    ["Retry-After lengthens the delay", { status: 429, deliveryCount: 1, retryAfterMs: 5_000 }, { action: "nak", delayMs: 5_000 }],
    ["Retry-After never shortens it", { status: 503, deliveryCount: 2, retryAfterMs: 10 }, { action: "nak", delayMs: 1_000 }],
    ["Retry-After is capped", { status: 503, deliveryCount: 1, retryAfterMs: 86_400_000 }, { action: "nak", delayMs: 300_000 }],
    ["5xx at maxDeliver is dead-lettered", { status: 500, deliveryCount: 3 }, dlq(DLQ_REASONS.maxDeliveries)],
    ["no answer at maxDeliver is dead-lettered", { status: 0, deliveryCount: 3 }, dlq(DLQ_REASONS.maxDeliveries)],
    ["400 is dead-lettered at once", { status: 400, deliveryCount: 1 }, dlq(DLQ_REASONS.rejected)],
    ["404 is dead-lettered at once", { status: 404, deliveryCount: 1 }, dlq(DLQ_REASONS.rejected)],
    ["413 is dead-lettered at once", { status: 413, deliveryCount: 1 }, dlq(DLQ_REASONS.rejected)],
    ["a redirect is dead-lettered", { status: 302, deliveryCount: 1 }, dlq(DLQ_REASONS.unexpectedStatus)],
  ])("%s", (_name, input, expected) => {
    expect(decideOutcome({ trigger, ...input })).toEqual(expected);
  });

  it.each([
    [[100, 1_000, 10_000], 1, 100], [[100, 1_000, 10_000], 3, 10_000], [[100, 1_000, 10_000], 9, 10_000],
    [[250], 1, 250], [[250], 4, 250], [[], 2, 0], [[100], 0, 100],
  ])("backoffDelayMs(%j, %i) = %i (the last entry repeats)", (table, count, delay) => {
    expect(backoffDelayMs(table, count)).toBe(delay);
  });
});
