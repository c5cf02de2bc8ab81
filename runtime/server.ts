// The replica process: listen at once (so liveness answers), run init (readiness waits for
// it), serve, and on SIGTERM drain: not ready, finish in-flight work, run shutdown, exit 0.
import { serve } from "@hono/node-server";
import type { AddressInfo } from "node:net";
import { join, resolve, sep } from "node:path";
import { makeApp } from "./app.ts";
import { isSkiffFunction } from "./define-function.ts";
import { makeLogger } from "./logger.ts";
import { makeReplicaState, type ReplicaState } from "./replica-state.ts";
import type { InitContext, Logger, ReplicaOptions, SkiffFunction } from "./types.ts";

/** A running replica, as seen by the code that started it. */
export interface Replica {
  readonly port: number;
  readonly state: ReplicaState;
  /** Resolves when init has finished and the replica is ready. */
  readonly ready: Promise<void>;
  /** Drains and stops: not ready, in-flight finishes (up to graceMs), shutdown runs, server closes. */
  stop(graceMs?: number): Promise<void>;
}

/** Extra knobs for embedding a replica (tests, `skiff dev`); the generated entry uses the defaults. */
export interface StartOptions extends ReplicaOptions {
  /** Install SIGTERM/SIGINT handlers that drain and exit (default true). */
  handleSignals?: boolean;
}

/** Starts a replica for a defined function and returns once it listens. */
export async function startReplica(fn: unknown, options: StartOptions): Promise<Replica> {
  const { spec } = options;
  const logger = makeLogger({ level: process.env.LOG_LEVEL ?? spec.env.LOG_LEVEL, fields: { fn: spec.name } });
  if (!isSkiffFunction(fn)) {
    logger.error(`the default export of ${spec.entry} is not a function definition: export default defineFunction({...})`);
    process.exit(1);
  }
  const state = makeReplicaState({ concurrency: spec.scale.concurrency, queueSize: queueSizeFor(spec.scale.concurrency) });
  const shutdownController = new AbortController();
  const baseContext = makeBaseContext(options, logger, shutdownController.signal);
  let initResult: unknown;
  const modelSupport = fn.model ? await import("./oip/model-support.ts") : undefined;
  const model = fn.model && modelSupport ? new modelSupport.ModelServer(fn.model, { spec, registry: state.metrics.registry, logger }) : undefined;
  const app = makeApp({ fn, spec, state, logger, baseContext, initState: () => initResult }, model && modelSupport ? { server: model, mount: modelSupport.mountOip } : undefined);
  const { server, port } = await listen(app.fetch, options);
  logger.info("listening", { port });
  // The init result is in place, and the model's metadata read, before the replica turns ready.
  const ready = runInit(fn, baseContext, state, logger, async (result) => {
    initResult = result;
    await model?.load({ ...baseContext, state: result });
  });
  ready.catch((error: unknown) => {
    logger.error("init failed; exiting", { error });
    process.exit(1);
  });
  let stopping: Promise<void> | undefined;
  const stop = (graceMs = drainGraceMs(spec.timeoutMs)) =>
    (stopping ??= drain({ fn, state, logger, graceMs, server, shutdownController, ctx: () => ({ ...baseContext, state: initResult }) }));
  if (options.handleSignals !== false) {
    for (const signal of ["SIGTERM", "SIGINT"] as const) {
      process.once(signal, () => {
        logger.info(`${signal}: draining`);
        void stop().then(() => process.exit(0));
      });
    }
    exitWithParent(logger, () => void stop().then(() => process.exit(0)));
  }
  return { port, state, ready, stop };
}

/**
 * When the platform (or `skiff dev`) that started this replica dies without stopping it (kill
 * -9), the replica would live on holding its port and memory. The starter sets
 * SKIFF_PARENT_PID; once our parent is no longer that process we were orphaned: drain and exit.
 */
function exitWithParent(logger: Logger, stop: () => void): void {
  const parent = Number(process.env.SKIFF_PARENT_PID);
  if (!Number.isInteger(parent) || parent <= 0) return;
  const timer = setInterval(() => {
    if (process.ppid === parent) return;
    clearInterval(timer);
    logger.warn("parent process is gone; draining and exiting", { parent });
    stop();
  }, 500);
  timer.unref();
}

/** Queue depth per replica: enough to absorb a burst while the gateway catches up, bounded so memory is. */
function queueSizeFor(concurrency: number): number {
  const fromEnv = Number(process.env.SKIFF_QUEUE_SIZE);
  return Number.isInteger(fromEnv) && fromEnv >= 0 ? fromEnv : Math.max(16, concurrency * 10);
}

