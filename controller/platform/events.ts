// The event side of `skiff up`: JetStream topology from the functions' triggers, one
// dispatcher per (function, trigger) delivering through the gateway, consumer lag as extra
// demand for the autoscaler, and dead-letter listing and redrive.
import { jetstream, jetstreamManager, type JetStreamClient, type JetStreamManager } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/nats-core";
import type { DeadLetterSummary, RedriveResult } from "../api/index.ts";
import type { Gateway } from "../gateway/index.ts";
import {
  countDeadLetters,
  encodeBinaryRequest,
  listDeadLetters,
  makeTopology,
  publishDeadLetter,
  publishEvent,
  readDeliveryAnswer,
  reconcileTopology,
  StreamLookupCache,
  removeDeadLetter,
  startDispatcher,
  startLagPoller,
  withHop,
  type ConsumerPlan,
  type DeadLetter,
  type Deliver,
  type Dispatcher,
  type EventsLogger,
} from "../events/index.ts";
import { connectNats } from "../nats/index.ts";
import type { FunctionRecord } from "../store/index.ts";

/** What the event side needs from the platform. */
export interface PlatformEventsOptions {
  natsUrl: string;
  /** Deliveries go through the gateway's in-process entry (event-only functions included). */
  gateway: Pick<Gateway, "deliverInternal">;
  logger: EventsLogger;
}

/** The running event side. */
export interface PlatformEvents {
  /** Brings streams, consumers and dispatchers in line with every function's routed revision. */
  reconcile(records: FunctionRecord[]): Promise<void>;
  /** Pending + unacked events of a function (0 when it has no triggers). */
  lag(fn: string): number;
  dlqList(fn: string, limit: number): Promise<DeadLetterSummary[]>;
  dlqRedrive(fn: string): Promise<RedriveResult>;
  stop(): Promise<void>;
}

/**
 * Bound on a reply publish (and its stream lookup): nats.js's 5 s default would park every
 * dispatcher slot through a nats-server restart; a failed reply naks the event for redelivery.
 */
export const REPLY_PUBLISH_TIMEOUT_MS = 2_000;

/** How the event side publishes replies: a short-timeout client and the stream-lookup cache. */
interface ReplyPublisher {
  js: JetStreamClient;
  nc: NatsConnection;
  streams: StreamLookupCache;
}

function publishReply(publisher: ReplyPublisher, subject: string, event: Parameters<typeof publishEvent>[3]) {
  return publishEvent(publisher.js, publisher.nc, subject, event, { streams: publisher.streams, timeoutMs: REPLY_PUBLISH_TIMEOUT_MS });
}

/** The spec of the revision taking the largest share of a function's traffic: its triggers are live. */
function routedSpec(record: FunctionRecord) {
  const main = [...record.traffic].sort((a, b) => b.percent - a.percent)[0];
  return record.revisions.find((r) => r.id === main?.revision)?.spec;
}

/** Connects to NATS and starts the event side (dispatchers start on the first reconcile). */
export async function startPlatformEvents(options: PlatformEventsOptions): Promise<PlatformEvents> {
  const nc = await connectNats(options.natsUrl);
  const js = jetstream(nc);
  const jsm = await jetstreamManager(nc);
  const replies: ReplyPublisher = { js: jetstream(nc, { timeout: REPLY_PUBLISH_TIMEOUT_MS }), nc, streams: new StreamLookupCache() };
  const dispatchers = new Map<string, { plan: ConsumerPlan; dispatcher: Dispatcher }>();
  const deliver = makeDeliver(options);
  const lags = new Map<string, number>();
  const poller = startLagPoller({
    jsm,
    consumers: () => [...dispatchers.values()].map(({ plan }) => ({ fn: plan.fn, stream: plan.stream, consumer: plan.name })),
    onLag: (fn, lag) => lags.set(fn, lag),
    onError: (error) => options.logger.warn("reading consumer lag failed", { error: String(error) }),
  });
  let queue = Promise.resolve();
  const reconcile = (records: FunctionRecord[]) =>
    (queue = queue.then(() => applyTopology({ records, js, jsm, replies, dispatchers, deliver, logger: options.logger })).catch((error) =>
      options.logger.error("event topology reconcile failed", { error: (error as Error).message }),
    ));
  return {
    reconcile,
    lag: (fn) => lags.get(fn) ?? 0,
    dlqList: async (fn, limit) => (await listDeadLetters(jsm, fn, { limit })).map(toSummary),
    dlqRedrive: (fn) => redrive({ fn, jsm, replies, deliver, dispatchers }),
    async stop() {
      poller.stop();
      await Promise.all([...dispatchers.values()].map(({ dispatcher }) => dispatcher.stop()));
      dispatchers.clear();
      await nc.drain().catch(() => nc.close());
    },
  };
}

/**
 * Delivers through the gateway, so scale-from-zero and the autoscaler see event load like HTTP
 * load, but in process: one HTTP request per event, gateway -> replica, in binary mode.
 * Errors before an answer (aborted, answer cut) come back as status 0 (retried), as with httpDeliver.
 */
