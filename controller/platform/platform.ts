// `skiff up`: the local platform in one process — store, process backend, KPA autoscalers,
// gateway (activator) and the control API — reconciled from the state dir at start, so a
// restart brings back the same functions (min-scale replicas included) and nothing twice.
import { serve } from "@hono/node-server";
import type { AddressInfo } from "node:net";
import { makeControlApi } from "../api/index.ts";
import { containerDirs, startContainerBackend, type ContainerImageSource } from "../backends/container/index.ts";
import { startProcessBackend } from "../backends/process/index.ts";
import { startGateway, type Gateway } from "../gateway/index.ts";
import { openFileStore, type FunctionStore } from "../store/index.ts";
import { startNatsServer } from "../nats/index.ts";
import { startPlatformEvents, type PlatformEvents } from "./events.ts";
import { makeBackendSet } from "./backend-set.ts";
import { makeContainerImages, removeFunctionImages } from "./container-images.ts";
import { makeAllowEventOnly } from "./internal-delivery.ts";
import { LogHub } from "./logs.ts";
import { makePlatformOps } from "./ops.ts";
import { RevisionScalers } from "./revision-scalers.ts";
import { StoreRouteTable } from "./routes.ts";
import { checkNotRunning, clearPlatformInfo, ensureToken, writePlatformInfo } from "./state-files.ts";
import { readdirSync } from "node:fs";
import { join } from "node:path";

/** Options of startPlatform. */
export interface PlatformOptions {
  stateDir: string;
  host?: string;
  /** Gateway port (default 8080; 0 picks one). */
  port?: number;
  /** Control API port (default 0: a free one, recorded in the state dir). */
  apiPort?: number;
  /** How long a deployed revision may take to turn ready (default 120s: models load in init). */
  readyTimeoutMs?: number;
  /** An existing NATS server; without it the platform starts its own (store in the state dir). */
  natsUrl?: string;
  logger?: PlatformLogger;
  /** Container replicas (`--isolation container`): where images come from and which runc and umoci to use. */
  containers?: {
    /** Default: built from the revision's bundle on the host base, under the state dir. */
    images?: ContainerImageSource;
    /** Default: found on PATH or in /usr/sbin. */
    runc?: string;
    umoci?: string;
  };
}

/** Where the platform writes what it does. */
export interface PlatformLogger {
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
}

/** A running local platform. */
export interface Platform {
  readonly gatewayUrl: string;
  readonly apiUrl: string;
  readonly token: string;
  readonly store: FunctionStore;
  readonly gateway: Gateway;
  readonly natsUrl: string;
  /** Drains every replica, stops the gateway and the API, and clears platform.json. */
  stop(): Promise<void>;
}

/** Starts the platform and reconciles every stored function; on a failed start, stops what had started. */
export async function startPlatform(options: PlatformOptions): Promise<Platform> {
  const started: Array<() => Promise<unknown>> = [];
  try {
    return await startParts(options, started);
  } catch (error) {
    // A failed start (a busy port, a missing nats-server) must not leave a nats-server or
    // replicas behind, nor keep this process alive.
    for (const stop of started.reverse()) await stop().catch(() => {});
    throw error;
  }
}

