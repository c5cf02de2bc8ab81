// One replica as a child process: have the launcher start it with a clean env (a fresh node, a
// warm pool worker, or a container), learn its port, poll readiness, drain on request (SIGTERM,
// grace, SIGKILL) and report every phase change exactly once, in order: starting -> ready? ->
// draining? -> exited.
import type { ChildProcess } from "node:child_process";
import { Agent } from "node:http";
import type { Clock, TimerHandle } from "../../autoscaler/index.ts";
import type { ReplicaInfo, ReplicaPhase, Revision } from "../../types.ts";
import { makeReplicaEnv } from "./env.ts";
import { ReplicaSpawnError } from "./errors.ts";
import type { ExitStatus, LaunchedReplica, ReplicaLauncher } from "./launcher.ts";
import { makeLineSplitter, parseListeningPort, reportsListeningPort } from "./output.ts";
import { pause, probeFreePort, probeReady, urlHost } from "./readiness.ts";

/** A replica as the process backend reports it: the shared shape plus the child's pid. `url` is "" while starting until the child reports its port; always set once ready. */
export interface ProcessReplicaInfo extends ReplicaInfo {
  /** OS process id of the function, once known (a process child leads its own group; a container's is its init). */
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
  /** Starts the process: a node child or pool worker (launcher.ts), or a container. */
  launcher: ReplicaLauncher;
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
  private launched: LaunchedReplica | undefined;
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

  /** Emits "starting" and launches the child (after the launcher's preparation and a port probe, when needed). */
  start(): void {
    this.opts.onPhase(this.snapshot());
    const env = makeReplicaEnv({ ...this.opts, replicaId: this.opts.id, port: 0, hostPath: process.env.PATH });
    const reportsPort = reportsListeningPort(env.LOG_LEVEL);
    const prepared = this.opts.launcher.prepare?.(this.opts.revision);
    // A plain node replica spawns synchronously, as before there were launchers.
    if (!prepared && reportsPort) return this.spawnChild(env, undefined);
    // The port is probed after preparing, so it is as fresh as it can be when the replica binds it.
    (prepared ?? Promise.resolve())
      .then(() => (reportsPort ? undefined : probeFreePort(this.opts.host)))
      .then(
        (port) => this.spawnChild(port === undefined ? env : { ...env, PORT: String(port) }, port),
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
    // Not spawned yet (preparing or probing a port): spawnChild sees the drain and never starts it.
    if (!this.launched) return;
    this.launched.terminate();
    this.killTimer = this.opts.clock.setTimeout(() => {
      this.graceExpired = true;
      this.launched?.kill();
    }, this.opts.drainGraceMs + this.opts.killMarginMs);
  }

  /** Kills the replica's processes now, synchronously or detached (used from the host's exit hook). */
  killNow(): void {
    this.launched?.kill();
  }

  private spawnChild(env: Record<string, string>, port: number | undefined): void {
    if (this.info.phase !== "starting") return this.markExited("drained before it started");
    let launched: LaunchedReplica;
    try {
      launched = this.opts.launcher.spawn({ replicaId: this.opts.id, revision: this.opts.revision, env });
    } catch (cause) {
      return this.failToStart(cause);
    }
    this.launched = launched;
    const { child } = launched;
    this.info.pid = launched.pid();
    if (launched.pooled) this.info.pooled = true;
    child.once("error", (cause) => (child.pid === undefined ? this.failToStart(cause) : this.opts.onError(cause)));
    child.once("exit", (code, signal) => this.markExited(this.describeExit(launched.exitStatus(code, signal), launched.failure())));
    // "exit" can come before the pipes drain, so the last lines may follow the exited event.
    child.once("close", () => this.resolveOutputClosed());
    this.captureOutput(child);
    // Only now, with every listener in place, may a pool worker start printing and exiting as the replica.
    launched.begin();
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
    // A container's init pid is known once it runs; a process child's was known at spawn.
    this.info.pid = this.launched?.pid() ?? this.info.pid;
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
    // Exited for the gateway and the planner at once; `exited` (which stop() awaits) once what
    // the replica held is freed.
    const released = this.launched?.release() ?? Promise.resolve();
    void released.then(() => this.resolveExited());
    if (!this.launched) this.resolveOutputClosed();
  }

  private describeExit({ code, signal }: ExitStatus, failure: string | undefined): string {
    const detail = failure === undefined ? "" : ` (${failure})`;
    if (signal === null) return `exited with code ${code ?? "unknown"}${detail}`;
    const grace = this.opts.drainGraceMs + this.opts.killMarginMs;
    return this.graceExpired ? `killed by ${signal} after the drain grace (${grace}ms)` : `killed by ${signal}${detail}`;
  }

  private endReadiness(): void {
    if (this.info.phase === "ready") this.readyEndedAtMs = this.opts.clock.now();
  }

  private setPhase(phase: ReplicaPhase): void {
    this.info.phase = phase;
    this.opts.onPhase(this.snapshot());
  }
}
