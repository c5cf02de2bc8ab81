// A fake node for the test control plane (kube.ts runs no kubelet, scheduler or
// controller-manager): it watches the namespace's function Deployments and plays the
// ReplicaSet controller, the kubelet and the EndpointSlice controller at once. Each Deployment
// gets spec.replicas runtime processes of its revision's built bundle (`node index.mjs`, with
// the container's literal env), one EndpointSlice per fake pod that follows the process
// (not ready -> ready -> terminating -> deleted), and a status subresource that makes
// `kubectl get deploy` read right.
//
// Processes are supervised by the process backend's ReplicaProcess (port from the runtime's
// "listening" line, /_skiff/ready polling, SIGTERM then SIGKILL after the pod's grace), so a
// fake pod starts and drains exactly as a local replica does.
//
// Address: kube-apiserver rejects loopback addresses in EndpointSlices, so fake pods bind
// another address of this machine (kube-node-address.ts) and slices carry that address.
import {
  AppsV1Api, DiscoveryV1Api, type KubeConfig, PatchStrategy, setHeaderOptions, type V1Container, type V1Deployment,
  type V1DeploymentStatus, type V1EndpointSlice,
} from "@kubernetes/client-node";
import { afterAll } from "vitest";
import { systemClock } from "../../controller/autoscaler/index.ts";
import { backoffDelayMs, DEFAULT_BACKOFF } from "../../controller/backends/process/backoff.ts";
import { FALLBACK_PATH } from "../../controller/backends/process/env.ts";
import { makeNodeLauncher, type ReplicaLauncher } from "../../controller/backends/process/launcher.ts";
import { parseListeningPort } from "../../controller/backends/process/output.ts";
import { ReplicaProcess } from "../../controller/backends/process/replica-process.ts";
import { startInformer, type WatchedCache } from "../../controller/kube/informer.ts";
import { apiMessage, apiStatus, KubeApi } from "../../controller/kube/kube-api.ts";
import { CONTAINER_NAME, FUNCTION_LABEL, PORT_NAME, REVISION_LABEL, SERVICE_NAME_LABEL } from "../../controller/kube/names.ts";
import type { Revision } from "../../controller/types.ts";
import type { FunctionSpec } from "../../spec/types.ts";
import { type NodeAddress, pickNodeAddress } from "./kube-node-address.ts";

/** Value of endpointslice.kubernetes.io/managed-by on the slices the fake node writes. */
export const FAKE_NODE_MANAGER = "skiff-test-node";
const MANAGED_BY_SLICE_LABEL = "endpointslice.kubernetes.io/managed-by";

export interface FakeNodeOptions {
  kc: KubeConfig;
  namespace: string;
  /** The built function folder (holding index.mjs) of a revision id (the Deployment's skiff.dev/revision label). */
  bundleDir(revisionId: string): string;
  logger?: { info(msg: string, fields?: Record<string, unknown>): void; warn(msg: string, fields?: Record<string, unknown>): void };
  /** Address the processes bind and the slices carry; default: this machine's first non-loopback address (see kube-node-address.ts). */
  address?: string;
  /** /_skiff/ready poll period (default 50ms). */
  readyPollMs?: number;
}

/** Where a fake pod is: as its EndpointSlice says (exited: its slice is being deleted). */
export type FakePodPhase = "starting" | "ready" | "terminating" | "exited";

export interface FakePod {
  /** `<deployment>-<n>`: the slice's name, the targetRef and SKIFF_REPLICA. */
  readonly name: string;
  readonly deployment: string;
  readonly pid: number | undefined;
  /** Known once the runtime logged its "listening" line. */
  readonly port: number | undefined;
  /** http://<address>:<port>, or "" before the port is known. */
  readonly url: string;
  readonly phase: FakePodPhase;
  /** Its EndpointSlice matches its phase (or, exited, is deleted). */
  readonly sliceInSync: boolean;
}

export interface FakeNodeEvent {
  readonly atMs: number;
  readonly type: "started" | "listening" | "ready" | "terminating" | "exited" | "crashed" | "slice-deleted" | "error";
  readonly deployment: string;
  readonly pod?: string;
  readonly detail?: string;
}

