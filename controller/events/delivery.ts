// One message through the dispatcher: read it as a CloudEvent, filter by type, deliver it while
// holding its lease with in-progress acks, then apply the outcome table (ack, nak with backoff,
// dead-letter). A message is settled exactly once, and never after the dispatcher abandoned it.
import type { JsMsg } from "@nats-io/jetstream";
import type { CloudEvent } from "cloudevents";
import type { DeadLetterInput } from "./dead-letter.ts";
import { fromNatsMsg, hopsOf, NATS, withHop } from "./nats-binding.ts";
import { backoffDelayMs, decideOutcome, DLQ_REASONS, MAX_HOPS, type Outcome } from "./outcome.ts";
import type { DeliveryResult, DispatcherOptions, DispatcherStats, EventsClock, EventsLogger } from "./types.ts";

/** Mutable counters the dispatcher reports (inFlight and waiting are computed). */
export type Counters = Omit<DispatcherStats, "inFlight" | "waiting">;

/** What processing needs from the dispatcher. */
export interface ProcessContext {
  options: DispatcherOptions;
  counters: Counters;
  logger: EventsLogger;
  clock: EventsClock;
}

/** A received message and its lease, from receipt until settled or abandoned. */
export interface Job {
  msg: JsMsg;
  controller: AbortController;
  /** Set when stop() gave up waiting: the message is left for JetStream to redeliver. */
  abandoned: boolean;
  stopLease: () => void;
}

// Dead-letter publishes are retried in place before falling back to a nak: on the spare delivery
// a nak would strand the message in the stream, so a short outage should not get that far.
const DEAD_LETTER_RETRY_MS = [100, 400, 1_000];

/**
 * Starts in-progress acks (+WPI) every third of ack_wait from receipt until settled, so a long
 * handler or a wait for a free slot never lets the server redeliver to someone else.
 */
export function startLease(msg: JsMsg, ackWaitMs: number, clock: EventsClock): () => void {
  const everyMs = Math.max(50, Math.floor(ackWaitMs / 3));
  let stopped = false;
  let handle: unknown;
  const beat = (): void => {
    if (stopped) return;
    try {
      msg.working();
    } catch {
      // Closed connection: nothing to extend; the message will be redelivered.
    }
    handle = clock.setTimeout(beat, everyMs);
  };
  handle = clock.setTimeout(beat, everyMs);
  return () => {
    stopped = true;
    clock.clearTimeout(handle);
  };
}

/** Processes one message to a settled state (or abandons it on stop). */
export async function processMessage(ctx: ProcessContext, job: Job): Promise<void> {
  const { trigger } = ctx.options;
  const deliveryCount = job.msg.info.deliveryCount;
  let event: CloudEvent<unknown>;
  try {
    event = NATS.toEvent<unknown>(fromNatsMsg(job.msg));
  } catch (error) {
    return deadLetter(ctx, job, { reason: DLQ_REASONS.invalidEvent, status: 0, error: (error as Error).message });
  }
  if (trigger.type !== undefined && event.type !== trigger.type) {
    ctx.counters.skipped++;
    return settle(ctx, job, "ack");
  }
  if (deliveryCount > trigger.maxDeliver) {
    // The spare delivery (topology: max_deliver = maxDeliver + 1): the function already had its
    // maxDeliver tries, the last of which never settled; only dead-letter it.
    const error = "the last delivery never finished (dispatcher stopped or crashed, or dead-lettering failed)";
    return deadLetter(ctx, job, { reason: DLQ_REASONS.maxDeliveries, status: 0, error });
  }
  const result = await runDeliver(ctx, job, event, deliveryCount);
  if (job.abandoned) return;
  const hops = result.reply ? hopsOf(event) + 1 : undefined;
  const outcome = decideOutcome({ ...result, deliveryCount, trigger, ...(hops !== undefined ? { hops } : {}) });
  await applyOutcome(ctx, job, outcome, event, result, deliveryCount);
}

async function runDeliver(ctx: ProcessContext, job: Job, event: CloudEvent<unknown>, deliveryCount: number): Promise<DeliveryResult> {
  const { options } = ctx;
  ctx.counters.delivered++;
  const timeoutMs = options.deliverTimeoutMs;
  const signal = timeoutMs ? AbortSignal.any([job.controller.signal, AbortSignal.timeout(timeoutMs)]) : job.controller.signal;
  // Raced against the signal: a deliver that ignores it must not hold the slot forever.
  const aborted = new Promise<DeliveryResult>((resolve) =>
    signal.addEventListener("abort", () => resolve({ status: 0, error: `delivery aborted: ${reasonText(signal.reason)}` }), { once: true }),
  );
  try {
    return await Promise.race([options.deliver(event, { deliveryCount, signal, fn: options.fn, trigger: options.trigger }), aborted]);
  } catch (error) {
    return { status: 0, error: reasonText(error) };
  }
}

