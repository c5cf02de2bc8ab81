// A watched cache of one kind of object: @kubernetes/client-node's ListWatch (which already
// resumes watches from the last resourceVersion and relists on 410 Gone) plus what it leaves
// out: restarting with backoff after any other error (reset once a list or watch succeeds
// again), and a promise for the first full list.
import { type KubeConfig, type KubernetesListObject, type KubernetesObject, ListWatch, Watch } from "@kubernetes/client-node";
import { retryDelayMs } from "./work-queue.ts";

/** What to watch: the collection's URL path and the same collection's list call. */
export interface WatchTarget<T extends KubernetesObject> {
  /** e.g. /apis/apps/v1/deployments or /apis/skiff.dev/v1alpha1/namespaces/ns/functions */
  path: string;
  list(): Promise<KubernetesListObject<T>>;
  labelSelector?: string;
}

export interface InformerOptions<T extends KubernetesObject> {
  /** Any add, update or delete (the object's last known state on delete). */
  onChange(obj: T, change: "add" | "update" | "delete"): void;
  /** A failed list or watch; the informer restarts itself after `retryInMs`. */
  onError?(error: unknown, retryInMs: number): void;
  baseDelayMs?: number;
  maxDelayMs?: number;
}

/** A running informer: a read-only cache kept current by a watch. */
export interface WatchedCache<T extends KubernetesObject> {
  get(name: string, namespace?: string): T | undefined;
  list(namespace?: string): readonly T[];
  /** Resolves after the first successful list (the cache then holds every object). */
  synced: Promise<void>;
  stop(): Promise<void>;
}

/** Starts listing and watching; returns at once (await `synced` before trusting the cache). */
export function startInformer<T extends KubernetesObject>(kc: KubeConfig, target: WatchTarget<T>, options: InformerOptions<T>): WatchedCache<T> {
  let markSynced!: () => void;
  const synced = new Promise<void>((resolve) => (markSynced = resolve));
  let failures = 0;
  let stopped = false;
  let restartTimer: NodeJS.Timeout | undefined;
  // A restart after an error resumes the watch without listing when it can, so an accepted
  // watch, not only a list, ends the run of failures: else every later outage would start at
  // the backoff this one reached (and soon wait maxDelayMs before watching again).
  const informer = new ListWatch<T>(
    target.path,
    new ReportingWatch(kc, () => (failures = 0)),
    async () => {
      const list = await target.list();
      failures = 0;
      markSynced();
      return list;
    },
    false,
    target.labelSelector,
  );
  informer.on("add", (obj) => options.onChange(obj, "add"));
  informer.on("update", (obj) => options.onChange(obj, "update"));
  informer.on("delete", (obj) => options.onChange(obj, "delete"));
  informer.on("error", (error: unknown) => {
    if (stopped) return;
    failures++;
    const delay = retryDelayMs(failures, options.baseDelayMs ?? 200, options.maxDelayMs ?? 30_000);
    options.onError?.(error, delay);
    clearTimeout(restartTimer);
    restartTimer = setTimeout(() => {
      if (!stopped) void informer.start().catch(() => undefined);
    }, delay);
  });
  void informer.start().catch(() => undefined);
  return {
    get: (name, namespace) => informer.get(name, namespace),
    list: (namespace) => informer.list(namespace),
    synced,
    async stop() {
      stopped = true;
      clearTimeout(restartTimer);
      await informer.stop();
    },
  };
}

/** A Watch that says when the apiserver accepted a watch request (answered 200: events follow). */
class ReportingWatch extends Watch {
  constructor(kc: KubeConfig, private readonly onAccepted: () => void) {
    super(kc);
  }

  override async watch(...[path, query, callback, done]: Parameters<Watch["watch"]>): Promise<AbortController> {
    // A refused or failed request calls `done` with its error before watch() returns.
    let failed = false;
    const request = await super.watch(path, query, callback, (error: unknown) => {
      if (error) failed = true;
      done(error);
    });
    if (!failed) this.onAccepted();
    return request;
  }
}
