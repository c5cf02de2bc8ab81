// Makes a desired EventTopology real on a JetStream server, idempotently: streams are created or
// have subjects added (never deleted: a redeployed function finds its backlog), consumers are
// created, updated in place, or deleted when no trigger wants them. Running it twice with the
// same topology sends only reads the second time.
import type { ConsumerConfig, ConsumerInfo, JetStreamManager, StreamConfig } from "@nats-io/jetstream";
import { TopologyError, TopologyReconcileError } from "./errors.ts";
import { mergeSubjects } from "./subjects.ts";
import { CONSUMER_PREFIX, DLQ_PREFIX, DLQ_STREAM, EVENTS_STREAM, type ConsumerPlan, type EventTopology, type StreamPlan } from "./topology.ts";

/** What a reconcile pass changed, by object ("stream SKIFF_EVENTS", "consumer SKIFF_EVENTS/skiff-x-1a2b3c4d"). */
export interface ReconcileReport {
  created: string[];
  updated: string[];
  deleted: string[];
  unchanged: string[];
  /** Differences that cannot be changed in place (say a stream's storage type); left as they are. */
  warnings: string[];
}

// Fields we set on a stream and can change in place; retention and storage cannot be changed.
const STREAM_FIELDS = ["max_age", "max_bytes", "duplicate_window", "discard"] as const;
const IMMUTABLE_STREAM_FIELDS = ["retention", "storage"] as const;
// Consumer fields that cannot be updated: a consumer differing in these is deleted and recreated.
const IMMUTABLE_CONSUMER_FIELDS = new Set(["ack_policy", "deliver_policy", "durable_name"]);

/** Creates or updates both streams and every consumer, and deletes skiff- consumers no trigger wants. */
export async function reconcileTopology(jsm: JetStreamManager, desired: EventTopology): Promise<ReconcileReport> {
  const report: ReconcileReport = { created: [], updated: [], deleted: [], unchanged: [], warnings: [] };
  // Streams first and fatal: no consumer can exist without its stream.
  for (const plan of desired.streams) await reconcileStream(jsm, plan, report);
  const failures: TopologyError[] = [];
  for (const plan of desired.consumers) {
    await reconcileConsumer(jsm, plan, report).catch((error: unknown) => failures.push(asTopologyError(error)));
  }
  const wanted = new Set(desired.consumers.map((c) => `${c.stream}/${c.name}`));
  for (const stream of [EVENTS_STREAM, DLQ_STREAM]) {
    await deleteUnwanted(jsm, stream, wanted, report).catch((error: unknown) => failures.push(asTopologyError(error)));
  }
  if (failures.length > 0) throw new TopologyReconcileError(failures);
  return report;
}

async function reconcileStream(jsm: JetStreamManager, plan: StreamPlan, report: ReconcileReport): Promise<void> {
  const label = `stream ${plan.name}`;
  const existing = await streamConfig(jsm, plan.name);
  if (!existing) {
    await wrap(`failed to create stream "${plan.name}" with subjects ${plan.config.subjects.join(", ")}`, () => jsm.streams.add(plan.config));
    report.created.push(label);
    return;
  }
  const next = nextStreamConfig(existing, plan);
  for (const field of IMMUTABLE_STREAM_FIELDS) {
    if (plan.config[field] !== undefined && existing[field] !== plan.config[field]) {
      report.warnings.push(`${label}: ${field} is ${existing[field]}, wanted ${plan.config[field]} (cannot be changed in place)`);
    }
  }
  if (!next) {
    report.unchanged.push(label);
    return;
  }
  await wrap(`failed to update stream "${plan.name}" to subjects ${next.subjects.join(", ")}`, () => jsm.streams.update(plan.name, next));
  report.updated.push(label);
}

/** The update to send, or undefined when the stream already matches. Subjects only grow. */
export function nextStreamConfig(existing: StreamConfig, plan: StreamPlan): (Partial<StreamConfig> & { subjects: string[] }) | undefined {
  // The DLQ's own subject space is reserved so that a merge never widens into it.
  const reserved = plan.name === DLQ_STREAM ? [] : [`${DLQ_PREFIX}>`];
  const subjects = mergeSubjects([...(existing.subjects ?? []), ...plan.config.subjects], reserved).subjects;
  const sameSubjects = subjects.length === (existing.subjects ?? []).length && subjects.every((s) => existing.subjects.includes(s));
  const changed = STREAM_FIELDS.filter((field) => plan.config[field] !== undefined && plan.config[field] !== existing[field]);
  if (sameSubjects && changed.length === 0) return undefined;
  const update: Partial<StreamConfig> & { subjects: string[] } = { subjects };
  for (const field of STREAM_FIELDS) if (plan.config[field] !== undefined) Object.assign(update, { [field]: plan.config[field] });
  return update;
}

