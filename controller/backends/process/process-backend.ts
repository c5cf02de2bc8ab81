// The process backend: replicas are child processes on loopback. scale() records the desired
// count; a coalesced reconcile (microtask) applies planScale, replaces crashed replicas under a
// per-revision backoff and drains extra ones. All events are delivered synchronously, in order.
import { type Clock, type TimerHandle, systemClock } from "../../autoscaler/index.ts";
import type { Backend, LogLine, Revision } from "../../types.ts";
import { type BackoffPolicy, type CrashState, DEFAULT_BACKOFF, NO_CRASHES, backoffDelayMs, longestReadyStreakMs, recordCrash } from "./backoff.ts";
import { defaultDrainGraceMs } from "./env.ts";
import { BackendStoppedError, InvalidScaleError, ListenerError, ReplicaCrashError } from "./errors.ts";
import { type ReplicaLauncher, makeNodeLauncher } from "./launcher.ts";
import { type LogFiles, startLogFiles } from "./log-files.ts";
import { planScale } from "./plan.ts";
import { DEFAULT_POOL_SIZE, type PoolWorkerInfo, type ReplicaPool, startReplicaPool } from "./pool.ts";
import { pause } from "./readiness.ts";
import { type ProcessReplicaInfo, ReplicaProcess } from "./replica-process.ts";

/** Where the backend reports what it does; `fields` are structured context. */
export interface BackendLogger {
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
}

/** Settings of startProcessBackend; every field has a default. */
export interface ProcessBackendOptions {
  /** Replica output is appended to `<stateDir>/logs/<fn>.log` when set. */
  stateDir?: string;
  /** Address replicas bind (default 127.0.0.1). */
  host?: string;
  /** Grace for in-flight work on drain (default: the revision's timeout + 1s), passed as SKIFF_DRAIN_GRACE_MS. */
  drainGraceMs?: number;
  /** SIGKILL comes this long after the grace, leaving time for the shutdown hook (default 1000). */
  killMarginMs?: number;
  /** Readiness poll interval (default 10). */
  readyPollMs?: number;
  /** Restart delays after crashes (default 100ms doubling to 10s, reset after 10s ready). */
  restartBackoffMs?: { initial?: number; max?: number; resetAfter?: number };
  /** Extra variables every replica gets (e.g. the NATS URL). */
  platformEnv?: Record<string, string>;
  logger?: BackendLogger;
  /** Every line a replica prints, tagged with its replica id. */
  onLog?: (line: LogLine) => void;
  clock?: Clock;
  /** Pre-started generic workers that replicas start in, skipping Node's startup (default size 2; false: none). */
  pool?: { size: number } | false;
  /**
   * How replicas start (default: node child processes, from the pool when a worker is warm). The
   * container backend passes its runc launcher; there is no pool then.
   */
  launcher?: ReplicaLauncher;
}

/** The Backend contract plus what the process backend can tell in addition. */
export interface ProcessBackend extends Backend {
  replicas(revisionId: string): ProcessReplicaInfo[];
  onChange(listener: (replica: ProcessReplicaInfo) => void): () => void;
  /** Every known replica of every revision (recently exited ones included). */
  snapshot(): ProcessReplicaInfo[];
  /** The count last passed to scale() for a revision (0 when unknown). */
  desired(revisionId: string): number;
  /** Idle pre-started workers (none when the pool is off); they are not replicas. */
  poolWorkers(): PoolWorkerInfo[];
}

/** Exited replicas stay visible in replicas() this long (so `describe` can say why one died)... */
export const EXITED_RETENTION_MS = 60_000;
/** ...and at most this many per revision. */
export const EXITED_KEEP = 5;

/** How long stop() waits, after every replica exited, for their output pipes to close. */
const OUTPUT_FLUSH_WAIT_MS = 1000;

/** Starts an (empty) process backend; replicas appear on scale(). */
export function startProcessBackend(options: ProcessBackendOptions = {}): ProcessBackend {
  return new ProcessBackendImpl(options);
}

interface ExitedEntry {
  info: ProcessReplicaInfo;
  atMs: number;
}

/** What the backend holds per revision. */
interface Slot {
  revision: Revision;
  desired: number;
  live: Map<string, ReplicaProcess>;
  exited: ExitedEntry[];
  crash: CrashState;
  reconcileQueued: boolean;
  wake?: { atMs: number; handle: TimerHandle };
}

const consoleLogger: BackendLogger = {
  info: () => {},
  warn: (msg) => console.error(`process backend: ${msg}`),
  error: (msg) => console.error(`process backend: ${msg}`),
};

