// PlatformOps for the local platform: the control API's verbs over the store, the backend,
// the autoscalers and the gateway's numbers.
import type { ColdStart, DeployInput, FunctionDescription, FunctionSummary, LogsOptions, PlatformOps, ScaleEvent } from "../api/index.ts";
import { NotImplementedError } from "../api/index.ts";
import { ContainerUnavailableError } from "../backends/container/index.ts";
import { NotFoundError, type FunctionRecord, type FunctionStore, type TrafficTarget } from "../store/index.ts";
import type { Backend, ReplicaInfo, Revision } from "../types.ts";
import type { PlatformEvents } from "./events.ts";
import { streamLogs, type LogHub } from "./logs.ts";
import { startFirstReplica } from "./readiness.ts";
import type { RevisionScalers } from "./revision-scalers.ts";

/** What the ops read and change. */
export interface OpsDeps {
  store: FunctionStore;
  backend: Backend & { desired(revisionId: string): number; prepare?(revision: Revision): Promise<void> };
  scalers: RevisionScalers;
  logs: LogHub;
  stateDir: string;
  /** How long a new revision may take to turn ready before the deploy fails. */
  readyTimeoutMs: number;
  /** The gateway's base URL, e.g. http://127.0.0.1:8080 */
  gatewayUrl: () => string;
  events: Pick<PlatformEvents, "dlqList" | "dlqRedrive" | "reconcile">;
  /** Called after a function is deleted (its images go). */
  onDeleted?: (name: string) => Promise<void>;
}

/** Builds the PlatformOps the control API serves. */
export function makePlatformOps(deps: OpsDeps): PlatformOps {
  const { store } = deps;
  const summary = (record: FunctionRecord) => makeSummary(deps, record);
  const syncEvents = async () => deps.events.reconcile(await store.listFunctions());
  const mustExist = async (name: string) => {
    const record = await store.getFunction(name);
    if (!record) throw new NotFoundError(`no function named "${name}"`);
    return record;
  };
  return {
    async deploy(input: DeployInput) {
      const existed = (await store.getFunction(input.name)) !== undefined;
      const revision = await store.putRevision(input.name, input.files, input.spec, input.isolation ? { isolation: input.isolation } : undefined);
      await prepareRevision(deps, revision);
      await startFirstReplica(deps.backend, revision, deps.readyTimeoutMs);
      await store.deployRevision(input.name, revision.id, input.traffic);
      // Its triggers' streams and consumers exist before the deploy returns, so an event
      // published right after is stored, not dropped for want of a listener.
      await syncEvents();
      return { revision, url: functionUrl(deps, input.name), created: !existed };
    },
    list: async () => (await store.listFunctions()).map(summary),
    async describe(name) {
      const record = await store.getFunction(name);
      return record ? describe(deps, record) : undefined;
    },
    async delete(name) {
      const record = await store.getFunction(name);
      if (!record) return false;
      // Replicas run from the revision files: drain them before the files go.
      deps.scalers.remove(name);
      for (const revision of record.revisions) deps.backend.scale(revision, 0);
      await waitUntilGone(deps, record);
      const deleted = await store.deleteFunction(name);
      await deps.onDeleted?.(name);
      return deleted;
    },
    rollback: async (name, to) => {
      const record = await store.rollback(name, to);
      await syncEvents();
      return summary(record);
    },
    setTraffic: async (name, traffic: TrafficTarget[]) => {
      const record = await store.setTraffic(name, traffic);
      await syncEvents();
      return summary(record);
    },
    async logs(name, options: LogsOptions) {
      await mustExist(name);
      return streamLogs(deps.logs, deps.stateDir, name, options);
    },
    async dlqList(name, { limit }) {
      await mustExist(name);
      return deps.events.dlqList(name, limit);
    },
    async dlqRedrive(name) {
      await mustExist(name);
      return deps.events.dlqRedrive(name);
    },
  };
}

/**
 * Builds what a revision needs before its first replica (a container image, unpacked), so the
 * deploy's cold start is the replica's own. A machine that cannot run containers answers 501
 * with what is missing and how to fix it.
 */
async function prepareRevision(deps: OpsDeps, revision: Revision): Promise<void> {
  try {
    await deps.backend.prepare?.(revision);
  } catch (error) {
    if (error instanceof ContainerUnavailableError) throw new NotImplementedError(error.message, { cause: error });
    throw error;
  }
}

/** Resolves once no replica of the function is alive (bounded by the longest drain grace). */
async function waitUntilGone(deps: OpsDeps, record: FunctionRecord): Promise<void> {
  const alive = () => liveReplicas(deps, record).some((r) => r.phase !== "exited");
  const graceMs = Math.max(...record.revisions.map((r) => r.spec.timeoutMs)) + 5000;
  await new Promise<void>((resolve) => {
    if (!alive()) return resolve();
    const timer = setTimeout(finish, graceMs);
    const unsubscribe = deps.backend.onChange(() => alive() || finish());
    function finish() {
      clearTimeout(timer);
      unsubscribe();
      resolve();
    }
  });
}

function functionUrl(deps: OpsDeps, name: string): string {
  return `${deps.gatewayUrl()}/fn/${name}/`;
}

function liveReplicas(deps: OpsDeps, record: FunctionRecord): ReplicaInfo[] {
  return record.revisions.flatMap((r) => deps.backend.replicas(r.id));
}

function makeSummary(deps: OpsDeps, record: FunctionRecord): FunctionSummary {
  const replicas = liveReplicas(deps, record);
  return {
    name: record.name,
    url: functionUrl(deps, record.name),
    ...(record.latestRevision ? { latestRevision: record.latestRevision } : {}),
    traffic: record.traffic,
    replicas: {
      ready: replicas.filter((r) => r.phase === "ready").length,
      desired: record.revisions.reduce((sum, r) => sum + deps.backend.desired(r.id), 0),
    },
    createdAtMs: record.createdAtMs,
    updatedAtMs: record.updatedAtMs,
  };
}

function describe(deps: OpsDeps, record: FunctionRecord): FunctionDescription {
  const base = makeSummary(deps, record);
  const replicas = liveReplicas(deps, record);
  const latest = record.revisions.find((r) => r.id === record.latestRevision);
  const percentOf = (id: string) => record.traffic.find((t) => t.revision === id)?.percent ?? 0;
  const scaleEvents: ScaleEvent[] = deps.scalers.history(record.name).map(({ atMs, trigger, from, desired, mode, reason }) => ({ atMs, trigger, from, desired, mode, reason }));
  return {
    ...base,
    ...(latest ? { spec: latest.spec } : {}),
    generation: record.generation,
    revisions: record.revisions.map((r) => ({
      id: r.id,
      contentHash: r.contentHash,
      createdAtMs: r.createdAtMs,
      ...(r.isolation && { isolation: r.isolation }),
      percent: percentOf(r.id),
    })),
    replicas: { ...base.replicas, list: replicas },
    scaleEvents,
    coldStarts: coldStartsOf(replicas),
  };
}

/** Spawn-to-ready of every replica still known to the backend, oldest first. */
function coldStartsOf(replicas: ReplicaInfo[]): ColdStart[] {
  return replicas
    .filter((r): r is ReplicaInfo & { readyAtMs: number } => r.readyAtMs !== undefined)
    .map((r) => ({ replica: r.id, revision: r.revision, startedAtMs: r.startedAtMs, readyAtMs: r.readyAtMs, durationMs: r.readyAtMs - r.startedAtMs }))
    .sort((a, b) => a.startedAtMs - b.startedAtMs);
}