async function reconcileConsumer(jsm: JetStreamManager, plan: ConsumerPlan, report: ReconcileReport): Promise<void> {
  const label = `consumer ${plan.stream}/${plan.name}`;
  const on = `"${plan.name}" on stream ${plan.stream}`;
  const existing = await consumerInfo(jsm, plan.stream, plan.name, on);
  if (!existing) {
    await wrap(`failed to create consumer ${on}`, () => jsm.consumers.add(plan.stream, plan.config));
    report.created.push(label);
    return;
  }
  const changed = changedConsumerFields(existing.config, plan.config);
  if (changed.length === 0) {
    report.unchanged.push(label);
  } else if (changed.some((field) => IMMUTABLE_CONSUMER_FIELDS.has(field))) {
    // Recreating loses the consumer's position; only reached if someone changed it by hand.
    await wrap(`failed to recreate consumer ${on} (changed ${changed.join(", ")})`, async () => {
      await jsm.consumers.delete(plan.stream, plan.name);
      await jsm.consumers.add(plan.stream, plan.config);
    });
    report.updated.push(label);
  } else {
    const update = Object.fromEntries(changed.map((field) => [field, (plan.config as Record<string, unknown>)[field]]));
    await wrap(`failed to update consumer ${on} (changed ${changed.join(", ")})`, () => jsm.consumers.update(plan.stream, plan.name, update));
    report.updated.push(label);
  }
}

/** Fields of the desired config that the server's config does not match (the server fills defaults, so only ours are compared). */
export function changedConsumerFields(existing: ConsumerConfig, desired: Partial<ConsumerConfig>): string[] {
  return Object.entries(desired)
    .filter(([field, value]) => value !== undefined && (existing as unknown as Record<string, unknown>)[field] !== value)
    .map(([field]) => field);
}

async function deleteUnwanted(jsm: JetStreamManager, stream: string, wanted: Set<string>, report: ReconcileReport): Promise<void> {
  if (!(await streamConfig(jsm, stream))) return;
  const names = await wrap(`failed to list consumers of stream ${stream}`, async () => {
    const out: string[] = [];
    for await (const info of jsm.consumers.list(stream)) out.push(info.name);
    return out;
  });
  for (const name of names.filter((n) => n.startsWith(CONSUMER_PREFIX) && !wanted.has(`${stream}/${n}`))) {
    await wrap(`failed to delete consumer "${name}" on stream ${stream}`, () => jsm.consumers.delete(stream, name));
    report.deleted.push(`consumer ${stream}/${name}`);
  }
}

async function streamConfig(jsm: JetStreamManager, name: string): Promise<StreamConfig | undefined> {
  try {
    return (await jsm.streams.info(name)).config;
  } catch (error) {
    if (isNotFound(error)) return undefined;
    throw new TopologyError(`failed to read stream "${name}": ${(error as Error).message}`, { cause: error });
  }
}

async function consumerInfo(jsm: JetStreamManager, stream: string, name: string, on: string): Promise<ConsumerInfo | undefined> {
  try {
    return await jsm.consumers.info(stream, name);
  } catch (error) {
    if (isNotFound(error)) return undefined;
    throw new TopologyError(`failed to read consumer ${on}: ${(error as Error).message}`, { cause: error });
  }
}

function isNotFound(error: unknown): boolean {
  const name = (error as Error)?.name;
  return name === "StreamNotFoundError" || name === "ConsumerNotFoundError" || /not found/i.test((error as Error)?.message ?? "");
}

async function wrap<T>(context: string, action: () => Promise<T>): Promise<T> {
  try {
    return await action();
  } catch (error) {
    throw new TopologyError(`${context}: ${(error as Error).message}`, { cause: error });
  }
}

function asTopologyError(error: unknown): TopologyError {
  return error instanceof TopologyError ? error : new TopologyError(String((error as Error)?.message ?? error), { cause: error });
}
