// The Kubernetes-mode data plane: the same gateway as locally (buffering at zero, least
// outstanding requests, traffic to a revision, 503s with reasons) and, with NATS, the same
// event dispatchers, fed by informers instead of the local store and process backend: routes
// from Functions, ready replicas from EndpointSlices. The KPA autoscalers run here too, beside the numbers they average (requests
// in flight and queued at this gateway, as Knative's activator reports them), and scale a
// revision by setting its Deployment's replicas through the scale subresource.
import type { KubeConfig, V1Deployment, V1EndpointSlice } from "@kubernetes/client-node";
import { startGateway, type Gateway, type Route, type RouteTable } from "../gateway/index.ts";
import { RevisionScalers, startPlatformEvents, type PlatformEvents, type PlatformLogger } from "../platform/index.ts";
import type { FunctionRecord } from "../store/index.ts";
import type { Backend, Revision } from "../types.ts";
import { makeReplicaIndex, readyEndpoints, type SliceReplica } from "./endpoints.ts";
import { parseFunctionObject, type FunctionObject } from "./function-object.ts";
import { startInformer } from "./informer.ts";
import { apiMessage, KubeApi } from "./kube-api.ts";
import { makeKubeRevision } from "./revision.ts";

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
  stop(): Promise<void>;
}

/** A function as routed here: its latest valid revision takes all traffic. */
interface RoutedFunction {
  route: Route;
  revision: Revision;
}

export async function startKubeGateway(opts: KubeGatewayOptions): Promise<KubeGateway> {
  const { namespace, logger } = opts;
  const api = new KubeApi(opts.kc, namespace);
  const routed = new Map<string, RoutedFunction>();
  let replicaIndex = new Map<string, SliceReplica[]>();
  const endpointListeners = new Set<() => void>();
  const asked = new Map<string, number>();
  const onError = (what: string) => (error: unknown, retryInMs: number) => logger.warn(`watch of ${what} failed; restarting in ${retryInMs}ms`, { error: apiMessage(error) });

  const deployments = startInformer<V1Deployment>(opts.kc, api.deploymentsTarget(), { onChange: () => undefined, onError: onError("deployments") });
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
    extraDemand: (revision) => (routed.get(revision.fn)?.revision.id === revision.id ? (events?.lag(revision.fn) ?? 0) : 0),
    logger,
  });
  const syncEvents = () => void events?.reconcile([...routed.values()].map((r) => recordOf(r.revision)));

  const slices = startInformer<V1EndpointSlice>(opts.kc, api.endpointSlicesTarget(), {
    onChange: () => {
      replicaIndex = makeReplicaIndex(slices.list(namespace));
      for (const listener of endpointListeners) listener();
    },
    onError: onError("endpointslices"),
  });
  const functions = startInformer<FunctionObject>(opts.kc, api.functionsTarget(), {
    onChange: (fn, change) => {
      const name = fn.metadata?.name;
      if (!name) return;
      if (change === "delete" || fn.metadata?.deletionTimestamp) {
        routed.delete(name);
        scalers.remove(name);
        syncEvents();
        return;
      }
      const next = routeOf(fn);
      if ("invalid" in next) {
        // The last good revision keeps serving (the controller reports InvalidSpec on the status).
        logger.warn(`function ${namespace}/${name}: ${next.invalid}`);
        return;
      }
      const before = routed.get(name)?.revision.id;
      routed.set(name, next);
      // A new revision takes all traffic at once: the old one's scaler stops and it goes to zero.
      if (before !== undefined && before !== next.revision.id) scalers.remove(name);
      scalers.reconcile(recordOf(next.revision));
      if (before !== next.revision.id) syncEvents();
    },
    onError: onError("functions"),
  });

  await Promise.all([functions.synced, slices.synced, deployments.synced]);
  const routes: RouteTable = { resolve: (name) => routed.get(name)?.route };
  gateway = await startGateway({
    ...(opts.host !== undefined && { host: opts.host }),
    ...(opts.port !== undefined && { port: opts.port }),
    routes,
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
    async stop() {
      scalers.stop();
      await events?.stop();
      await running.stop();
      await Promise.all([functions.stop(), slices.stop(), deployments.stop()]);
    },
  };
}

/** The route of a Function: its current revision takes all traffic. */
function routeOf(fn: FunctionObject): RoutedFunction | { invalid: string } {
  let parsed;
  try {
    parsed = parseFunctionObject(fn);
  } catch (error) {
    return { invalid: (error as Error).message };
  }
  const kube = makeKubeRevision(parsed.image, parsed.spec);
  const revision: Revision = { id: kube.id, fn: kube.fn, spec: kube.spec, bundleDir: "", contentHash: kube.contentHash, createdAtMs: 0 };
  return { route: { fn: kube.fn, spec: kube.spec, targets: [{ revision: kube.id, percent: 100 }] }, revision };
}

/** The shape RevisionScalers reconciles from: one revision with all the traffic. */
function recordOf(revision: Revision): FunctionRecord {
  return { name: revision.fn, revisions: [revision], traffic: [{ revision: revision.id, percent: 100 }], latestRevision: revision.id, createdAtMs: 0, updatedAtMs: 0, generation: 0 };
}
