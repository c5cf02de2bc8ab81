// The platform's own nats-server: started by `skiff up` unless --nats names one. JetStream's
// store lives in <stateDir>/nats, so streams, consumers and pending events survive a platform
// restart. While the platform runs, a server that dies is restarted on the same port (clients
// reconnect to the URL they know) with a growing delay; it never outlives the platform: stop()
// ends it, a watchdog ends it if the platform is SIGKILLed, and the pid file lets the next
// start kill one that escaped both (see leftover.ts).
import type { ChildProcess } from "node:child_process";
import { once } from "node:events";
import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { requireNatsServer } from "./find-binary.ts";
import { killLeftoverServer, removePidFile, writePidFile } from "./leftover.ts";
import { type LaunchSpec, launchServer, makeNatsUrl, type ServerProcess, terminateServer } from "./launch.ts";
import { makeOutputSink, type NatsLogger } from "./output.ts";

/** Options of startNatsServer. */
export interface NatsServerOptions {
  /** The platform's state dir; the JetStream store is <stateDir>/nats. */
  stateDir: string;
  /** Address to listen on (default 127.0.0.1). */
  host?: string;
  /** Client port (default 0: nats-server picks a free one, kept across its restarts). */
  port?: number;
  logger?: NatsLogger;
  /** The binary (default: found by requireNatsServer). */
  bin?: string;
  /** How long a start may take before it fails (default 15s). */
  readyTimeoutMs?: number;
  /** Restart delays after crashes (default 250ms doubling to 10s; reset after 30s up). */
  restartBackoff?: RestartBackoff;
}

/** Delays between restarts of a server that keeps dying. */
export interface RestartBackoff {
  initialMs: number;
  maxMs: number;
  /** A server up this long is healthy again: the next crash restarts after initialMs. */
  resetAfterMs: number;
}

/** The platform's running nats-server. */
export interface NatsServerHandle {
  /** nats://host:port, stable across restarts of the server. */
  readonly url: string;
  /** Pid of the current server process (changes when it is restarted). */
  readonly pid: number;
  /** The JetStream store dir (<stateDir>/nats). */
  readonly storeDir: string;
  /** Stops the server (no restart after this) and waits for it to exit. */
  stop(): Promise<void>;
}

const DEFAULT_BACKOFF: RestartBackoff = { initialMs: 250, maxMs: 10_000, resetAfterMs: 30_000 };
const quiet: NatsLogger = { info: () => undefined, warn: () => undefined, error: () => undefined };

/** The JetStream store dir (and pid file dir) of a state dir. */
export function natsStoreDir(stateDir: string): string {
  return join(stateDir, "nats");
}

/** Delay before restart number `failures` (1-based). */
export function restartDelayMs(failures: number, policy: RestartBackoff = DEFAULT_BACKOFF): number {
  return Math.min(policy.maxMs, policy.initialMs * 2 ** Math.min(Math.max(failures - 1, 0), 30));
}

/** Starts nats-server with JetStream on <stateDir>/nats and resolves once it takes connections. */
export async function startNatsServer(options: NatsServerOptions): Promise<NatsServerHandle> {
  const logger = options.logger ?? quiet;
  const bin = options.bin ?? requireNatsServer();
  const storeDir = natsStoreDir(options.stateDir);
  await mkdir(storeDir, { recursive: true, mode: 0o700 });
  const leftover = await killLeftoverServer(storeDir);
  if (leftover) logger.warn(`stopped nats-server pid ${leftover} left running by a previous platform on ${storeDir}`);
  const spec: LaunchSpec = {
    bin, host: options.host ?? "127.0.0.1", port: options.port ?? 0, storeDir,
    sink: makeOutputSink(logger), readyTimeoutMs: options.readyTimeoutMs ?? 15_000,
  };
  const supervisor = new Supervisor(spec, logger, options.restartBackoff ?? DEFAULT_BACKOFF);
  await supervisor.start();
  const url = makeNatsUrl(spec.host, spec.port);
  logger.info(`nats-server ready on ${url}`, { pid: supervisor.pid, storeDir });
  return { url, storeDir, get pid() { return supervisor.pid; }, stop: () => supervisor.stop() };
}

/** Owns the current server process: restarts it when it dies, until stopped. */
class Supervisor {
  private current: ServerProcess | undefined;
  private spawning: ChildProcess | undefined;
  private stopping = false;
  private failures = 0;
  private startedAtMs = 0;
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly spec: LaunchSpec, private readonly logger: NatsLogger, private readonly backoff: RestartBackoff) {}

  get pid(): number {
    return this.spawning?.pid ?? 0;
  }

  /** Launches once; the first port chosen is pinned so restarts keep the URL. */
  async start(): Promise<void> {
    const server = await launchServer(this.spec, (child) => (this.spawning = child));
    if (this.stopping) {
      // stop() came during a restart's launch: this server must not outlive it.
      await terminateServer(server);
      throw new Error("stopped while starting");
    }
    this.spec.port = server.port;
    this.current = server;
    this.startedAtMs = Date.now();
    await writePidFile(this.spec.storeDir, server.pid);
    void server.exited.then(() => this.onExit(server));
  }

  async stop(): Promise<void> {
    this.stopping = true;
    clearTimeout(this.timer);
    if (this.current) await terminateServer(this.current);
    const launching = this.spawning;
    if (launching && launching !== this.current?.child && launching.exitCode === null && launching.signalCode === null) {
      const exited = once(launching, "exit");
      launching.kill("SIGTERM");
      await exited;
    }
    await removePidFile(this.spec.storeDir);
  }

  private onExit(server: ServerProcess): void {
    if (this.stopping || this.current !== server) return;
    server.watchdog.kill("SIGKILL");
    const upMs = Date.now() - this.startedAtMs;
    this.failures = upMs >= this.backoff.resetAfterMs ? 1 : this.failures + 1;
    const how = server.child.signalCode ?? `code ${String(server.child.exitCode)}`;
    const delayMs = restartDelayMs(this.failures, this.backoff);
    this.logger.error(`nats-server exited unexpectedly (${how}); restarting in ${delayMs}ms`, { output: this.spec.sink.tail() });
    this.scheduleRestart(delayMs);
  }

  private scheduleRestart(delayMs: number): void {
    this.timer = setTimeout(() => {
      if (this.stopping) return;
      this.start().then(
        () => this.logger.info(`nats-server restarted on ${makeNatsUrl(this.spec.host, this.spec.port)}`, { pid: this.pid }),
        (error: Error) => {
          if (this.stopping) return;
          this.failures++;
          const nextMs = restartDelayMs(this.failures, this.backoff);
          this.logger.error(`nats-server restart failed: ${error.message}; retrying in ${nextMs}ms`);
          this.scheduleRestart(nextMs);
        },
      );
    }, delayMs);
  }
}
