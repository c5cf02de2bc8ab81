// The Kubernetes-mode controller: informers on Functions, their Deployments and EndpointSlices
// feed a keyed work queue; each key gets a Reconciler pass. Events on a Deployment or a slice
// wake the Function they are labelled with.
import type { KubeConfig, KubernetesObject, V1Deployment, V1EndpointSlice } from "@kubernetes/client-node";
import type { FunctionObject } from "./function-object.ts";
import { startInformer, type WatchedCache } from "./informer.ts";
import { apiMessage, KubeApi } from "./kube-api.ts";
import { FUNCTION_LABEL } from "./names.ts";
import { Reconciler, type ReconcileCounters, type ReconcilerOptions } from "./reconciler.ts";
import { WorkQueue } from "./work-queue.ts";

export interface KubeControllerOptions extends Pick<ReconcilerOptions, "gatewayUrl" | "platformEnv" | "now" | "logger" | "beforeStatusWrite"> {
  kc: KubeConfig;
  /** Watch one namespace; default: all (needs the cluster-wide RBAC of manifests/rbac.yaml). */
  namespace?: string;
  /** Keys reconciled at once (default 2). */
  workers?: number;
}

/** A running controller. */
export interface KubeController {
  readonly counters: ReconcileCounters;
  /** Resolves when no pass is running or waiting (a retry scheduled for later does not count). */
  idle(): Promise<void>;
  stop(): Promise<void>;
}

/** Starts the informers, waits for their first lists, and reconciles every Function once. */
export async function startKubeController(opts: KubeControllerOptions): Promise<KubeController> {
  const api = new KubeApi(opts.kc, opts.namespace);
  const { logger } = opts;
  let reconciler: Reconciler | undefined;
  const queue = new WorkQueue((key) => reconciler!.reconcile(key), {
    workers: opts.workers ?? 2,
    onError: (key, error, retryInMs) => logger.warn(`reconcile ${key} failed; retrying in ${retryInMs}ms`, { error: apiMessage(error) }),
  });
  // Keys seen while the first lists arrive wait here: no pass runs on a half-filled cache.
  let early: Set<string> | undefined = new Set<string>();
  const wake = (obj: KubernetesObject, fn: string | undefined) => {
    const ns = obj.metadata?.namespace;
    if (!ns || !fn) return;
    if (early) early.add(`${ns}/${fn}`);
    else queue.add(`${ns}/${fn}`);
  };
  const onError = (what: string) => (error: unknown, retryInMs: number) => logger.warn(`watch of ${what} failed; restarting in ${retryInMs}ms`, { error: apiMessage(error) });
  const functions: WatchedCache<FunctionObject> = startInformer(opts.kc, api.functionsTarget(), {
    onChange: (fn) => wake(fn, fn.metadata?.name),
    onError: onError("functions"),
  });
  const deployments: WatchedCache<V1Deployment> = startInformer(opts.kc, api.deploymentsTarget(), {
    onChange: (d) => wake(d, d.metadata?.labels?.[FUNCTION_LABEL]),
    onError: onError("deployments"),
  });
  const slices: WatchedCache<V1EndpointSlice> = startInformer(opts.kc, api.endpointSlicesTarget(), {
    onChange: (s) => wake(s, s.metadata?.labels?.[FUNCTION_LABEL]),
    onError: onError("endpointslices"),
  });
  const stopInformers = () => Promise.all([functions.stop(), deployments.stop(), slices.stop()]);
  // Informers retry failed lists themselves (logged through onError), so this waits until the apiserver answers.
  await Promise.all([functions.synced, deployments.synced, slices.synced]);
  reconciler = new Reconciler({
    ...opts,
    api,
    caches: {
      function: (ns, name) => functions.get(name, ns),
      deployments: (ns) => deployments.list(ns),
      endpointSlices: (ns) => slices.list(ns),
    },
  });
  // Every Function once, and the objects left by a Function deleted while no controller ran.
  for (const d of deployments.list()) wake(d, d.metadata?.labels?.[FUNCTION_LABEL]);
  for (const fn of functions.list()) wake(fn, fn.metadata?.name);
  const keys = early;
  early = undefined;
  for (const key of keys) queue.add(key);
  logger.info(`controller watching ${opts.namespace ? `namespace ${opts.namespace}` : "all namespaces"}`);
  return {
    counters: reconciler.counters,
    idle: () => queue.idle(),
    async stop() {
      await stopInformers();
      await queue.stop();
    },
  };
}