export interface FakeNode {
  /** The address pods bind and slices carry. */
  readonly address: NodeAddress;
  /** Everything that happened, oldest first. */
  readonly events: readonly FakeNodeEvent[];
  /** Pods of a Deployment the node still tracks (an exited one until its slice is deleted), by ordinal. */
  pods(deployment: string): FakePod[];
  /** stdout and stderr of a pod so far (kept after it exits). */
  logs(pod: string): string;
  /**
   * Waits until the Deployment has exactly `n` pods, all ready, with their slices written
   * (n = 0: every process exited and every slice deleted). Resolves with the pods.
   */
  waitForReady(deployment: string, n: number, options?: { timeoutMs?: number }): Promise<FakePod[]>;
  /** Stops watching and SIGKILLs every process (slices are left as they are). Safe to call twice. */
  stop(): Promise<void>;
}

interface PodRecord {
  readonly name: string;
  readonly deployment: string;
  readonly ordinal: number;
  readonly templateKey: string;
  readonly labels: Record<string, string>;
  readonly proc: ReplicaProcess;
  port?: number;
  phase: FakePodPhase;
  /** It was ready before terminating: a terminating endpoint serves only if it did. */
  wasReady: boolean;
  /** Slice writes in order, one at a time. */
  sliceChain: Promise<void>;
  sliceExists: boolean;
  /** Key of the slice state last written ("gone" once deleted). */
  sliceWritten?: string;
}

interface DeploymentSet {
  deployment: V1Deployment | undefined;
  readonly pods: Map<string, PodRecord>;
  nextOrdinal: number;
  crashes: number;
  retryAtMs: number;
  retryTimer?: NodeJS.Timeout;
  statusDirty: boolean;
  statusWriting?: Promise<void>;
  lastStatus?: string;
}

const MAX_LOG_CHARS = 256 * 1024;
const DEFAULT_GRACE_SECONDS = 30;

// Every node a file started, so the file's end (or a crashed worker) never leaves a process behind.
const live = new Set<FakeNode>();
const liveProcs = new Set<ReplicaProcess>();
afterAll(async () => {
  await Promise.all([...live].map((node) => node.stop()));
});
process.once("exit", () => {
  for (const proc of liveProcs) proc.killNow();
});

/** Starts the node and resolves once its first list of Deployments is in (existing ones are started then). */
export async function startFakeNode(options: FakeNodeOptions): Promise<FakeNode> {
  const node = new FakeNodeImpl(options);
  live.add(node);
  try {
    await node.start();
  } catch (error) {
    await node.stop();
    throw error;
  }
  return node;
}

class FakeNodeImpl implements FakeNode {
  readonly address: NodeAddress;
  readonly events: FakeNodeEvent[] = [];
  private readonly sets = new Map<string, DeploymentSet>();
  private readonly logsByPod = new Map<string, string>();
  private readonly apps: AppsV1Api;
  private readonly discovery: DiscoveryV1Api;
  private readonly launcher = makeNodeLauncher();
  private informer: WatchedCache<V1Deployment> | undefined;
  private stopped: Promise<void> | undefined;

  constructor(private readonly opts: FakeNodeOptions) {
    this.address = pickNodeAddress(opts.address);
    this.apps = opts.kc.makeApiClient(AppsV1Api);
    this.discovery = opts.kc.makeApiClient(DiscoveryV1Api);
  }

  async start(): Promise<void> {
    // Slices an earlier node left (stop() leaves them) name processes that are gone.
    await this.discovery.deleteCollectionNamespacedEndpointSlice({
      namespace: this.opts.namespace,
      labelSelector: `${MANAGED_BY_SLICE_LABEL}=${FAKE_NODE_MANAGER}`,
    });
    const api = new KubeApi(this.opts.kc, this.opts.namespace);
    this.informer = startInformer(this.opts.kc, api.deploymentsTarget(), {
      onChange: (d, change) => {
        const name = d.metadata?.name;
        if (!name || d.metadata?.namespace !== this.opts.namespace) return;
        this.set(name).deployment = change === "delete" ? undefined : d;
        this.sync(name);
      },
      onError: (error, retryInMs) => this.opts.logger?.warn(`fake node: watch of deployments failed; restarting in ${retryInMs}ms`, { error: apiMessage(error) }),
    });
    await this.informer.synced;
  }

