// Shared pieces of the benchmark suites: servers as child processes, load with autocannon,
// and boot-to-first-response timing.
import autocannon from "autocannon";
import { execFile, spawn, spawnSync, type ChildProcess } from "node:child_process";
import { promisify } from "node:util";
import { request } from "node:http";

const has = (tool: string) => spawnSync("sh", ["-c", `command -v ${tool}`]).status === 0;
/** wrk measures the server rather than itself; autocannon (npm) is the fallback where it is missing. */
export const LOAD_TOOL = has("wrk") ? "wrk" : "autocannon";
/** On a 2-core machine, servers run on core 1 and the load tool on core 0, so they don't steal from each other. */
const PIN = has("taskset") && (await import("node:os")).cpus().length >= 2;
const pinned = (core: number, command: string, args: string[]): [string, string[]] =>
  PIN ? ["taskset", ["-c", String(core), command, ...args]] : [command, args];

/** Starts a node script on a port (pinned to the server core); resolves once it answers 200 on `path`. */
export async function startServer(script: string, port: number, env: Record<string, string> = {}, path = "/"): Promise<ChildProcess> {
  const [command, args] = pinned(1, process.execPath, [script]);
  const child = spawn(command, args, { env: { PATH: process.env.PATH ?? "", ...env, PORT: String(port), HOST: "127.0.0.1" }, stdio: ["ignore", "ignore", "inherit"] });
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

/** Requests per second for a fixed-duration closed-loop load with LOAD_TOOL. */
export async function load(url: string, options: { connections: number; durationS: number }): Promise<{ rps: number }> {
  if (LOAD_TOOL === "wrk") {
    const [command, args] = pinned(0, "wrk", ["-t1", `-c${options.connections}`, `-d${options.durationS}s`, url]);
    const { stdout } = await promisify(execFile)(command, args);
    if (/Non-2xx|Socket errors/.test(stdout)) throw new Error(`load on ${url} saw errors:\n${stdout}`);
    const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(stdout)?.[1]);
    if (!Number.isFinite(rps)) throw new Error(`cannot read wrk output:\n${stdout}`);
    return { rps };
  }
  const result = await autocannon({ url, connections: options.connections, duration: options.durationS, pipelining: 1 });
  if (result.non2xx > 0 || result.errors > 0) throw new Error(`load on ${url} saw ${result.non2xx} non-2xx and ${result.errors} errors`);
  return { rps: result.requests.average };
}

/** Median of a list. */
export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** Rounds to 2 decimals for printing. */
export const round2 = (n: number) => Math.round(n * 100) / 100;