async function startParts(options: PlatformOptions, started: Array<() => Promise<unknown>>): Promise<Platform> {
  const host = options.host ?? "127.0.0.1";
  const logger = options.logger ?? consoleLogger;
  await checkNotRunning(options.stateDir);
  const token = await ensureToken(options.stateDir);
  const store = await openFileStore({ stateDir: options.stateDir });
  started.push(() => store.close());
  for (const problem of store.problems()) logger.warn(`skipped unreadable state: ${problem.file}: ${problem.message}`);
  const logs = new LogHub();
  const backendOptions = {
    stateDir: options.stateDir,
    host,
    // Replicas exit on their own if this process is SIGKILLed (see runtime/server.ts).
    // The log file adds its own timestamp, so replicas leave theirs out.
    platformEnv: { SKIFF_PARENT_PID: String(process.pid), SKIFF_LOG_TIME: "0" },
    logger,
    onLog: (line: Parameters<LogHub["publish"]>[0]) => logs.publish(line),
  };
  const runcRoot = containerDirs(options.stateDir).runc;
  const backend = makeBackendSet({
    process: startProcessBackend(backendOptions),
    startContainers: () => {
      const { images, runc, umoci } = options.containers ?? {};
      return startContainerBackend({ ...backendOptions, images: images ?? makeContainerImages(options.stateDir), ...(runc && { runc }), ...(umoci && { umoci }) });
    },
    hasContainerState: () => readdirSync(runcRoot, { withFileTypes: true }).some((entry) => entry.isDirectory()),
  });
  started.push(() => backend.stop());
  const routes = new StoreRouteTable();
  const nats = options.natsUrl ? undefined : await startNatsServer({ stateDir: options.stateDir, host, logger });
  if (nats) started.push(() => nats.stop());
  const natsUrl = options.natsUrl ?? nats!.url;
  let gateway: Gateway | undefined;
  let events: PlatformEvents | undefined;
  const scalers = new RevisionScalers({
    backend,
    logger,
    concurrency: (rev) => gateway?.concurrency(rev) ?? 0,
    // Waiting events wake an event-only function from zero and scale it with the backlog (as KEDA does).
    extraDemand: (rev) => (routes.resolve(rev.fn)?.mainRevision === rev.id ? (events?.lag(rev.fn) ?? 0) : 0),
  });
  gateway = await startGateway({
    host,
    port: options.port ?? 8080,
    routes,
    endpoints: {
      ready: (rev) => backend.replicas(rev).filter((r) => r.phase === "ready").map(({ id, url }) => ({ id, url })),
      onChange: (listener) => backend.onChange(() => listener()),
    },
    onDemand: (rev) => scalers.poke(rev),
    allowEventOnly: makeAllowEventOnly(token),
    logger,
  });
  started.push(() => gateway!.stop());
  const gatewayUrl = gateway.url;
  events = await startPlatformEvents({ natsUrl, gateway, logger });
  started.push(() => events!.stop());
  const reconcileEvents = async () => events!.reconcile(await store.listFunctions());
  const reconcile = (name: string, record: Parameters<StoreRouteTable["update"]>[0] | undefined) => {
    if (!record) {
      routes.remove(name);
      scalers.remove(name);
      return;
    }
    routes.update(record);
    scalers.reconcile(record);
  };
  const unwatch = store.watch((event) => {
    reconcile(event.name, event.record);
    void reconcileEvents();
  });
  started.push(async () => {
    unwatch();
    scalers.stop();
  });
  for (const record of await store.listFunctions()) reconcile(record.name, record);
  await reconcileEvents();
  const ops = makePlatformOps({
    store,
    backend,
    scalers,
    logs,
    stateDir: options.stateDir,
    readyTimeoutMs: options.readyTimeoutMs ?? 120_000,
    gatewayUrl: () => gatewayUrl,
    events,
    onDeleted: (name) => removeFunctionImages(options.stateDir, name),
  });
  const api = makeControlApi(ops, { token, tokenFile: join(options.stateDir, "token"), onError: (error) => logger.error("control API error", { error: String((error as Error)?.stack ?? error) }) });
  const apiServer = await listen(api.fetch, host, options.apiPort ?? 0);
  const apiUrl = `http://${host}:${apiServer.port}`;
  await writePlatformInfo(options.stateDir, { pid: process.pid, apiUrl, gatewayUrl, natsUrl, startedAtMs: Date.now() });
  let stopping: Promise<void> | undefined;
  return {
    gatewayUrl,
    apiUrl,
    token,
    store,
    gateway,
    natsUrl,
    stop: () =>
      (stopping ??= (async () => {
        unwatch();
        // Dispatchers first: deliveries in flight finish through the gateway before replicas drain.
        await events!.stop();
        scalers.stop();
        await Promise.all([backend.stop(), gateway!.stop()]);
        await nats?.stop();
        await new Promise<void>((resolve) => apiServer.server.close(() => resolve()));
        await store.close();
        await clearPlatformInfo(options.stateDir);
      })()),
  };
}

const consoleLogger: PlatformLogger = {
  info: (msg, fields) => console.log(msg, fields ?? ""),
  warn: (msg, fields) => console.warn(msg, fields ?? ""),
  error: (msg, fields) => console.error(msg, fields ?? ""),
};

function listen(fetch: (req: Request) => Response | Promise<Response>, hostname: string, port: number) {
  return new Promise<{ server: ReturnType<typeof serve>; port: number }>((resolve, reject) => {
    const server = serve({ fetch, hostname, port }, (info: AddressInfo) => resolve({ server, port: info.port }));
    server.once("error", reject);
  });
}