  pods(deployment: string): FakePod[] {
    const set = this.sets.get(deployment);
    return set ? [...set.pods.values()].sort((a, b) => a.ordinal - b.ordinal).map((pod) => this.view(pod)) : [];
  }

  logs(pod: string): string {
    return this.logsByPod.get(pod) ?? "";
  }

  async waitForReady(deployment: string, n: number, options: { timeoutMs?: number } = {}): Promise<FakePod[]> {
    const timeoutMs = options.timeoutMs ?? 30_000;
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const pods = this.pods(deployment);
      if (pods.length === n && pods.every((p) => p.phase === "ready" && p.sliceInSync)) return pods;
      if (Date.now() > deadline || this.stopped) {
        const state = pods.map((p) => `${p.name} ${p.phase}${p.sliceInSync ? "" : " (slice behind)"}`).join(", ") || "no pods";
        const logs = pods.map((p) => `--- ${p.name} ---\n${this.logs(p.name).slice(-2000)}`).join("\n");
        throw new Error(`timed out after ${timeoutMs}ms waiting for ${n} ready pods of ${deployment}: ${state}\n${logs}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  }

  stop(): Promise<void> {
    return (this.stopped ??= this.shutdown());
  }

  private async shutdown(): Promise<void> {
    live.delete(this);
    await this.informer?.stop();
    const procs: ReplicaProcess[] = [];
    for (const set of this.sets.values()) {
      clearTimeout(set.retryTimer);
      for (const pod of set.pods.values()) procs.push(pod.proc);
    }
    for (const proc of procs) proc.killNow();
    const exited = Promise.all(procs.map((proc) => proc.exited));
    await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 10_000).unref())]);
    for (const proc of procs) liveProcs.delete(proc);
  }

  private set(name: string): DeploymentSet {
    let set = this.sets.get(name);
    if (!set) {
      set = { deployment: undefined, pods: new Map(), nextOrdinal: 0, crashes: 0, retryAtMs: 0, statusDirty: false };
      this.sets.set(name, set);
    }
    return set;
  }

  private view(pod: PodRecord): FakePod {
    const info = pod.proc.snapshot();
    return {
      name: pod.name,
      deployment: pod.deployment,
      pid: info.pid,
      port: pod.port,
      url: pod.port === undefined ? "" : info.url,
      phase: pod.phase,
      sliceInSync: pod.sliceWritten === this.sliceKey(pod),
    };
  }

  private event(type: FakeNodeEvent["type"], deployment: string, pod?: string, detail?: string): void {
    this.events.push({ atMs: Date.now(), type, deployment, ...(pod && { pod }), ...(detail && { detail }) });
    const message = `fake node: ${pod ?? deployment} ${type}${detail ? `: ${detail}` : ""}`;
    if (type === "crashed" || type === "error") this.opts.logger?.warn(message);
    else this.opts.logger?.info(message);
  }

  /**
   * Brings a Deployment's pods to spec.replicas, synchronously (starting and draining are;
   * slice and status writes follow on their own chains). A changed pod template rolls the
   * pods with full surge: new ones start, old ones drain once enough new ones are ready.
   */
  private sync(name: string): void {
    if (this.stopped) return;
    const set = this.set(name);
    const d = set.deployment;
    const desired = !d || d.metadata?.deletionTimestamp ? 0 : d.spec?.replicas ?? 1;
    const templateKey = d ? canonicalJson(d.spec?.template ?? {}) : "";
    const running = [...set.pods.values()].filter((p) => p.phase === "starting" || p.phase === "ready");
    const current = running.filter((p) => p.templateKey === templateKey);
    const outdated = running.filter((p) => p.templateKey !== templateKey);

    if (current.length < desired && d) {
      const waitMs = set.retryAtMs - Date.now();
      if (waitMs > 0) {
        clearTimeout(set.retryTimer);
        set.retryTimer = setTimeout(() => this.sync(name), waitMs);
      } else {
        for (let i = current.length; i < desired; i++) if (!this.startPod(set, name, d, templateKey)) break;
      }
    }
    if (current.length > desired) {
      // As the ReplicaSet controller: not-ready pods go first, then the newest.
      const victims = [...current].sort((a, b) => Number(a.phase === "ready") - Number(b.phase === "ready") || b.ordinal - a.ordinal);
      for (const pod of victims.slice(0, current.length - desired)) pod.proc.drain();
    }
    const readyCurrent = current.filter((p) => p.phase === "ready").length;
    if (outdated.length > 0 && readyCurrent >= desired) for (const pod of outdated) pod.proc.drain();

    this.scheduleStatus(name);
    if (!d && set.pods.size === 0) {
      clearTimeout(set.retryTimer);
      this.sets.delete(name);
    }
  }

  /** Starts one pod; false when its bundle could not even be found (retried after a backoff). */
  private startPod(set: DeploymentSet, deployment: string, d: V1Deployment, templateKey: string): boolean {
    const ordinal = set.nextOrdinal++;
    const name = `${deployment}-${ordinal}`;
    const labels = { ...(d.spec?.template?.metadata?.labels ?? {}) };
    const revisionId = d.metadata?.labels?.[REVISION_LABEL] ?? labels[REVISION_LABEL] ?? deployment;
    const fn = d.metadata?.labels?.[FUNCTION_LABEL] ?? labels[FUNCTION_LABEL] ?? revisionId;
    let bundleDir: string;
    try {
      bundleDir = this.opts.bundleDir(revisionId);
    } catch (error) {
      this.event("error", deployment, name, `no bundle for revision ${revisionId}: ${(error as Error).message}`);
      this.recordCrash(set, deployment);
      return false;
    }
    const container = pickContainer(d);
    const env = podEnv(container, name, this.address.address);
    // ReplicaProcess reads the revision only through makeReplicaEnv (whose env the launcher
    // below replaces) and for the ids it reports: spec.env carries LOG_LEVEL, which decides
    // whether the runtime prints its port (else a free port is probed and passed as PORT).
    const revision: Revision = {
      id: revisionId,
      fn,
      spec: { env, resources: { cpuMillis: 1000 } } as unknown as FunctionSpec,
      bundleDir,
      contentHash: revisionId,
      createdAtMs: Date.now(),
    };
    const graceSeconds = d.spec?.template?.spec?.terminationGracePeriodSeconds ?? DEFAULT_GRACE_SECONDS;
    const proc = new ReplicaProcess({
      id: name,
      revision,
      host: this.address.address,
      // The kubelet's budget is the whole grace period: SIGTERM, then SIGKILL when it ends.
      drainGraceMs: graceSeconds * 1000,
      killMarginMs: 0,
      readyPollMs: this.opts.readyPollMs ?? 50,
      clock: systemClock,
      launcher: this.podLauncher(env, (port) => this.listening(pod, port)),
      onPhase: (info) => this.onPhase(pod, info.phase, info.exitReason),
      onOutput: (stream, text) => {
        this.appendLog(name, `${text}\n`);
        if (stream === "stdout" && pod.port === undefined) {
          const port = parseListeningPort(text);
          if (port !== undefined) this.listening(pod, port);
        }
      },
      onError: (error) => this.event("error", deployment, name, error.message),
    });
    // The callbacks above run only once start() is called, when `pod` is set.
    const pod: PodRecord = { name, deployment, ordinal, templateKey, labels, proc, phase: "starting", wasReady: false, sliceChain: Promise.resolve(), sliceExists: false };
    set.pods.set(name, pod);
    liveProcs.add(proc);
    proc.start();
    this.event("started", deployment, name, `pid ${proc.snapshot().pid ?? "?"}`);
    return true;
  }

  /** The node launcher, given the pod's env in place of makeReplicaEnv's (keeping its PORT and HOST). */
  private podLauncher(env: Record<string, string>, onPort: (port: number) => void): ReplicaLauncher {
    return {
      spawn: (request) => {
        const port = Number(request.env.PORT);
        if (port > 0) onPort(port);
        return this.launcher.spawn({ ...request, env: { ...env, PORT: request.env.PORT ?? "0", HOST: request.env.HOST ?? env.HOST! } });
      },
    };
  }

  private listening(pod: PodRecord, port: number): void {
    if (pod.port !== undefined) return;
    pod.port = port;
    this.event("listening", pod.deployment, pod.name, `port ${port}`);
    this.pushSlice(pod);
  }

  private onPhase(pod: PodRecord, phase: string, exitReason: string | undefined): void {
    const set = this.sets.get(pod.deployment);
    if (phase === "ready") {
      pod.phase = "ready";
      pod.wasReady = true;
      if (set) set.crashes = 0;
      this.event("ready", pod.deployment, pod.name);
    } else if (phase === "draining") {
      pod.phase = "terminating";
      this.event("terminating", pod.deployment, pod.name);
    } else if (phase === "exited") {
      pod.phase = "exited";
      liveProcs.delete(pod.proc);
      const crashed = !pod.proc.drainRequested && !this.stopped;
      this.event(crashed ? "crashed" : "exited", pod.deployment, pod.name, exitReason);
      if (crashed && set) this.recordCrash(set, pod.deployment);
    } else {
      return;
    }
    this.pushSlice(pod);
    this.sync(pod.deployment);
  }

  /** A crash delays the next start, as the kubelet's CrashLoopBackOff (reset by a ready pod). */
  private recordCrash(set: DeploymentSet, deployment: string): void {
    set.crashes++;
    const delayMs = backoffDelayMs(set.crashes, DEFAULT_BACKOFF);
    set.retryAtMs = Date.now() + delayMs;
    clearTimeout(set.retryTimer);
    set.retryTimer = setTimeout(() => this.sync(deployment), delayMs);
  }

  private appendLog(pod: string, text: string): void {
    const log = (this.logsByPod.get(pod) ?? "") + text;
    this.logsByPod.set(pod, log.length > MAX_LOG_CHARS ? log.slice(-MAX_LOG_CHARS) : log);
  }

  /** What the pod's slice should say now: "gone" once exited, undefined while the port is unknown. */
  private sliceKey(pod: PodRecord): string | undefined {
    if (pod.phase === "exited") return "gone";
    if (pod.port === undefined) return undefined;
    return JSON.stringify([pod.port, conditionsOf(pod)]);
  }

  private pushSlice(pod: PodRecord): void {
    pod.sliceChain = pod.sliceChain.then(() => this.writeSlice(pod));
  }

  private async writeSlice(pod: PodRecord): Promise<void> {
    if (this.stopped) return;
    const key = this.sliceKey(pod);
    if (key === undefined || key === pod.sliceWritten) return;
    const { namespace } = this.opts;
    try {
      if (key === "gone") {
        if (pod.sliceExists) {
          try {
            await this.discovery.deleteNamespacedEndpointSlice({ name: pod.name, namespace });
          } catch (error) {
            if (apiStatus(error) !== 404) throw error;
          }
          this.event("slice-deleted", pod.deployment, pod.name);
        }
        pod.sliceExists = false;
        pod.sliceWritten = key;
        this.forget(pod);
        return;
      }
      const body = this.sliceOf(pod);
      if (pod.sliceExists) {
        await this.discovery.patchNamespacedEndpointSlice(
          { name: pod.name, namespace, body: { endpoints: body.endpoints, ports: body.ports } },
          setHeaderOptions("Content-Type", PatchStrategy.MergePatch),
        );
      } else {
        try {
          await this.discovery.createNamespacedEndpointSlice({ namespace, body });
        } catch (error) {
          // Left by an earlier node in this namespace: take it over.
          if (apiStatus(error) !== 409) throw error;
          await this.discovery.replaceNamespacedEndpointSlice({ name: pod.name, namespace, body });
        }
        pod.sliceExists = true;
      }
      pod.sliceWritten = key;
    } catch (error) {
      if (this.stopped) return;
      this.event("error", pod.deployment, pod.name, `writing its EndpointSlice: ${apiMessage(error)}`);
      setTimeout(() => this.pushSlice(pod), 250);
    }
  }

  private sliceOf(pod: PodRecord): V1EndpointSlice {
    const { namespace } = this.opts;
    return {
      apiVersion: "discovery.k8s.io/v1",
      kind: "EndpointSlice",
      metadata: {
        name: pod.name,
        namespace,
        labels: { ...pod.labels, [SERVICE_NAME_LABEL]: pod.deployment, [MANAGED_BY_SLICE_LABEL]: FAKE_NODE_MANAGER },
      },
      addressType: this.address.addressType,
      endpoints: [{
        addresses: [this.address.address],
        conditions: conditionsOf(pod),
        targetRef: { kind: "Pod", name: pod.name, namespace },
      }],
      ports: [{ name: PORT_NAME, port: pod.port!, protocol: "TCP" }],
    };
  }

  /** Drops an exited pod whose slice is gone. */
  private forget(pod: PodRecord): void {
    const set = this.sets.get(pod.deployment);
    if (set?.pods.get(pod.name) !== pod) return;
    set.pods.delete(pod.name);
    this.sync(pod.deployment);
  }

  private scheduleStatus(name: string): void {
    const set = this.set(name);
    set.statusDirty = true;
    if (set.statusWriting) return;
    set.statusWriting = (async () => {
      while (set.statusDirty && !this.stopped) {
        set.statusDirty = false;
        await this.writeStatus(name, set);
      }
      set.statusWriting = undefined;
    })();
  }

  private async writeStatus(name: string, set: DeploymentSet): Promise<void> {
    const d = set.deployment;
    if (!d) return;
    const templateKey = canonicalJson(d.spec?.template ?? {});
    const running = [...set.pods.values()].filter((p) => p.phase === "starting" || p.phase === "ready");
    const ready = running.filter((p) => p.phase === "ready").length;
    const status: V1DeploymentStatus = {
      observedGeneration: d.metadata?.generation,
      replicas: running.length,
      updatedReplicas: running.filter((p) => p.templateKey === templateKey).length,
      readyReplicas: ready,
      availableReplicas: ready,
      unavailableReplicas: Math.max(0, (d.spec?.replicas ?? 1) - ready),
    };
    const key = JSON.stringify(status);
    if (key === set.lastStatus) return;
    try {
      await this.apps.patchNamespacedDeploymentStatus(
        { name, namespace: this.opts.namespace, body: { status } },
        setHeaderOptions("Content-Type", PatchStrategy.MergePatch),
      );
      set.lastStatus = key;
    } catch (error) {
      if (this.stopped || apiStatus(error) === 404) return;
      this.event("error", name, undefined, `writing its status: ${apiMessage(error)}`);
    }
  }
}

/** discovery/v1 conditions of a pod (a terminating one that was ready still serves what it has, while it drains). */
function conditionsOf({ phase, wasReady }: Pick<PodRecord, "phase" | "wasReady">): { ready: boolean; serving: boolean; terminating: boolean } {
  if (phase === "ready") return { ready: true, serving: true, terminating: false };
  if (phase === "terminating") return { ready: false, serving: wasReady, terminating: true };
  return { ready: false, serving: false, terminating: false };
}

/**
 * JSON with sorted keys and no undefined, so a template compares equal however it arrived:
 * the informer's list goes through client-node's typed deserializer (its own key order, Dates)
 * while watch events are raw JSON in the apiserver's order.
 */
function canonicalJson(value: unknown): string {
  if (value instanceof Date) return JSON.stringify(value.toISOString());
  if (Array.isArray(value)) return `[${value.map((v) => (v === undefined ? "null" : canonicalJson(v))).join(",")}]`;
  if (value !== null && typeof value === "object") {
    const entries = Object.entries(value).filter(([, v]) => v !== undefined).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(",")}}`;
  }
  return JSON.stringify(value) ?? "null";
}

function pickContainer(d: V1Deployment): V1Container | undefined {
  const containers = d.spec?.template?.spec?.containers ?? [];
  return containers.find((c) => c.name === CONTAINER_NAME) ?? containers[0];
}

/**
 * The container's literal env (valueFrom entries skipped: no downward API here), then what the
 * node decides: SKIFF_REPLICA is the pod name, PORT=0 (the runtime picks one and logs it), HOST
 * the node address, PATH the test's, and SKIFF_PARENT_PID so an orphaned replica exits.
 */
function podEnv(container: V1Container | undefined, podName: string, host: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const entry of container?.env ?? []) if (entry.value !== undefined) env[entry.name] = entry.value;
  return {
    ...env,
    SKIFF_REPLICA: podName,
    SKIFF_PARENT_PID: String(process.pid),
    PORT: "0",
    HOST: host,
    PATH: process.env.PATH || FALLBACK_PATH,
  };
}
