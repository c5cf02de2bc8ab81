// Test doubles for the gateway's two platform interfaces, driven by tests that start real
// replica processes, plus a seeded random source for traffic splits.
import { fileURLToPath } from "node:url";
import type { FunctionSpec } from "../../../spec/index.ts";
import { startBuiltReplica, waitReady, type RunningReplica } from "../../../test/harness/replica.ts";
import { onTestFinished } from "vitest";
import { startGateway } from "../gateway.ts";
import type { Endpoint, EndpointSource, GatewayOptions, Route, RouteTable, TrafficTarget } from "../types.ts";

/** The echo fixture: echoes requests, /slow, /stream, /stats (concurrency 2, maxBodySize 8kb). */
export const ECHO_DIR = fileURLToPath(new URL("./echo", import.meta.url));
/** The greeter fixture: answers $GREETING, after ?ms=N (concurrency 50). */
export const GREETER_DIR = fileURLToPath(new URL("./greeter", import.meta.url));

/** An EndpointSource the test edits by hand, as a backend would on readiness changes. */
export class TestEndpoints implements EndpointSource {
  private readonly byRevision = new Map<string, Endpoint[]>();
  private readonly listeners = new Set<() => void>();

  ready(revisionId: string): ReadonlyArray<Endpoint> {
    return this.byRevision.get(revisionId) ?? [];
  }
  onChange(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
  /** Marks a replica ready for a revision. */
  add(revisionId: string, endpoint: Endpoint): void {
    this.byRevision.set(revisionId, [...this.ready(revisionId), endpoint]);
    this.notify();
  }
  /** Marks a replica not ready (draining, exited). */
  remove(revisionId: string, replicaId: string): void {
    this.byRevision.set(revisionId, this.ready(revisionId).filter((e) => e.id !== replicaId));
    this.notify();
  }
  /** Number of change listeners (the gateway unsubscribes on stop). */
  get listenerCount(): number {
    return this.listeners.size;
  }
  private notify(): void {
    for (const listener of this.listeners) listener();
  }
}

/** A RouteTable over a plain object. */
export function makeRoutes(routes: Record<string, Route>): RouteTable {
  return { resolve: (name) => routes[name] };
}

/** One function's route with its spec and traffic targets. */
export function makeRoute(spec: FunctionSpec, targets: TrafficTarget[]): Route {
  return { fn: spec.name, spec, targets };
}

/** Starts a built replica and waits until /_skiff/ready answers 200. */
export async function startReadyReplica(dir: string, env: Record<string, string> = {}): Promise<RunningReplica> {
  const replica = await startBuiltReplica(dir, env);
  await waitReady(replica.url);
  return replica;
}

/** mulberry32: a tiny seeded uniform [0, 1) generator, so split tests are repeatable. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A logger that keeps lines for assertions instead of printing them. */
export function makeMemoryLogger(): { lines: string[]; info(m: string): void; warn(m: string): void; error(m: string): void } {
  const lines: string[] = [];
  return {
    lines,
    info: (m) => lines.push(`INFO ${m}`),
    warn: (m) => lines.push(`WARN ${m}`),
    error: (m) => lines.push(`ERROR ${m}`),
  };
}

/** Options of setupEchoGateway. */
export interface EchoGatewayOptions {
  replicas?: number;
  routes?: Record<string, Route>;
  gateway?: Partial<GatewayOptions>;
}

/**
 * A gateway routing "echo" to `revision` with `replicas` real echo replicas ready; demands
 * (onDemand pokes) are recorded; the gateway stops when the test ends.
 */
export async function setupEchoGateway(spec: FunctionSpec, revision: string, options: EchoGatewayOptions = {}) {
  const endpoints = new TestEndpoints();
  const replicas = await Promise.all(Array.from({ length: options.replicas ?? 1 }, () => startReadyReplica(ECHO_DIR)));
  replicas.forEach((r, i) => endpoints.add(revision, { id: `echo-${i}`, url: r.url }));
  const demands: string[] = [];
  const logger = makeMemoryLogger();
  const gateway = await startGateway({
    routes: makeRoutes({ echo: makeRoute(spec, [{ revision, percent: 100 }]), ...options.routes }),
    endpoints,
    onDemand: (rev) => demands.push(rev),
    logger,
    ...options.gateway,
  });
  onTestFinished(() => gateway.stop());
  return { gateway, endpoints, replicas, demands, logger, url: (path: string) => `${gateway.url}${path}` };
}
