// The desired JetStream topology for a set of functions (pure): one events stream holding every
// trigger subject, one dead-letter stream, one durable pull consumer per (function, trigger).
//
// Retention is "limits" (by age and size), not "interest": with limits every consumer has its own
// cursor over the same messages, so two functions on one subject each get every event, events
// published before a trigger's consumer exists are kept for it, and `skiff events tail` or a
// redrive can read history. Interest retention drops a message nobody is subscribed to at publish
// time, which would lose events published while a function is being (re)deployed.
import { createHash } from "node:crypto";
import {
  AckPolicy,
  DeliverPolicy,
  DiscardPolicy,
  RetentionPolicy,
  StorageType,
  type ConsumerConfig,
  type StreamConfig,
} from "@nats-io/jetstream";
import type { EventTrigger, FunctionSpec } from "../../spec/types.ts";
import { isValidSubject, mergeSubjects, subjectCovers, subjectsOverlap } from "./subjects.ts";

/** The stream holding every trigger subject. */
export const EVENTS_STREAM = "SKIFF_EVENTS";
/** The stream holding dead letters, one subject per function. */
export const DLQ_STREAM = "SKIFF_DLQ";
/** Prefix of every dead-letter subject. */
export const DLQ_PREFIX = "skiff.dlq.";
/** Every durable consumer Skiff owns starts with this; reconcile deletes unknown ones. */
export const CONSUMER_PREFIX = "skiff-";
/** The subject a function's dead letters are published on. */
export const subjectOfDlq = (fn: string): string => `${DLQ_PREFIX}${fn}`;

const NS_PER_MS = 1_000_000;
const DAY_MS = 86_400_000;

/** Tunables of the plan; defaults suit a local platform. */
export interface TopologyOptions {
  /** How long events are kept (default 7 days). */
  maxAgeMs?: number;
  /** Size cap of the events stream; the oldest go first (default 1 GiB). */
  maxBytes?: number;
  /** Window in which a repeated Nats-Msg-Id is dropped as a duplicate publish (default 2 min). */
  duplicateWindowMs?: number;
  /** How long dead letters are kept (default 30 days: someone has to look at them). */
  dlqMaxAgeMs?: number;
  /** Added to the function timeout to get ack_wait (default 10 s; dispatchers send in-progress acks anyway). */
  ackWaitMarginMs?: number;
  /** Where a new consumer starts (default "all": every retained event; see makeConsumerPlan). */
  deliverPolicy?: "all" | "new";
}

/** One stream to create or update. */
export interface StreamPlan {
  name: string;
  config: Partial<StreamConfig> & { name: string; subjects: string[] };
}

/** One durable pull consumer: a (function, trigger) pair. */
export interface ConsumerPlan {
  fn: string;
  trigger: EventTrigger;
  /** The stream whose subjects cover the trigger subject (the DLQ stream for a trigger on skiff.dlq.*). */
  stream: string;
  name: string;
  config: Partial<ConsumerConfig> & { durable_name: string; filter_subject: string };
  /** Deliveries the function can take at once (scale.max * scale.concurrency). */
  capacity: number;
}

/** A trigger that cannot be given a consumer, and why. */
export interface RejectedTrigger {
  fn: string;
  subject: string;
  reason: string;
}

/** Everything reconcileTopology makes real. */
export interface EventTopology {
  streams: StreamPlan[];
  consumers: ConsumerPlan[];
  rejected: RejectedTrigger[];
}

/** `skiff-<fn>-<8 hex of sha256(subject, type)>`: stable across edits of maxDeliver, backoff or reply. */
export function consumerNameOf(fn: string, trigger: Pick<EventTrigger, "subject" | "type">): string {
  // A NUL separator keeps ("a.b", "c") and ("a.bc", "") apart.
  const hash = createHash("sha256").update(`${trigger.subject}\0${trigger.type ?? ""}`).digest("hex").slice(0, 8);
  return `${CONSUMER_PREFIX}${fn}-${hash}`;
}

/** The desired topology for these functions' triggers. */
export function makeTopology(functions: ReadonlyArray<{ fn: string; spec: FunctionSpec }>, options: TopologyOptions = {}): EventTopology {
  const rejected: RejectedTrigger[] = [];
  const consumers: ConsumerPlan[] = [];
  const eventSubjects: string[] = [];
  for (const { fn, spec } of [...functions].sort((a, b) => a.fn.localeCompare(b.fn))) {
    for (const trigger of spec.events) {
      const problem = subjectProblem(trigger.subject)
        // Its own failures would be dead-lettered back to it, without a hop count to end the loop.
        ?? (subjectCovers(trigger.subject, subjectOfDlq(fn)) ? "consumes the function's own dead letters (a loop)" : undefined);
      const plan = makeConsumerPlan(fn, spec, trigger, options);
      if (problem) rejected.push({ fn, subject: trigger.subject, reason: problem });
      else if (consumers.some((c) => c.name === plan.name)) {
        rejected.push({ fn, subject: trigger.subject, reason: "duplicate trigger: another trigger of this function has the same subject and type" });
      } else {
        consumers.push(plan);
        if (plan.stream === EVENTS_STREAM) eventSubjects.push(trigger.subject);
      }
    }
  }
  const merged = mergeSubjects(eventSubjects, [`${DLQ_PREFIX}>`]);
  for (const subject of merged.conflicts) {
    const reason = "overlaps another trigger subject and no subject covering both avoids skiff.dlq.>";
    for (const c of consumers.filter((c) => c.trigger.subject === subject)) rejected.push({ fn: c.fn, subject, reason });
  }
  const kept = consumers.filter((c) => !merged.conflicts.includes(c.trigger.subject));
  return { streams: makeStreamPlans(merged.subjects, options), consumers: kept, rejected };
}

