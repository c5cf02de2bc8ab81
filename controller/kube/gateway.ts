// The Kubernetes-mode data plane: the same gateway as locally (buffering at zero, least
// outstanding requests, 503s with reasons) and, with NATS, the same event dispatchers, fed by
// informers instead of the local store and process backend: routes from Functions (and, for an
// older revision still serving while a new one starts, from its Deployment's spec annotation),
// ready replicas from EndpointSlices. The KPA autoscalers run here too, beside the numbers they
// average (requests in flight and queued at this gateway, as Knative's activator reports
// them), and scale a revision by setting its Deployment's replicas (scale subresource).
import type { KubeConfig, V1Deployment, V1EndpointSlice } from "@kubernetes/client-node";
import type { FunctionSpec } from "../../spec/index.ts";
import { startGateway, type Gateway, type Route, type RouteTable } from "../gateway/index.ts";
import { RevisionScalers, startPlatformEvents, type PlatformEvents, type PlatformLogger } from "../platform/index.ts";
import type { FunctionRecord } from "../store/index.ts";
import type { Backend, Revision } from "../types.ts";
import { countReady, makeReplicaIndex, readyEndpoints, type SliceReplica } from "./endpoints.ts";
import { parseFunctionObject, type FunctionObject } from "./function-object.ts";
import { startInformer } from "./informer.ts";
import { apiMessage, KubeApi } from "./kube-api.ts";
import { FUNCTION_LABEL, SPEC_ANNOTATION } from "./names.ts";
import { makeKubeRevision } from "./revision.ts";
import { chooseServingRevision, type KnownRevision } from "./serving.ts";

export interface KubeGatewayOptions {
  kc: KubeConfig;
  /** The namespace whose Functions this gateway serves at /fn/<name>/ (names are unique only per namespace). */
  namespace: string;
  host?: string;
  port?: number;
  /** NATS with JetStream: when set, Functions' triggers get consumers and dispatchers here, as locally. */
  natsUrl?: string;
  logger: PlatformLogger;
}

export interface KubeGateway {
  readonly gateway: Gateway;
  readonly url: string;
  /** The replica count last asked for, per revision (what the autoscalers decided). */
  desired(revisionId: string): number;
  /** The revision taking a function's traffic now. */
  serving(fn: string): string | undefined;
  stop(): Promise<void>;
}

/** A Function's latest valid revision and the status' last ready one. */
interface LatestRevision {
  revision: Revision;
  latestReady?: string;
}

