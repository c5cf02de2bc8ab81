// One replica as a child process: spawn with a clean env (or hand that env and the bundle to a
// warm pool worker, pool.ts), learn its port, poll readiness, drain on request (SIGTERM, grace,
// SIGKILL) and report every phase change exactly once, in order: starting -> ready? -> draining?
// -> exited.
import { type ChildProcess, spawn } from "node:child_process";
import { Agent } from "node:http";
import { join } from "node:path";
import type { Clock, TimerHandle } from "../../autoscaler/index.ts";
import type { ReplicaInfo, ReplicaPhase, Revision } from "../../types.ts";
import { makeReplicaEnv } from "./env.ts";
import { ReplicaSpawnError } from "./errors.ts";
import { makeLineSplitter, parseListeningPort, reportsListeningPort } from "./output.ts";
import { type PoolWorker, canRunPooled } from "./pool-worker-process.ts";
import { pause, probeFreePort, probeReady, urlHost } from "./readiness.ts";

/** A replica as the process backend reports it: the shared shape plus the child's pid. `url` is "" while starting until the child reports its port; always set once ready. */
export interface ProcessReplicaInfo extends ReplicaInfo {
  /** OS process id, once spawned (the child leads its own process group). */
  pid?: number;
  /** True when it runs in a pre-started pool worker rather than a process spawned for it. */
  pooled?: boolean;
}

/** Settings and callbacks of one replica process. */
export interface ReplicaProcessOptions {
  id: string;
  revision: Revision;
  host: string;
  drainGraceMs: number;
  /** Extra time after the grace for the shutdown hook before SIGKILL. */
  killMarginMs: number;
  readyPollMs: number;
  platformEnv?: Record<string, string>;
  clock: Clock;
  /** A warm pool worker to run in, if any (else the replica is spawned fresh). */
  takeWorker?: () => PoolWorker | undefined;
  /** Every phase change, with a snapshot taken at that moment. */
  onPhase(info: ProcessReplicaInfo): void;
  onOutput(stream: "stdout" | "stderr", text: string): void;
  onError(error: Error): void;
}

/** Supervises one child; `start` once, `drain` any number of times. */
export class ReplicaProcess {
  /** Set when the replica was asked to go (drain); an exit without it is a crash. */
  drainRequested = false;
  /** When readiness ended (drain or exit), for the crash backoff's stability check. */
  readyEndedAtMs: number | undefined;
  /** Resolves once the replica is exited. */
  readonly exited: Promise<void>;
  /** Resolves once its stdout and stderr are closed: its last log lines were delivered. */
  readonly outputClosed: Promise<void>;
  private readonly info: ProcessReplicaInfo;
  private child: ChildProcess | undefined;
  private readonly polling = new AbortController();
  private killTimer: TimerHandle | undefined;
  private graceExpired = false;
  private resolveExited!: () => void;
  private resolveOutputClosed!: () => void;

  constructor(private readonly opts: ReplicaProcessOptions) {
    const { id, revision, clock } = opts;
    this.info = { id, fn: revision.fn, revision: revision.id, url: "", phase: "starting", startedAtMs: clock.now() };
    this.exited = new Promise((resolve) => (this.resolveExited = resolve));
    this.outputClosed = new Promise((resolve) => (this.resolveOutputClosed = resolve));
  }

  /** A copy of the current state (safe to keep; later changes do not alter it). */
  snapshot(): ProcessReplicaInfo {
    return { ...this.info };
  }

  /** Emits "starting" and launches the child (after a port probe when it cannot report its port). */
  start(): void {
    this.opts.onPhase(this.snapshot());
    const env = makeReplicaEnv({ ...this.opts, replicaId: this.opts.id, port: 0, hostPath: process.env.PATH });
    if (reportsListeningPort(env.LOG_LEVEL)) return this.spawnChild(env, undefined);
    probeFreePort(this.opts.host).then(
      (port) => this.spawnChild({ ...env, PORT: String(port) }, port),
      (cause: unknown) => this.failToStart(cause),
    );
  }

  /** Marks draining (emitted before any signal, so the gateway stops first), then SIGTERM, grace, SIGKILL. */
  drain(): void {
    if (this.info.phase === "draining" || this.info.phase === "exited") return;
    this.drainRequested = true;
    this.endReadiness();
    this.setPhase("draining");
    this.polling.abort();
    // Not spawned yet (port probe in flight): spawnChild sees the drain and never starts it.
    if (!this.child) return;
    this.child.kill("SIGTERM");
    this.killTimer = this.opts.clock.setTimeout(() => {
      this.graceExpired = true;
      this.signalGroup("SIGKILL");
    }, this.opts.drainGraceMs + this.opts.killMarginMs);
  }

