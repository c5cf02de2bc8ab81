// One reconcile pass over one Function: the finalizer, the revision's Deployment and Service,
// the retirement of older revisions, and the status. Level-based: it reads the informers'
// caches, compares with what it would make (desired.ts, compare.ts, status.ts) and writes only
// differences, so a pass over an unchanged world writes nothing, and any event (or a restart)
// can simply run another pass.
import type { V1Deployment, V1EndpointSlice } from "@kubernetes/client-node";
import { SpecError } from "../../spec/index.ts";
import { makeDeployment, initialReplicas, makeService } from "./desired.ts";
import { deploymentNeedsUpdate, diffOwnedFields, serviceNeedsUpdate } from "./compare.ts";
import { countReady, makeReplicaIndex } from "./endpoints.ts";
import { parseFunctionObject, type FunctionObject, type FunctionRef, type FunctionStatus } from "./function-object.ts";
import { apiMessage, apiStatus, type KubeApi } from "./kube-api.ts";
import { FUNCTION_LABEL, REVISION_LABEL } from "./names.ts";
import { makeKubeRevision, type KubeRevision } from "./revision.ts";
import { makeFunctionStatus, statusNeedsUpdate } from "./status.ts";

/** Held on every Function until the controller has deleted its Deployments and Services. */
export const CLEANUP_FINALIZER = "skiff.dev/cleanup";

/** Read-only views of the informers' caches. */
export interface ReconcileCaches {
  function(namespace: string, name: string): FunctionObject | undefined;
  deployments(namespace: string): readonly V1Deployment[];
  endpointSlices(namespace: string): readonly V1EndpointSlice[];
}

export interface ReconcilerOptions {
  api: KubeApi;
  caches: ReconcileCaches;
  /** Base URL clients reach the gateway at, for status.url. */
  gatewayUrl: string;
  /** Keys every replica gets besides the spec's env (see makeContainerEnv). */
  platformEnv?: Readonly<Record<string, string>>;
  now?: () => Date;
  logger: { info(msg: string, fields?: Record<string, unknown>): void; warn(msg: string, fields?: Record<string, unknown>): void };
  /** Test seam: runs just before each status write (a test changes the Function here to force a 409). */
  beforeStatusWrite?(fn: FunctionObject): Promise<void>;
}

/** What the passes wrote, for tests and metrics: a restarted controller over an unchanged world adds nothing here. */
export interface ReconcileCounters {
  passes: number;
  created: number;
  updated: number;
  deleted: number;
  statusWrites: number;
  statusConflicts: number;
  finalizerWrites: number;
}

/** Most re-reads after a 409 on a status write within one pass; then the queue retries with backoff. */
const STATUS_CONFLICT_RETRIES = 3;

export class Reconciler {
  readonly counters: ReconcileCounters = { passes: 0, created: 0, updated: 0, deleted: 0, statusWrites: 0, statusConflicts: 0, finalizerWrites: 0 };

  constructor(private readonly opts: ReconcilerOptions) {}

  /** One pass over `namespace/name`; throws to be retried (conflicts, API errors). */
  async reconcile(key: string): Promise<void> {
    this.counters.passes++;
    const [namespace, name] = splitKey(key);
    let fn = this.opts.caches.function(namespace, name);
    if (!fn) return this.sweepOrphans(namespace, name);
    if (fn.metadata?.deletionTimestamp) return this.finalize(fn);
    if (!(fn.metadata?.finalizers ?? []).includes(CLEANUP_FINALIZER)) {
      fn = await this.opts.api.setFinalizers(fn, [...(fn.metadata?.finalizers ?? []), CLEANUP_FINALIZER]);
      this.counters.finalizerWrites++;
    }
    let revision: KubeRevision;
    let ref: FunctionRef;
    try {
      const parsed = parseFunctionObject(fn);
      ref = parsed.ref;
      revision = makeKubeRevision(parsed.image, parsed.spec);
    } catch (error) {
      if (!(error instanceof SpecError)) throw error;
      // The last good revision keeps running; the status says why this spec did not apply.
      return this.writeStatus(fn, (current) => this.statusFor(current, { invalid: error.message }));
    }
    let reconcileError: string | undefined;
    try {
      await this.ensureRevision(ref, revision);
      await this.retireOlderRevisions(namespace, name, revision.id);
    } catch (error) {
      if (apiStatus(error) === 409) throw error; // someone wrote in between: re-read and try again
      reconcileError = apiMessage(error);
      this.opts.logger.warn(`reconcile ${key}: ${reconcileError}`);
    }
    await this.writeStatus(fn, (current) => this.statusFor(current, { id: revision.id, http: revision.spec.http }, revision, reconcileError));
    if (reconcileError !== undefined) throw new Error(reconcileError);
  }