class ProcessBackendImpl implements ProcessBackend {
  private readonly slots = new Map<string, Slot>();
  private readonly listeners = new Set<(replica: ProcessReplicaInfo) => void>();
  private readonly clock: Clock;
  private readonly logger: BackendLogger;
  private readonly backoff: BackoffPolicy;
  private readonly logFiles: LogFiles | undefined;
  private readonly pool: ReplicaPool | undefined;
  private readonly launcher: ReplicaLauncher;
  private replicaCounter = 0;
  private stopped = false;
  private stopping: Promise<void> | undefined;
  // If the platform process dies without stop(), its replicas must not outlive it.
  private readonly exitHook = () => this.forEachLive((r) => r.killNow());

  constructor(private readonly options: ProcessBackendOptions) {
    this.clock = options.clock ?? systemClock;
    this.logger = options.logger ?? consoleLogger;
    const b = options.restartBackoffMs ?? {};
    this.backoff = {
      initialMs: b.initial ?? DEFAULT_BACKOFF.initialMs,
      maxMs: b.max ?? DEFAULT_BACKOFF.maxMs,
      resetAfterMs: b.resetAfter ?? DEFAULT_BACKOFF.resetAfterMs,
    };
    const report = (error: Error) => this.logger.warn(error.message, { error });
    this.logFiles = options.stateDir === undefined ? undefined : startLogFiles(options.stateDir, report);
    process.on("exit", this.exitHook);
    const poolSize = options.launcher || options.pool === false ? 0 : (options.pool?.size ?? DEFAULT_POOL_SIZE);
    if (poolSize > 0) this.pool = startReplicaPool({ size: poolSize, clock: this.clock, logger: this.logger });
    this.launcher = options.launcher ?? makeNodeLauncher({ takeWorker: this.pool && (() => this.pool?.take()) });
  }

  scale(revision: Revision, desired: number): void {
    if (!Number.isInteger(desired) || desired < 0) throw new InvalidScaleError(revision.id, desired);
    if (this.stopped) {
      const error = new BackendStoppedError(revision.id);
      return this.logger.warn(error.message, { error });
    }
    const slot = this.slots.get(revision.id) ?? this.newSlot(revision);
    slot.revision = revision;
    slot.desired = desired;
    this.queueReconcile(slot);
  }

  replicas(revisionId: string): ProcessReplicaInfo[] {
    const slot = this.slots.get(revisionId);
    if (!slot) return [];
    this.pruneSlot(slot);
    return [...[...slot.live.values()].map((r) => r.snapshot()), ...slot.exited.map((e) => ({ ...e.info }))];
  }

  snapshot(): ProcessReplicaInfo[] {
    return [...this.slots.keys()].flatMap((id) => this.replicas(id));
  }

  desired(revisionId: string): number {
    return this.slots.get(revisionId)?.desired ?? 0;
  }

  poolWorkers(): PoolWorkerInfo[] {
    return this.pool?.workers() ?? [];
  }

  onChange(listener: (replica: ProcessReplicaInfo) => void): () => void {
    // Wrapped so the same function subscribed twice gets two independent subscriptions.
    const wrapped = (replica: ProcessReplicaInfo) => listener(replica);
    this.listeners.add(wrapped);
    return () => void this.listeners.delete(wrapped);
  }

  stop(): Promise<void> {
    // The flag goes first: listeners run inside drainAll's synchronous part and may call scale().
    this.stopped = true;
    this.stopping ??= this.drainAll();
    return this.stopping;
  }

  private async drainAll(): Promise<void> {
    for (const slot of this.slots.values()) this.clearWake(slot);
    const poolStopped = this.pool?.stop();
    const all: ReplicaProcess[] = [];
    this.forEachLive((r) => all.push(r));
    for (const replica of all) replica.drain();
    await Promise.all([...all.map((r) => r.exited), poolStopped]);
    // Wait for the last lines (pipes drain after exit), but not for a grandchild that escaped
    // the process group and still holds a pipe open.
    const outputClosed = Promise.all(all.map((r) => r.outputClosed));
    const flushWait = new AbortController();
    await Promise.race([outputClosed, pause(this.clock, OUTPUT_FLUSH_WAIT_MS, flushWait.signal)]);
    flushWait.abort(); // clears the timer so stop() leaves nothing pending
    await this.logFiles?.close();
    process.off("exit", this.exitHook);
  }

  private newSlot(revision: Revision): Slot {
    const slot: Slot = { revision, desired: 0, live: new Map(), exited: [], crash: NO_CRASHES, reconcileQueued: false };
    this.slots.set(revision.id, slot);
    return slot;
  }

  /** Coalesces bursts of scale() and exits into one reconcile, outside the caller's stack. */
  private queueReconcile(slot: Slot): void {
    if (slot.reconcileQueued) return;
    slot.reconcileQueued = true;
    queueMicrotask(() => {
      slot.reconcileQueued = false;
      this.reconcile(slot);
    });
  }