/** Grace for in-flight work on drain: one full request timeout plus a little, overridable by the platform. */
function drainGraceMs(timeoutMs: number): number {
  const fromEnv = Number(process.env.SKIFF_DRAIN_GRACE_MS);
  return Number.isFinite(fromEnv) && fromEnv > 0 ? fromEnv : timeoutMs + 1000;
}

/** SKIFF_DRAIN_DELAY_MS: how long a draining replica still takes new requests (default 0: the local gateway stops sending before SIGTERM). */
function drainDelayMs(): number {
  const fromEnv = Number(process.env.SKIFF_DRAIN_DELAY_MS);
  return Number.isFinite(fromEnv) && fromEnv > 0 ? fromEnv : 0;
}

function makeBaseContext(options: ReplicaOptions, logger: Logger, signal: AbortSignal): InitContext {
  const env: Record<string, string> = {};
  // Only declared keys: the platform's value wins over function.yaml's default.
  for (const [key, value] of Object.entries(options.spec.env)) env[key] = process.env[key] ?? value;
  const baseDir = resolve(options.baseDir);
  return Object.freeze({
    name: options.spec.name,
    env: Object.freeze(env),
    logger,
    signal,
    assetPath(relativePath: string): string {
      const full = resolve(join(baseDir, relativePath));
      if (full !== baseDir && !full.startsWith(baseDir + sep)) throw new Error(`asset path escapes the function: ${relativePath}`);
      return full;
    },
  });
}

async function runInit(
  fn: SkiffFunction<unknown>,
  ctx: InitContext,
  state: ReplicaState,
  logger: Logger,
  prepare: (result: unknown) => Promise<void>,
): Promise<void> {
  const started = performance.now();
  const result = fn.init ? await fn.init(ctx) : undefined;
  await prepare(result);
  state.metrics.initSeconds.value = (performance.now() - started) / 1000;
  if (state.phase === "starting") state.phase = "ready";
  logger.info("ready", { initMs: Math.round(performance.now() - started) });
}

function listen(fetch: (req: Request) => Response | Promise<Response>, options: ReplicaOptions) {
  const port = options.port ?? Number(process.env.PORT ?? 8080);
  const hostname = options.hostname ?? process.env.HOST ?? "0.0.0.0";
  return new Promise<{ server: ReturnType<typeof serve>; port: number }>((resolvePromise, reject) => {
    const server = serve({ fetch, port, hostname }, (info: AddressInfo) => resolvePromise({ server, port: info.port }));
    server.once("error", reject);
  });
}

async function drain(args: {
  fn: SkiffFunction<unknown>;
  state: ReplicaState;
  logger: Logger;
  graceMs: number;
  server: ReturnType<typeof serve>;
  shutdownController: AbortController;
  ctx: () => unknown;
}): Promise<void> {
  const { state, logger } = args;
  state.phase = "draining";
  // Where endpoints take time to reach every router (Kubernetes: EndpointSlices to the gateway),
  // requests keep arriving after SIGTERM: keep taking them for that long (readiness is already
  // false) before waiting for in-flight work to end, as Knative's queue-proxy and a preStop sleep do.
  const delayMs = drainDelayMs();
  if (delayMs > 0) await new Promise((r) => setTimeout(r, delayMs));
  const deadline = Date.now() + args.graceMs;
  const graceLeft = () => new Promise<"grace">((r) => setTimeout(() => r("grace"), Math.max(0, deadline - Date.now())).unref());
  // Keep serving while readiness propagates to the gateway; stop only once nothing is in flight.
  let outcome = await Promise.race([state.idle().then(() => "idle" as const), graceLeft()]);
  // close() refuses new connections and lets requests already on open ones finish (Node marks
  // their responses Connection: close), so a request that raced the drain is not lost.
  const server = args.server as import("node:http").Server;
  const closed = new Promise<"closed">((r) => server.close(() => r("closed")));
  // A kept-alive connection busy at close() time turns idle only after its response; close it
  // then, or the drain would wait out the whole grace for a client that holds it open.
  server.closeIdleConnections();
  const sweeper = setInterval(() => server.closeIdleConnections(), 25);
  if (outcome === "idle") outcome = await Promise.race([closed, graceLeft()]) === "closed" ? "idle" : "grace";
  clearInterval(sweeper);
  if (outcome === "grace") {
    logger.warn("drain grace elapsed with requests in flight", { inFlight: state.limiter.inFlight });
    server.closeAllConnections();
  }
  args.shutdownController.abort();
  try {
    await args.fn.shutdown?.(args.ctx() as never);
  } catch (error) {
    logger.error("shutdown hook failed", { error: error instanceof Error ? error.message : String(error) });
  }
  state.phase = "stopped";
  logger.info("stopped");
}