export async function startKubeGateway(opts: KubeGatewayOptions): Promise<KubeGateway> {
  const { namespace, logger } = opts;
  const api = new KubeApi(opts.kc, namespace);
  const latest = new Map<string, LatestRevision>();
  const routes = new Map<string, { route: Route; revision: Revision }>();
  let replicaIndex = new Map<string, SliceReplica[]>();
  const endpointListeners = new Set<() => void>();
  const asked = new Map<string, number>();
  // Revisions this gateway has routed to: of the older ones, only these are scaled to zero once
  // they stop taking traffic. Another Deployment of the function may be newer than the
  // Function this gateway holds (its watch behind the Deployments' one, as while the watches
  // restart after an apiserver outage): scaled to zero as an old revision, that new revision
  // would never start, since nothing scales up a revision that is not serving yet. The
  // controller deletes the old revisions that are really old.
  const routedBefore = new Set<string>();
  const onError = (what: string) => (error: unknown, retryInMs: number) => logger.warn(`watch of ${what} failed; restarting in ${retryInMs}ms`, { error: apiMessage(error) });
  let synced = false;

  const deployments = startInformer<V1Deployment>(opts.kc, api.deploymentsTarget(), {
    onChange: (d, change) => {
      if (change === "delete" && d.metadata?.name) routedBefore.delete(d.metadata.name);
      if (synced) recompute(d.metadata?.labels?.[FUNCTION_LABEL]);
    },
    onError: onError("deployments"),
  });
  const backend: Backend & { desired(revisionId: string): number } = {
    scale(revision, n) {
      asked.set(revision.id, n);
      api.scaleDeployment(namespace, revision.id, n).catch((error: unknown) => {
        // Forget the ask so the next tick (which compares with `desired`) tries again.
        asked.delete(revision.id);
        logger.warn(`scaling ${revision.id} to ${n} failed`, { error: apiMessage(error) });
      });
    },
    replicas: (revisionId) => (replicaIndex.get(revisionId) ?? []).map((r) => ({ id: r.id, fn: r.fn, revision: r.revision, url: r.url, phase: r.phase, startedAtMs: 0 })),
    desired: (revisionId) => asked.get(revisionId) ?? deployments.get(revisionId, namespace)?.spec?.replicas ?? 0,
    // The scalers read replicas when they decide; nothing here needs a push.
    onChange: () => () => undefined,
    stop: async () => undefined,
  };

  let gateway: Gateway | undefined;
  let events: PlatformEvents | undefined;
  const scalers = new RevisionScalers({
    backend,
    concurrency: (revisionId) => gateway?.concurrency(revisionId) ?? 0,
    // Events waiting in JetStream count as demand, so an event-only function wakes from zero.
    extraDemand: (revision) => (routes.get(revision.fn)?.revision.id === revision.id ? (events?.lag(revision.fn) ?? 0) : 0),
    logger,
  });
  const syncEvents = () => void events?.reconcile([...routes.values()].map((r) => recordOf([r.revision], r.revision.id)));

  /** Re-chooses a function's serving revision and brings routes, scalers and dispatchers in line. */
  function recompute(fn: string | undefined): void {
    if (!fn) return;
    const before = routes.get(fn)?.revision.id;
    const current = latest.get(fn);
    if (!current) {
      routes.delete(fn);
      scalers.remove(fn);
      if (before !== undefined) syncEvents();
      return;
    }
    const known = (revision: Revision): KnownRevision => ({ id: revision.id, spec: revision.spec, ready: countReady(replicaIndex.get(revision.id)) });
    const older = olderRevisions(fn, current.revision.id);
    const choice = chooseServingRevision(known(current.revision), older.map(known), current.latestReady);
    const serving = choice.id === current.revision.id ? current.revision : older.find((r) => r.id === choice.id)!;
    routes.set(fn, { route: { fn, spec: serving.spec, targets: [{ revision: serving.id, percent: 100 }] }, revision: serving });
    routedBefore.add(serving.id);
    // The latest, while it starts behind an older serving revision, keeps the replicas the controller gave it;
    // so does an older revision never routed here (see routedBefore).
    const leave = new Set(older.filter((r) => r.id !== serving.id && !routedBefore.has(r.id)).map((r) => r.id));
    if (serving.id !== current.revision.id) leave.add(current.revision.id);
    scalers.reconcile(recordOf([serving, current.revision, ...older], serving.id), { leave });
    if (before !== serving.id) {
      if (before !== undefined) logger.info(`function ${namespace}/${fn}: traffic moves from ${before} to ${serving.id}`);
      syncEvents();
    }
  }

  /** Revisions of `fn` other than `latestId` whose Deployment carries its spec. */
  function olderRevisions(fn: string, latestId: string): Revision[] {
    const out: Revision[] = [];
    for (const d of deployments.list(namespace)) {
      const id = d.metadata?.name;
      if (!id || id === latestId || d.metadata?.labels?.[FUNCTION_LABEL] !== fn) continue;
      const spec = specAnnotation(d);
      if (spec) out.push(toRevision(id, spec, ""));
    }
    return out;
  }

  const slices = startInformer<V1EndpointSlice>(opts.kc, api.endpointSlicesTarget(), {
    onChange: (slice) => {
      replicaIndex = makeReplicaIndex(slices.list(namespace));
      if (synced) recompute(slice.metadata?.labels?.[FUNCTION_LABEL]);
      for (const listener of endpointListeners) listener();
    },
    onError: onError("endpointslices"),
  });
  const functions = startInformer<FunctionObject>(opts.kc, api.functionsTarget(), {
    onChange: (fn, change) => {
      const name = fn.metadata?.name;
      if (!name) return;
      if (change === "delete" || fn.metadata?.deletionTimestamp) latest.delete(name);
      else {
        const next = latestOf(fn);
        // An invalid spec: the last good revision keeps serving (the controller reports InvalidSpec).
        if ("invalid" in next) logger.warn(`function ${namespace}/${name}: ${next.invalid}`);
        else latest.set(name, next);
      }
      if (synced) recompute(name);
    },
    onError: onError("functions"),
  });

  await Promise.all([functions.synced, slices.synced, deployments.synced]);
  synced = true;
  for (const fn of latest.keys()) recompute(fn);
  const table: RouteTable = { resolve: (name) => routes.get(name)?.route };
  gateway = await startGateway({
    ...(opts.host !== undefined && { host: opts.host }),
    ...(opts.port !== undefined && { port: opts.port }),
    routes: table,
    endpoints: {
      ready: (revisionId) => readyEndpoints(replicaIndex.get(revisionId)),
      onChange(listener) {
        endpointListeners.add(listener);
        return () => endpointListeners.delete(listener);
      },
    },
    onDemand: (revisionId) => scalers.poke(revisionId),
    logger,
  });
  if (opts.natsUrl) {
    events = await startPlatformEvents({ natsUrl: opts.natsUrl, gateway, logger });
    syncEvents();
  }
  logger.info(`gateway serving functions of namespace ${namespace} at ${gateway.url}/fn/<name>/`);
  const running = gateway;
  return {
    gateway: running,
    url: running.url,
    desired: (revisionId) => backend.desired(revisionId),
    serving: (fn) => routes.get(fn)?.revision.id,
    async stop() {
      scalers.stop();
      await events?.stop();
      await running.stop();
      await Promise.all([functions.stop(), slices.stop(), deployments.stop()]);
    },
  };
}

/** A Function's latest revision, or why its spec is invalid. */
function latestOf(fn: FunctionObject): LatestRevision | { invalid: string } {
  let parsed;
  try {
    parsed = parseFunctionObject(fn);
  } catch (error) {
    return { invalid: (error as Error).message };
  }
  const kube = makeKubeRevision(parsed.image, parsed.spec);
  const latestReady = fn.status?.latestReadyRevision;
  return { revision: toRevision(kube.id, kube.spec, kube.contentHash), ...(latestReady && { latestReady }) };
}

/** The spec the controller wrote on a revision's Deployment (it made it from a validated spec). */
function specAnnotation(deployment: V1Deployment): FunctionSpec | undefined {
  const text = deployment.metadata?.annotations?.[SPEC_ANNOTATION];
  if (!text) return undefined;
  try {
    return JSON.parse(text) as FunctionSpec;
  } catch {
    return undefined;
  }
}

function toRevision(id: string, spec: FunctionSpec, contentHash: string): Revision {
  return { id, fn: spec.name, spec, bundleDir: "", contentHash, createdAtMs: 0 };
}

/** The shape RevisionScalers reconciles from: these revisions, `serving` with all the traffic. */
function recordOf(revisions: Revision[], serving: string): FunctionRecord {
  const unique = [...new Map(revisions.map((r) => [r.id, r])).values()];
  return { name: unique[0]!.fn, revisions: unique, traffic: [{ revision: serving, percent: 100 }], latestRevision: serving, createdAtMs: 0, updatedAtMs: 0, generation: 0 };
}