  /** The revision's Deployment (created with its initial replicas, later left to the autoscaler) and headless Service. */
  private async ensureRevision(ref: FunctionRef, revision: KubeRevision): Promise<void> {
    const { api, caches, platformEnv } = this.opts;
    const namespace = ref.namespace;
    const desired = makeDeployment({ fn: ref, revision, ...(platformEnv && { platformEnv }) });
    const current = caches.deployments(namespace).find((d) => d.metadata?.name === revision.id);
    if (!current) {
      if (await createUnlessExists(api.createDeployment({ ...desired, spec: { ...desired.spec!, replicas: initialReplicas(revision) } }))) this.counters.created++;
    } else if (deploymentNeedsUpdate(current, desired)) {
      this.opts.logger.info(`updating Deployment ${namespace}/${revision.id}`, { fields: diffOwnedFields(current, { ...desired, apiVersion: current.apiVersion, kind: current.kind, spec: { ...desired.spec, replicas: current.spec?.replicas } }) });
      await api.replaceDeployment({
        ...desired,
        metadata: { ...desired.metadata, resourceVersion: current.metadata?.resourceVersion },
        spec: { ...desired.spec!, replicas: current.spec?.replicas ?? initialReplicas(revision) },
      });
      this.counters.updated++;
    }
    const desiredService = makeService({ fn: ref, revision });
    const services = await api.listServices(namespace, revision.fn);
    const service = services.find((s) => s.metadata?.name === revision.id);
    if (!service) {
      if (await createUnlessExists(api.createService(desiredService))) this.counters.created++;
    } else if (serviceNeedsUpdate(service, desiredService)) {
      this.opts.logger.info(`updating Service ${namespace}/${revision.id}`, { fields: diffOwnedFields(service, { ...desiredService, apiVersion: service.apiVersion, kind: service.kind }) });
      // clusterIP is immutable and set by the apiserver; carry it (and the version) over.
      await api.replaceService({
        ...desiredService,
        metadata: { ...desiredService.metadata, resourceVersion: service.metadata?.resourceVersion },
        spec: { ...desiredService.spec, clusterIP: service.spec?.clusterIP },
      });
      this.counters.updated++;
    }
  }

  /**
   * Older revisions go once the latest has a ready replica (or when they have none left to
   * serve with), so an update never leaves the function with nothing that answers.
   */
  private async retireOlderRevisions(namespace: string, fn: string, latest: string): Promise<void> {
    const index = makeReplicaIndex(this.opts.caches.endpointSlices(namespace));
    const latestReady = countReady(index.get(latest)) > 0;
    for (const deployment of this.ownedDeployments(namespace, fn)) {
      const id = deployment.metadata!.name!;
      if (id === latest) continue;
      if (!latestReady && countReady(index.get(id)) > 0) continue;
      await this.deleteRevision(namespace, id);
    }
  }

  /** The Function is being deleted: delete its revisions' objects, then let it go. */
  private async finalize(fn: FunctionObject): Promise<void> {
    const namespace = fn.metadata!.namespace!;
    const name = fn.metadata!.name!;
    await this.deleteAllRevisions(namespace, name);
    const finalizers = fn.metadata?.finalizers ?? [];
    if (!finalizers.includes(CLEANUP_FINALIZER)) return;
    await this.opts.api.setFinalizers(fn, finalizers.filter((f) => f !== CLEANUP_FINALIZER));
    this.counters.finalizerWrites++;
    this.opts.logger.info(`deleted function ${namespace}/${name} and its revisions`);
  }