function makeDeliver(options: PlatformEventsOptions): Deliver {
  return async (event, context) => {
    const request = encodeBinaryRequest(event);
    try {
      const response = await options.gateway.deliverInternal(context.fn, {
        method: "POST",
        path: "/",
        headers: request.headers,
        ...(request.body ? { body: request.body } : {}),
        signal: context.signal,
      });
      return readDeliveryAnswer(response.status, response.headers, response.body);
    } catch (error) {
      return { status: 0, error: `delivery to ${context.fn} through the gateway failed: ${(error as Error).message}` };
    }
  };
}

async function applyTopology(ctx: {
  records: FunctionRecord[];
  js: JetStreamClient;
  jsm: JetStreamManager;
  replies: ReplyPublisher;
  dispatchers: Map<string, { plan: ConsumerPlan; dispatcher: Dispatcher }>;
  deliver: Deliver;
  logger: EventsLogger;
}): Promise<void> {
  const fns = ctx.records.flatMap((record) => {
    const spec = routedSpec(record);
    return spec ? [{ fn: record.name, spec }] : [];
  });
  const topology = makeTopology(fns);
  for (const rejected of topology.rejected) ctx.logger.warn("trigger refused", { ...rejected });
  // Dispatchers whose consumer goes away (or whose trigger changed) stop before reconcile deletes it.
  const wanted = new Map(topology.consumers.map((plan) => [plan.name, plan]));
  for (const [name, { plan, dispatcher }] of ctx.dispatchers) {
    const next = wanted.get(name);
    if (next && JSON.stringify(next.trigger) === JSON.stringify(plan.trigger) && next.capacity === plan.capacity) continue;
    await dispatcher.stop();
    ctx.dispatchers.delete(name);
  }
  try {
    await reconcileTopology(ctx.jsm, topology);
  } finally {
    // Streams may have changed subjects (or come and gone): re-ask where replies go.
    ctx.replies.streams.invalidate();
  }
  for (const plan of topology.consumers) {
    if (ctx.dispatchers.has(plan.name)) continue;
    const dispatcher = startDispatcher({
      js: ctx.js,
      stream: plan.stream,
      consumerName: plan.name,
      fn: plan.fn,
      trigger: plan.trigger,
      capacity: () => plan.capacity,
      deliver: ctx.deliver,
      publishReply: (subject, event) => publishReply(ctx.replies, subject, event),
      deadLetter: (letter) => publishDeadLetter(ctx.js, letter),
      logger: ctx.logger,
    });
    ctx.dispatchers.set(plan.name, { plan, dispatcher });
  }
}

/** A dead letter as the control API shows it. */
function toSummary(letter: DeadLetter): DeadLetterSummary {
  const event = letter.event;
  const data = event?.data instanceof Uint8Array ? Buffer.from(event.data).toString("base64") : event?.data;
  return {
    seq: letter.seq ?? 0,
    subject: letter.subject,
    reason: letter.reason,
    status: letter.status,
    ...(letter.error ? { error: letter.error } : {}),
    deliveries: letter.deliveries,
    time: letter.time,
    ...(event
      ? { event: { id: event.id, type: event.type, source: event.source, ...(event.datacontenttype ? { datacontenttype: event.datacontenttype } : {}), ...(data === undefined ? {} : { data }) } }
      : {}),
  };
}

/**
 * Replays a function's dead letters to that function only (straight through the gateway, not
 * by republishing to the subject, which every other function on it would see again). A letter
 * is removed once the function answers 2xx and any reply is published; others stay.
 */
async function redrive(ctx: {
  fn: string;
  jsm: JetStreamManager;
  replies: ReplyPublisher;
  deliver: Deliver;
  dispatchers: Map<string, { plan: ConsumerPlan; dispatcher: Dispatcher }>;
}): Promise<RedriveResult> {
  let redriven = 0;
  let failed = 0;
  for (const letter of await listDeadLetters(ctx.jsm, ctx.fn, { limit: 10_000 })) {
    const plan = [...ctx.dispatchers.values()].map((d) => d.plan).find((p) => p.name === letter.consumer);
    if (!letter.event || !plan || letter.seq === undefined) {
      failed++;
      continue;
    }
    const result = await ctx
      .deliver(letter.event, { deliveryCount: 1, signal: AbortSignal.timeout(60_000), fn: ctx.fn, trigger: plan.trigger })
      .catch((error: Error) => ({ status: 0, error: error.message, reply: undefined }));
    if (result.status < 200 || result.status > 299) {
      failed++;
      continue;
    }
    if (result.reply && plan.trigger.reply) await publishReply(ctx.replies, plan.trigger.reply, withHop(result.reply, letter.event));
    await removeDeadLetter(ctx.jsm, letter.seq);
    redriven++;
  }
  return { redriven, failed, remaining: await countDeadLetters(ctx.jsm, ctx.fn) };
}