  /** SIGKILLs the whole process group now, synchronously (used from the host's exit hook). */
  killNow(): void {
    this.signalGroup("SIGKILL");
  }

  private spawnChild(env: Record<string, string>, port: number | undefined): void {
    if (this.info.phase !== "starting") return this.markExited("drained before it started");
    const { revision } = this.opts;
    const bundlePath = join(revision.bundleDir, "index.mjs");
    const worker = canRunPooled(env) ? this.opts.takeWorker?.() : undefined;
    let child: ChildProcess;
    try {
      // detached: the replica leads its own process group, so a terminal's Ctrl-C reaches only
      // the platform (which drains replicas in order) and SIGKILL can take grandchildren along.
      // Pool workers were spawned the same way.
      child = worker?.child ?? spawn(process.execPath, ["--enable-source-maps", bundlePath], {
        cwd: revision.bundleDir,
        env,
        stdio: ["ignore", "pipe", "pipe"],
        detached: true,
      });
    } catch (cause) {
      return this.failToStart(cause);
    }
    this.child = child;
    this.info.pid = child.pid;
    if (worker) this.info.pooled = true;
    child.once("error", (cause) => (child.pid === undefined ? this.failToStart(cause) : this.opts.onError(cause)));
    child.once("exit", (code, signal) => this.markExited(this.describeExit(code, signal)));
    // "exit" can come before the pipes drain, so the last lines may follow the exited event.
    child.once("close", () => this.resolveOutputClosed());
    this.captureOutput(child);
    // Only now, with every listener in place, may the worker start printing and exiting as the replica.
    worker?.assign({ bundlePath, cwd: revision.bundleDir, env, title: `skiff-replica ${this.opts.id}` });
    if (port !== undefined) this.listening(port);
  }

  private captureOutput(child: ChildProcess): void {
    for (const stream of ["stdout", "stderr"] as const) {
      const splitter = makeLineSplitter((text) => {
        this.opts.onOutput(stream, text);
        if (stream === "stdout" && this.info.url === "") {
          const port = parseListeningPort(text);
          if (port !== undefined) this.listening(port);
        }
      });
      child[stream]?.on("data", (chunk: Buffer) => splitter.push(chunk));
      child[stream]?.on("end", () => splitter.end());
    }
  }

  private listening(port: number): void {
    this.info.url = `http://${urlHost(this.opts.host)}:${port}`;
    this.pollReadiness().catch((error: unknown) => this.opts.onError(error as Error));
  }

  /** Polls /_skiff/ready every readyPollMs over one kept-alive connection until 200. */
  private async pollReadiness(): Promise<void> {
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    const { signal } = this.polling;
    try {
      while (!signal.aborted && this.info.phase === "starting") {
        const status = await probeReady(this.info.url, agent, signal);
        if (status === 200 && this.info.phase === "starting") {
          this.info.readyAtMs = this.opts.clock.now();
          return this.setPhase("ready");
        }
        await pause(this.opts.clock, this.opts.readyPollMs, signal);
      }
    } finally {
      agent.destroy();
    }
  }

  private failToStart(cause: unknown): void {
    this.opts.onError(new ReplicaSpawnError(this.opts.id, { cause }));
    this.markExited(`failed to start: ${cause instanceof Error ? cause.message : String(cause)}`);
  }

  private markExited(reason: string): void {
    if (this.info.phase === "exited") return;
    if (this.killTimer !== undefined) this.opts.clock.clearTimeout(this.killTimer);
    this.polling.abort();
    this.endReadiness();
    this.info.exitReason = reason;
    this.setPhase("exited");
    // Take down anything the replica left behind in its group (a model server it spawned).
    this.signalGroup("SIGKILL");
    this.resolveExited();
    if (!this.child) this.resolveOutputClosed();
  }

  private describeExit(code: number | null, signal: NodeJS.Signals | null): string {
    if (signal === null) return `exited with code ${code ?? "unknown"}`;
    const grace = this.opts.drainGraceMs + this.opts.killMarginMs;
    return this.graceExpired ? `killed by ${signal} after the drain grace (${grace}ms)` : `killed by ${signal}`;
  }

  private endReadiness(): void {
    if (this.info.phase === "ready") this.readyEndedAtMs = this.opts.clock.now();
  }

  private setPhase(phase: ReplicaPhase): void {
    this.info.phase = phase;
    this.opts.onPhase(this.snapshot());
  }

  private signalGroup(signal: NodeJS.Signals): void {
    const pid = this.child?.pid;
    if (pid === undefined) return;
    try {
      process.kill(-pid, signal);
    } catch {
      // ESRCH: the group is already gone.
    }
  }
}