  private reconcile(slot: Slot): void {
    if (this.stopped) return;
    const replicas = [...slot.live.values()].map((r) => r.snapshot());
    const nowMs = this.clock.now();
    const plan = planScale({ replicas, desired: slot.desired, nowMs, retryAtMs: slot.crash.retryAtMs });
    for (const id of plan.drain) slot.live.get(id)?.drain();
    for (let i = 0; i < plan.start; i++) this.startReplica(slot);
    if (plan.wakeAtMs !== undefined) this.armWake(slot, plan.wakeAtMs);
    this.pruneSlot(slot);
  }

  private startReplica(slot: Slot): void {
    const { revision } = slot;
    const id = `${revision.id}-r${++this.replicaCounter}`;
    const replica: ReplicaProcess = new ReplicaProcess({
      id,
      revision,
      host: this.options.host ?? "127.0.0.1",
      drainGraceMs: this.options.drainGraceMs ?? defaultDrainGraceMs(revision),
      killMarginMs: this.options.killMarginMs ?? 1000,
      readyPollMs: this.options.readyPollMs ?? 10,
      platformEnv: this.options.platformEnv,
      clock: this.clock,
      launcher: this.launcher,
      onPhase: (info) => this.handlePhase(slot, replica, info),
      onOutput: (stream, text) => this.handleOutput({ fn: revision.fn, replica: id, stream, atMs: this.clock.now(), text }),
      onError: (error) => this.logger.error(error.message, { error, replica: id }),
    });
    slot.live.set(id, replica);
    replica.start();
  }

  private handlePhase(slot: Slot, replica: ReplicaProcess, info: ProcessReplicaInfo): void {
    if (info.phase === "exited") {
      slot.live.delete(info.id);
      slot.exited.push({ info, atMs: this.clock.now() });
      this.pruneExited(slot);
    }
    this.emit(info);
    if (info.phase === "ready") {
      this.logger.info(`replica ${info.id} ready`, { replica: info.id, startMs: (info.readyAtMs ?? 0) - info.startedAtMs });
    }
    if (info.phase !== "exited") return;
    if (!replica.drainRequested && !this.stopped) this.recordCrash(slot, replica, info);
    this.queueReconcile(slot);
  }

  private recordCrash(slot: Slot, crashed: ReplicaProcess, info: ProcessReplicaInfo): void {
    const nowMs = this.clock.now();
    const streaks = [crashed, ...slot.live.values()].map((r) => ({ readyAtMs: r.snapshot().readyAtMs, endedAtMs: r.readyEndedAtMs }));
    const readyStreakMs = longestReadyStreakMs(streaks, nowMs, slot.crash.lastCrashAtMs);
    slot.crash = recordCrash(slot.crash, { nowMs, readyStreakMs }, this.backoff);
    const error = new ReplicaCrashError(info.id, info.exitReason ?? "exited", backoffDelayMs(slot.crash.failures, this.backoff));
    this.logger.warn(error.message, { error, replica: info.id, failures: slot.crash.failures });
  }

  private handleOutput(line: LogLine): void {
    this.logFiles?.append(line);
    if (!this.options.onLog) return;
    try {
      this.options.onLog(line);
    } catch (cause) {
      this.logger.error(new ListenerError("onLog", { cause }).message, { error: cause });
    }
  }

  private emit(info: ProcessReplicaInfo): void {
    for (const listener of this.listeners) {
      try {
        listener({ ...info });
      } catch (cause) {
        this.logger.error(new ListenerError("onChange", { cause }).message, { error: cause });
      }
    }
  }

  /** One timer per revision, at the earliest time a held-back start may happen. */
  private armWake(slot: Slot, atMs: number): void {
    if (slot.wake && slot.wake.atMs <= atMs) return;
    this.clearWake(slot);
    const handle = this.clock.setTimeout(() => {
      slot.wake = undefined;
      this.reconcile(slot);
    }, Math.max(0, atMs - this.clock.now()));
    slot.wake = { atMs, handle };
  }

  private clearWake(slot: Slot): void {
    if (slot.wake) this.clock.clearTimeout(slot.wake.handle);
    slot.wake = undefined;
  }

  private pruneExited(slot: Slot): void {
    const cutoff = this.clock.now() - EXITED_RETENTION_MS;
    slot.exited = slot.exited.filter((e) => e.atMs >= cutoff).slice(-EXITED_KEEP);
  }

  /** Forgets a revision nobody wants any more, once nothing of it is left to show. */
  private pruneSlot(slot: Slot): void {
    this.pruneExited(slot);
    if (slot.desired === 0 && slot.live.size === 0 && slot.exited.length === 0 && !slot.wake) {
      this.slots.delete(slot.revision.id);
    }
  }

  private forEachLive(fn: (replica: ReplicaProcess) => void): void {
    for (const slot of this.slots.values()) for (const replica of slot.live.values()) fn(replica);
  }
}