async function applyOutcome(
  ctx: ProcessContext, job: Job, outcome: Outcome, event: CloudEvent<unknown>, result: DeliveryResult, deliveryCount: number,
): Promise<void> {
  const { trigger } = ctx.options;
  if (outcome.action === "nak") return settle(ctx, job, "nak", outcome.delayMs);
  if (outcome.action === "dead-letter") {
    const error = outcome.reason === DLQ_REASONS.hopLimit
      ? `the reply would carry hop count ${hopsOf(event) + 1} > ${MAX_HOPS}; not published on ${trigger.reply}`
      : result.error;
    return deadLetter(ctx, job, { reason: outcome.reason, status: result.status, ...(error ? { error } : {}) });
  }
  if (outcome.publishReply && result.reply && trigger.reply) {
    try {
      await ctx.options.publishReply(trigger.reply, withHop(result.reply, event));
      ctx.counters.replies++;
    } catch (error) {
      // Acking now would lose the reply: redeliver, and the function answers again.
      ctx.counters.replyFailures++;
      ctx.logger.warn("failed to publish a reply; the event will be redelivered", { ...where(ctx, job), error: reasonText(error) });
      return settle(ctx, job, "nak", backoffDelayMs(trigger.backoffMs, deliveryCount));
    }
  }
  return settle(ctx, job, "ack");
}

async function deadLetter(ctx: ProcessContext, job: Job, why: { reason: string; status: number; error?: string }): Promise<void> {
  const { msg } = job;
  const letter: DeadLetterInput = {
    fn: ctx.options.fn, message: fromNatsMsg(msg), subject: msg.subject, consumer: ctx.options.consumerName,
    streamSeq: msg.info.streamSequence, deliveries: msg.info.deliveryCount, timeMs: ctx.clock.now(), ...why,
  };
  for (let attempt = 0; ; attempt++) {
    try {
      await ctx.options.deadLetter(letter);
      ctx.counters.deadLettered++;
      ctx.logger.warn("dead-lettered an event", { ...where(ctx, job), reason: why.reason, status: why.status, error: why.error });
      return settle(ctx, job, "term");
    } catch (error) {
      if (job.abandoned) return;
      if (attempt >= DEAD_LETTER_RETRY_MS.length) {
        ctx.counters.deadLetterFailures++;
        ctx.logger.error("failed to dead-letter an event; it will be redelivered", { ...where(ctx, job), error: reasonText(error) });
        return settle(ctx, job, "nak", backoffDelayMs(ctx.options.trigger.backoffMs, msg.info.deliveryCount));
      }
      await new Promise((resolve) => ctx.clock.setTimeout(() => resolve(undefined), DEAD_LETTER_RETRY_MS[attempt]!));
    }
  }
}

// Acks decided during one event-loop turn, sent together at its end: each ack is a publish, and
// nats.js writes its outbound buffer to the socket once per microtask checkpoint, so acks settled
// by different promise chains would otherwise cost a socket write each. Everything an ack must
// follow (the reply's publish and flush) has already completed when it is queued; the job stays
// in flight (stop() waits for it) until its ack is sent.
let ackBatch: { jobs: Array<{ ctx: ProcessContext; job: Job }>; sent: Promise<void> } | undefined;

function queueAck(ctx: ProcessContext, job: Job): Promise<void> {
  if (!ackBatch) {
    const jobs: Array<{ ctx: ProcessContext; job: Job }> = [];
    const sent = new Promise<void>((resolve) =>
      setImmediate(() => {
        ackBatch = undefined;
        for (const { ctx, job } of jobs) ackNow(ctx, job);
        resolve();
      }),
    );
    ackBatch = { jobs, sent };
  }
  ackBatch.jobs.push({ ctx, job });
  return ackBatch.sent;
}

function ackNow(ctx: ProcessContext, job: Job): void {
  try {
    job.msg.ack();
  } catch (error) {
    // The connection closed: the server redelivers after ack_wait, as if we had crashed.
    ctx.logger.warn("failed to ack a message", { ...where(ctx, job), error: reasonText(error) });
    return;
  }
  ctx.counters.acked++;
}

/**
 * Acks (with the other acks of this event-loop turn: the promise resolves once sent), naks (with
 * a delay) or terminates, once; a no-op for an abandoned job.
 */
export function settle(ctx: ProcessContext, job: Job, how: "ack" | "nak" | "term", delayMs = 0): Promise<void> | undefined {
  if (job.abandoned) return;
  job.stopLease();
  if (how === "ack") return queueAck(ctx, job);
  try {
    if (how === "nak") job.msg.nak(delayMs > 0 ? delayMs : undefined);
    else job.msg.term();
  } catch (error) {
    // The connection closed: the server redelivers after ack_wait, as if we had crashed.
    ctx.logger.warn(`failed to ${how} a message`, { ...where(ctx, job), error: reasonText(error) });
    return;
  }
  if (how === "nak") ctx.counters.naked++;
}

function where(ctx: ProcessContext, job: Job): Record<string, unknown> {
  return { fn: ctx.options.fn, consumer: ctx.options.consumerName, subject: job.msg.subject, streamSeq: job.msg.info.streamSequence, deliveryCount: job.msg.info.deliveryCount };
}

function reasonText(reason: unknown): string {
  if (reason instanceof Error) return reason.cause instanceof Error ? `${reason.message} (${reason.cause.message})` : reason.message;
  return String(reason);
}
