// A small pool of pre-started generic replica processes (as Fission's pool manager keeps): each
// has paid Node's startup and the runtime's load-time costs, so a replica started from one skips
// them. A worker serves one replica and is never returned (no state passes between functions);
// a taken worker is replaced in the background, and one that dies idle is replaced with backoff.
import type { ChildProcess } from "node:child_process";
import type { Socket } from "node:net";
import { type Clock, type TimerHandle, systemClock } from "../../autoscaler/index.ts";
import { type BackoffPolicy, DEFAULT_BACKOFF, backoffDelayMs } from "./backoff.ts";
import { makeLineSplitter } from "./output.ts";
import { type PoolWorker, killGroup, makePoolWorker, spawnPoolWorker } from "./pool-worker-process.ts";

/** Warm workers kept by default. */
export const DEFAULT_POOL_SIZE = 2;
/** A worker not warm by then is killed and counted as a failure. */
export const WORKER_WARM_TIMEOUT_MS = 10_000;

/** Settings of startReplicaPool. */
export interface ReplicaPoolOptions {
  /** Workers kept warm (default 2). */
  size?: number;
  /** Starts one worker (default: spawnPoolWorker with the host's PATH). */
  spawnWorker?: () => ChildProcess;
  clock?: Clock;
  /** Where unexpected worker exits and output go (idle workers print nothing normally). */
  logger?: { warn(msg: string, fields?: Record<string, unknown>): void };
  /** Refill delays after workers die idle (default 100ms doubling to 10s). */
  backoff?: Pick<BackoffPolicy, "initialMs" | "maxMs">;
}

/** A worker the pool holds, as tests and diagnostics see it. */
export interface PoolWorkerInfo {
  pid: number | undefined;
  warm: boolean;
}

/** The running pool. */
export interface ReplicaPool {
  /** A warm worker, now owned by the caller, or undefined when none is warm (spawn fresh then). */
  take(): PoolWorker | undefined;
  /** The workers the pool holds now (warming or warm); taken ones are no longer its own. */
  workers(): PoolWorkerInfo[];
  /** Kills every idle worker and resolves once they exited; take() returns undefined afterwards. */
  stop(): Promise<void>;
}

/** Starts a pool and begins warming `size` workers. */
export function startReplicaPool(options: ReplicaPoolOptions = {}): ReplicaPool {
  return new ReplicaPoolImpl(options);
}

interface Entry {
  child: ChildProcess;
  warm: boolean;
  warmTimer: TimerHandle | undefined;
  /** Removes every listener the pool put on the child. */
  detach(): void;
}

class ReplicaPoolImpl implements ReplicaPool {
  private readonly entries = new Set<Entry>();
  private readonly size: number;
  private readonly clock: Clock;
  private readonly spawnWorker: () => ChildProcess;
  private readonly backoff: BackoffPolicy;
  private failures = 0;
  private refillTimer: TimerHandle | undefined;
  private stopped = false;
  // Idle workers must not outlive a platform that exits without stop().
  private readonly exitHook = () => this.forEachPid(killGroup);

  constructor(private readonly options: ReplicaPoolOptions) {
    this.size = options.size ?? DEFAULT_POOL_SIZE;
    this.clock = options.clock ?? systemClock;
    this.spawnWorker = options.spawnWorker ?? (() => spawnPoolWorker({ hostPath: process.env.PATH }));
    this.backoff = { ...DEFAULT_BACKOFF, ...options.backoff };
    process.on("exit", this.exitHook);
    this.fill();
  }

  take(): PoolWorker | undefined {
    if (this.stopped) return undefined;
    const entry = [...this.entries].find((e) => e.warm && isAlive(e.child));
    if (!entry) return undefined;
    this.entries.delete(entry);
    entry.detach();
    handOver(entry.child);
    // After the caller's synchronous assignment: spawning costs the parent a few ms it would
    // otherwise add to this cold start.
    setImmediate(() => this.fill());
    return makePoolWorker(entry.child);
  }

