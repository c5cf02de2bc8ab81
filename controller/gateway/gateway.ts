// The gateway's server shell: a node:http server (no framework on the proxy hot path), the
// subscription to replica readiness, and the drain on stop.
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { DEFAULT_DRAIN_TIMEOUT_MS, GatewayCore } from "./core.ts";
import { GatewayStoppingError } from "./errors.ts";
import { deliverInternal, handleRequest } from "./handler.ts";
import type { Gateway, GatewayOptions } from "./types.ts";

/** Starts the gateway (activator) and resolves once it listens. */
export async function startGateway(options: GatewayOptions): Promise<Gateway> {
  const core = new GatewayCore(options);
  const server = createServer((req, res) => track(core, handleRequest(core, req, res)));
  // Replica readiness changes re-dispatch waiting requests at once: this is what ends a cold start.
  const unsubscribe = options.endpoints.onChange(() => core.refreshEndpoints());
  const port = await listen(server, options.host ?? "127.0.0.1", options.port ?? 0).catch((error: unknown) => {
    unsubscribe();
    throw error;
  });
  const host = options.host ?? "127.0.0.1";
  let stopping: Promise<void> | undefined;
  return {
    port,
    url: `http://${host.includes(":") ? `[${host}]` : host}:${port}`,
    stop: () => (stopping ??= drain(core, server, unsubscribe, options.drainTimeoutMs ?? DEFAULT_DRAIN_TIMEOUT_MS)),
    concurrency: (revisionId) => core.concurrency(revisionId),
    stats: (revisionOrFn) => core.stats(revisionOrFn),
    metricsText: () => core.metricsText(),
    deliverInternal: (fnName, request) => {
      const work = deliverInternal(core, fnName, request);
      // Drain waits for these like for HTTP requests; the caller gets the outcome itself.
      track(core, work.then(() => undefined, () => undefined));
      return work;
    },
  };
}

/** Remembers a request until it is answered, so stop() can wait for it. */
function track(core: GatewayCore, work: Promise<void>): void {
  core.pending.add(work);
  work.then(
    () => core.pending.delete(work),
    (error: unknown) => {
      // handleRequest never rejects by design; if it does, the bug must not take the server down.
      core.pending.delete(work);
      core.logger.error("request handling failed", { error: String(error) });
    },
  );
}

function listen(server: Server, host: string, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      server.off("error", reject);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

/**
 * Stop order: refuse new requests (close the listener; requests on open keep-alive connections
 * get 503), let in-flight and queued ones finish while replicas still come and go, then fail
 * what is left, cut the remaining connections and close the agents.
 */
async function drain(core: GatewayCore, server: Server, unsubscribe: () => void, drainTimeoutMs: number): Promise<void> {
  core.stopping = true;
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  server.closeIdleConnections();
  await settleWithin(core, drainTimeoutMs);
  unsubscribe();
  for (const entry of core.revisions.values()) entry.dispatcher.close(new GatewayStoppingError());
  // The queued requests just failed answer at once; give them a moment to write their 503.
  await settleWithin(core, 1000);
  server.closeAllConnections();
  core.pool.destroyAll();
  await closed;
}

/** Resolves when every tracked request is done, or after `ms` (real time: an injected test clock may never move). */
async function settleWithin(core: GatewayCore, ms: number): Promise<void> {
  if (core.pending.size === 0) return;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<void>((resolve) => (timer = setTimeout(resolve, ms)));
  await Promise.race([Promise.allSettled([...core.pending]), timeout]);
  clearTimeout(timer);
}
