// Shared pieces of the benchmark suites: servers as child processes, load with autocannon,
// and boot-to-first-response timing.
import autocannon from "autocannon";
import { spawn, type ChildProcess } from "node:child_process";
import { createConnection } from "node:net";
import { request } from "node:http";

/** Starts a node script on a port; resolves once it answers 200 on `path`. */
export async function startServer(script: string, port: number, env: Record<string, string> = {}, path = "/"): Promise<ChildProcess> {
  const child = spawn(process.execPath, [script], { env: { PATH: process.env.PATH ?? "", ...env, PORT: String(port), HOST: "127.0.0.1" }, stdio: ["ignore", "ignore", "inherit"] });
  await firstResponseMs(port, path, child);
  return child;
}

/** Stops a child and waits for it. */
export async function stopServer(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = new Promise((r) => child.once("exit", r));
  child.kill("SIGKILL");
  await exited;
}

/** Milliseconds from now until GET `path` first answers 200, polling as fast as connections allow. */
export async function firstResponseMs(port: number, path: string, child: ChildProcess, started = performance.now()): Promise<number> {
  for (;;) {
    if (child.exitCode !== null) throw new Error(`server exited with ${child.exitCode} before answering`);
    if ((await tryGet(port, path)) === 200) return performance.now() - started;
    await new Promise((r) => setImmediate(r));
  }
}

function tryGet(port: number, path: string): Promise<number> {
  return new Promise((resolve) => {
    const req = request({ host: "127.0.0.1", port, path, agent: false }, (res) => {
      res.resume();
      res.on("end", () => resolve(res.statusCode ?? 0));
    });
    req.on("error", () => resolve(0));
    req.end();
  });
}

/** Checks that nothing listens on the port yet (so a boot measurement starts from nothing). */
export function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: "127.0.0.1", port });
    socket.once("connect", () => (socket.destroy(), resolve(false)));
    socket.once("error", () => resolve(true));
  });
}

/** Requests per second (mean) and latency percentiles for a fixed-duration load. */
export async function load(url: string, options: { connections: number; durationS: number }) {
  const result = await autocannon({ url, connections: options.connections, duration: options.durationS, pipelining: 1 });
  if (result.non2xx > 0 || result.errors > 0) throw new Error(`load on ${url} saw ${result.non2xx} non-2xx and ${result.errors} errors`);
  return { rps: result.requests.average, p50Ms: result.latency.p50, p99Ms: result.latency.p99, requests: result.requests.total };
}

/** Median of a list. */
export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** Rounds to 2 decimals for printing. */
export const round2 = (n: number) => Math.round(n * 100) / 100;