  workers(): PoolWorkerInfo[] {
    return [...this.entries].map((e) => ({ pid: e.child.pid, warm: e.warm }));
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.refillTimer !== undefined) this.clock.clearTimeout(this.refillTimer);
    this.refillTimer = undefined;
    const children = [...this.entries].map((e) => e.child).filter(isAlive);
    // Ref'd again, or an idle host would exit before seeing them go (and leave stop() unsettled).
    for (const child of children) child.ref();
    const exited = children.map((child) => new Promise((resolve) => child.once("exit", resolve)));
    this.forEachPid(killGroup);
    await Promise.all(exited);
    process.off("exit", this.exitHook);
  }

  /** Spawns workers up to `size`, unless stopped or a refill is held back after failures. */
  private fill(): void {
    while (!this.stopped && this.refillTimer === undefined && this.entries.size < this.size) {
      if (!this.spawnOne()) return;
    }
  }

  private spawnOne(): boolean {
    let child: ChildProcess;
    try {
      child = this.spawnWorker();
    } catch (cause) {
      this.options.logger?.warn("could not start a pool worker", { error: cause });
      this.failed();
      return false;
    }
    const entry: Entry = { child, warm: false, warmTimer: undefined, detach: () => {} };
    this.entries.add(entry);
    entry.detach = this.watch(entry);
    entry.warmTimer = this.clock.setTimeout(() => {
      this.options.logger?.warn(`pool worker ${child.pid} not warm after ${WORKER_WARM_TIMEOUT_MS}ms; killing it`);
      if (child.pid !== undefined) killGroup(child.pid);
    }, WORKER_WARM_TIMEOUT_MS);
    keepIdleFromHoldingHost(child);
    return true;
  }

  /** Listens to an idle worker: its warm message, its exit, any output it prints. Returns the undo. */
  private watch(entry: Entry): () => void {
    const { child } = entry;
    const onMessage = (message: unknown) => {
      if ((message as { type?: unknown } | null)?.type !== "warm") return;
      this.clearWarmTimer(entry);
      entry.warm = true;
      this.failures = 0;
    };
    const onExit = (code: number | null, signal: NodeJS.Signals | null) => this.lost(entry, signal ?? `code ${code}`);
    const onError = (error: Error) => (child.pid === undefined ? this.lost(entry, error.message) : undefined);
    const output = [child.stdout, child.stderr].map((stream) => {
      const splitter = makeLineSplitter((text) => this.options.logger?.warn(`pool worker ${child.pid}: ${text}`));
      const onData = (chunk: Buffer) => splitter.push(chunk);
      stream?.on("data", onData);
      return () => stream?.off("data", onData);
    });
    child.on("message", onMessage).on("exit", onExit).on("error", onError);
    return () => {
      this.clearWarmTimer(entry);
      child.off("message", onMessage).off("exit", onExit).off("error", onError);
      for (const undo of output) undo();
    };
  }

  /** An idle worker is gone (killed, crashed, or never started): replace it, after a backoff. */
  private lost(entry: Entry, how: string): void {
    if (!this.entries.delete(entry)) return;
    entry.detach();
    if (this.stopped) return;
    this.options.logger?.warn(`pool worker ${entry.child.pid ?? "(not started)"} exited while idle (${how}); replacing it`);
    this.failed();
  }

  private failed(): void {
    this.failures++;
    if (this.refillTimer !== undefined || this.stopped) return;
    this.refillTimer = this.clock.setTimeout(() => {
      this.refillTimer = undefined;
      this.fill();
    }, backoffDelayMs(this.failures, this.backoff));
  }

  private clearWarmTimer(entry: Entry): void {
    if (entry.warmTimer !== undefined) this.clock.clearTimeout(entry.warmTimer);
    entry.warmTimer = undefined;
  }

  private forEachPid(fn: (pid: number) => void): void {
    for (const { child } of this.entries) if (child.pid !== undefined && isAlive(child)) fn(child.pid);
  }
}

function isAlive(child: ChildProcess): boolean {
  return child.pid !== undefined && child.exitCode === null && child.signalCode === null && child.connected;
}

/** An idle worker is the pool's spare, not work in progress: it must not keep the host's event loop alive. */
function keepIdleFromHoldingHost(child: ChildProcess): void {
  child.unref();
  child.channel?.unref();
  for (const stream of [child.stdout, child.stderr]) (stream as Socket | null)?.unref();
}

/** A taken worker is a replica: held like a freshly spawned one (the channel closes after assignment). */
function handOver(child: ChildProcess): void {
  child.ref();
  for (const stream of [child.stdout, child.stderr]) (stream as Socket | null)?.ref();
}
