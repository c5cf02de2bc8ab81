// Small I/O helpers of a replica's life: the readiness probe, an abortable pause on the
// injected clock, and a free-port probe for replicas that cannot report their own port.
import { Agent, get } from "node:http";
import { createServer } from "node:net";
import type { Clock } from "../../autoscaler/index.ts";

/** Longest a single readiness request may take (a replica busy in a synchronous init answers late). */
export const READY_PROBE_TIMEOUT_MS = 2000;

/** Status of GET <url>/_skiff/ready, or 0 when the replica did not answer. */
export function probeReady(baseUrl: string, agent: Agent, signal: AbortSignal): Promise<number> {
  return new Promise((resolve) => {
    const req = get(`${baseUrl}/_skiff/ready`, { agent, signal, timeout: READY_PROBE_TIMEOUT_MS }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.once("timeout", () => req.destroy());
    req.once("error", () => resolve(0));
  });
}

/** Waits `ms` on the clock; resolves early (never rejects) when `signal` aborts. */
export function pause(clock: Clock, ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const onAbort = () => {
      clock.clearTimeout(handle);
      resolve();
    };
    const handle = clock.setTimeout(() => {
      signal.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal.addEventListener("abort", onAbort, { once: true });
  });
}

/** A port that was free on `host` a moment ago (the OS picks it); racy, so only a fallback. */
export function probeFreePort(host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, host, () => {
      const address = server.address();
      server.close(() => (typeof address === "object" && address ? resolve(address.port) : reject(new Error("no port assigned"))));
    });
  });
}

/** Host part of a replica URL: a wildcard bind is reached over loopback, IPv6 is bracketed. */
export function urlHost(bindHost: string): string {
  if (bindHost === "0.0.0.0" || bindHost === "::" || bindHost === "") return "127.0.0.1";
  return bindHost.includes(":") ? `[${bindHost}]` : bindHost;
}