  /** No Function of that name: objects labelled with it are left from before (deleted while the controller was down). */
  private async sweepOrphans(namespace: string, name: string): Promise<void> {
    await this.deleteAllRevisions(namespace, name);
  }

  private async deleteAllRevisions(namespace: string, fn: string): Promise<void> {
    const ids = new Set(this.ownedDeployments(namespace, fn).map((d) => d.metadata!.name!));
    for (const service of await this.opts.api.listServices(namespace, fn)) ids.add(service.metadata!.name!);
    for (const id of ids) await this.deleteRevision(namespace, id);
  }

  private async deleteRevision(namespace: string, id: string): Promise<void> {
    await this.opts.api.deleteDeployment(namespace, id);
    await this.opts.api.deleteService(namespace, id);
    this.counters.deleted++;
    this.opts.logger.info(`deleted revision ${namespace}/${id}`);
  }

  private ownedDeployments(namespace: string, fn: string): V1Deployment[] {
    return this.opts.caches.deployments(namespace).filter((d) => d.metadata?.labels?.[FUNCTION_LABEL] === fn && d.metadata?.labels?.[REVISION_LABEL]);
  }

  private statusFor(fn: FunctionObject, revision: { id: string; http: boolean } | { invalid: string }, kube?: KubeRevision, reconcileError?: string): FunctionStatus {
    const namespace = fn.metadata!.namespace!;
    const index = makeReplicaIndex(this.opts.caches.endpointSlices(namespace));
    const deployment = kube && this.opts.caches.deployments(namespace).find((d) => d.metadata?.name === kube.id);
    return makeFunctionStatus({
      name: fn.metadata!.name!,
      generation: fn.metadata?.generation ?? 0,
      ...(fn.status && { previous: fn.status }),
      revision,
      ...(deployment && { deployment }),
      ...(reconcileError !== undefined && { reconcileError }),
      readyReplicas: "id" in revision ? countReady(index.get(revision.id)) : 0,
      gatewayUrl: this.opts.gatewayUrl,
      now: (this.opts.now ?? (() => new Date()))(),
    });
  }

  /**
   * Writes the status when it differs. On 409 (the Function changed since the cache saw it)
   * re-reads it and recomputes, a few times, before handing the retry to the queue.
   */
  private async writeStatus(fn: FunctionObject, compute: (current: FunctionObject) => FunctionStatus): Promise<void> {
    let current = fn;
    for (let attempt = 0; ; attempt++) {
      const status = compute(current);
      if (!statusNeedsUpdate(current.status, status)) return;
      try {
        await this.opts.beforeStatusWrite?.(current);
        await this.opts.api.writeStatus(current, status);
        this.counters.statusWrites++;
        return;
      } catch (error) {
        if (apiStatus(error) !== 409 || attempt >= STATUS_CONFLICT_RETRIES) throw error;
        this.counters.statusConflicts++;
        const fresh = await this.opts.api.readFunction(current.metadata!.namespace!, current.metadata!.name!);
        if (!fresh || fresh.metadata?.deletionTimestamp) return;
        current = fresh;
      }
    }
  }
}

/** `namespace/name` -> [namespace, name]. */
export function splitKey(key: string): [string, string] {
  const slash = key.indexOf("/");
  if (slash <= 0 || slash === key.length - 1) throw new Error(`bad reconcile key "${key}" (want namespace/name)`);
  return [key.slice(0, slash), key.slice(slash + 1)];
}

/** True when the create went through; false when the object was already there. */
async function createUnlessExists(call: Promise<unknown>): Promise<boolean> {
  try {
    await call;
    return true;
  } catch (error) {
    // The cache had not seen our own create yet; the next pass compares against it.
    if (apiStatus(error) !== 409) throw error;
    return false;
  }
}