/** Why a trigger subject cannot be consumed, or undefined when it can. */
function subjectProblem(subject: string): string | undefined {
  if (!isValidSubject(subject)) return "not a valid NATS subject";
  if (subject.startsWith("$") || subject.startsWith("_INBOX.")) return "system subjects ($..., _INBOX.) cannot be streamed";
  const dlq = `${DLQ_PREFIX}>`;
  // A subject inside skiff.dlq.> is consumed from the DLQ stream; one straddling it (skiff.>, >)
  // would make the events stream overlap the DLQ stream, which JetStream refuses.
  if (subjectsOverlap(dlq, subject) && !subjectCovers(dlq, subject)) return "overlaps the dead-letter subjects skiff.dlq.>";
  return undefined;
}

/** The two streams: events (when any trigger needs it) and dead letters (always). */
export function makeStreamPlans(eventSubjects: string[], options: TopologyOptions = {}): StreamPlan[] {
  const common = { retention: RetentionPolicy.Limits, storage: StorageType.File, discard: DiscardPolicy.Old };
  const dedup = (options.duplicateWindowMs ?? 120_000) * NS_PER_MS;
  const plans: StreamPlan[] = [];
  if (eventSubjects.length > 0) {
    plans.push({
      name: EVENTS_STREAM,
      config: {
        name: EVENTS_STREAM, subjects: eventSubjects, ...common,
        max_age: (options.maxAgeMs ?? 7 * DAY_MS) * NS_PER_MS, max_bytes: options.maxBytes ?? 1024 ** 3, duplicate_window: dedup,
      },
    });
  }
  plans.push({
    name: DLQ_STREAM,
    config: { name: DLQ_STREAM, subjects: [`${DLQ_PREFIX}>`], ...common, max_age: (options.dlqMaxAgeMs ?? 30 * DAY_MS) * NS_PER_MS, duplicate_window: dedup },
  });
  return plans;
}

/**
 * One trigger's consumer. deliver_policy "all" (default): a new consumer starts at the oldest
 * retained event on its subject, so events published before the function was deployed are not
 * lost; the price is that a trigger whose subject or type changes (a new consumer name) replays
 * what the stream retains. max_ack_pending is twice the capacity: the dispatcher bounds its own
 * deliveries, and the server's bound is a backstop. Set to exactly the capacity, messages
 * orphaned by a crashed dispatcher, or whose acks were lost in a server restart, would fill every
 * slot and stall the consumer for a whole ack_wait. max_deliver is the trigger's maxDeliver plus
 * one spare delivery that the dispatcher never hands to the function: it only dead-letters, so a
 * message whose last delivery crashed or whose dead-letter publish failed still reaches the DLQ. No server-side
 * backoff: the dispatcher naks with the trigger's delay, so the table is ours and the server's
 * "max_deliver must exceed len(backoff)" rule never bites.
 */
export function makeConsumerPlan(fn: string, spec: FunctionSpec, trigger: EventTrigger, options: TopologyOptions = {}): ConsumerPlan {
  const name = consumerNameOf(fn, trigger);
  const covered = subjectCovers(`${DLQ_PREFIX}>`, trigger.subject);
  const capacity = Math.max(1, spec.scale.max * spec.scale.concurrency);
  return {
    fn,
    trigger,
    stream: covered ? DLQ_STREAM : EVENTS_STREAM,
    name,
    capacity,
    config: {
      durable_name: name,
      description: `skiff: ${fn} on ${trigger.subject}${trigger.type ? ` (type ${trigger.type})` : ""}`,
      filter_subject: trigger.subject,
      ack_policy: AckPolicy.Explicit,
      deliver_policy: options.deliverPolicy === "new" ? DeliverPolicy.New : DeliverPolicy.All,
      max_deliver: trigger.maxDeliver + 1,
      ack_wait: (spec.timeoutMs + (options.ackWaitMarginMs ?? 10_000)) * NS_PER_MS,
      max_ack_pending: 2 * capacity,
    },
  };
}
