// One nats-server process: spawn, learn its port, wait until it takes connections (and
// JetStream requests), and terminate. The supervisor (server.ts) decides when to (re)launch.
import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { readdir, readFile } from "node:fs/promises";
import type { Writable } from "node:stream";
import { join } from "node:path";
import { jetstreamManager } from "@nats-io/jetstream";
import { connect } from "@nats-io/transport-node";
import { NatsServerStartError } from "./errors.ts";
import type { OutputSink } from "./output.ts";

/** What to launch. `port` 0 lets nats-server pick (-p -1); its ports file then says which. */
export interface LaunchSpec {
  bin: string;
  host: string;
  port: number;
  storeDir: string;
  sink: OutputSink;
  readyTimeoutMs: number;
}

/** A launched, ready nats-server. */
export interface ServerProcess {
  child: ChildProcess;
  pid: number;
  port: number;
  /** Resolves when the process has exited. */
  exited: Promise<void>;
  /** The watchdog that kills the server if this (the parent) process dies without stopping it. */
  watchdog: ChildProcess;
}

const POLL_MS = 25;
const STOP_TIMEOUT_MS = 10_000;

/** The URL clients use for a server listening on host:port (a wildcard host means loopback). */
export function makeNatsUrl(host: string, port: number): string {
  const reachable = host === "0.0.0.0" || host === "" ? "127.0.0.1" : host === "::" ? "::1" : host;
  return `nats://${reachable.includes(":") ? `[${reachable}]` : reachable}:${port}`;
}

/** Spawns nats-server with JetStream on storeDir and resolves once it is ready; `onSpawn` sees the child at once. */
export async function launchServer(spec: LaunchSpec, onSpawn: (child: ChildProcess) => void): Promise<ServerProcess> {
  const args = ["-a", spec.host, "-p", String(spec.port === 0 ? -1 : spec.port), "-js", "-sd", spec.storeDir, "--ports_file_dir", spec.storeDir];
  // Detached: its own process group, so a Ctrl-C in the terminal reaches only the platform,
  // which then stops the server itself after draining (instead of losing NATS mid-drain).
  const child = spawn(spec.bin, args, { stdio: ["ignore", "pipe", "pipe"], detached: true });
  const exited = once(child, "exit").then(() => undefined, () => undefined);
  const failed = once(child, "error").then(([error]) => error as Error);
  child.stdout!.setEncoding("utf8").on("data", (chunk: string) => spec.sink.write(chunk));
  child.stderr!.setEncoding("utf8").on("data", (chunk: string) => spec.sink.write(chunk));
  spec.sink.restarted();
  onSpawn(child);
  const gone = Promise.race([exited.then(() => "exited" as const), failed]);
  if (child.pid === undefined) throw startError(spec, `cannot run ${spec.bin}: ${(await failed).message}`);
  const watchdog = startWatchdog(child.pid);
  try {
    // The ports file, written by this very process once it listens, also proves that the
    // connect probe below reaches it and not some other server already on a fixed port.
    const port = await untilReady(() => readPortsFile(spec.storeDir, child.pid!), gone, spec, "to write its ports file");
    if (spec.port && port !== spec.port) throw startError(spec, `nats-server listens on port ${port}, not ${spec.port}`);
    const url = makeNatsUrl(spec.host, port);
    await untilReady(() => acceptsConnections(url), gone, spec, `to accept connections on ${url}`);
    return { child, pid: child.pid, port, exited, watchdog };
  } catch (error) {
    await terminateServer({ child, exited, watchdog });
    throw error;
  }
}

/** Polls `probe` until it yields a value; fails at once if the process exits, or at the deadline. */
async function untilReady<T>(probe: () => Promise<T | undefined>, gone: Promise<"exited" | Error>, spec: LaunchSpec, what: string): Promise<T> {
  const deadline = Date.now() + spec.readyTimeoutMs;
  let ended: "exited" | Error | undefined;
  void gone.then((why) => (ended = why));
  let lastError: unknown;
  for (;;) {
    if (ended) throw startError(spec, ended === "exited" ? "nats-server exited while starting" : `cannot run ${spec.bin}: ${ended.message}`);
    const value = await probe().catch((error: unknown) => ((lastError = error), undefined));
    if (value !== undefined) return value;
    if (Date.now() > deadline) {
      throw startError(spec, `nats-server did not manage ${what} within ${spec.readyTimeoutMs}ms${lastError ? ` (${(lastError as Error).message})` : ""}`);
    }
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
}

function startError(spec: LaunchSpec, message: string): NatsServerStartError {
  const output = spec.sink.tail();
  return new NatsServerStartError(output ? `${message}; its last output:\n${output}` : message);
}

/** The client port from `<bin>_<pid>.ports` (nats-server writes it once listening). */
async function readPortsFile(storeDir: string, pid: number): Promise<number | undefined> {
  const name = (await readdir(storeDir)).find((file) => file.endsWith(`_${pid}.ports`));
  if (!name) return undefined;
  const text = await readFile(join(storeDir, name), "utf8").catch(() => "");
  const url = (JSON.parse(text || "{}") as { nats?: string[] }).nats?.[0];
  const port = url ? Number(new URL(url).port) : NaN;
  return Number.isInteger(port) && port > 0 ? port : undefined;
}

/** A real connect and a JetStream request: after a restart, JetStream recovers streams before answering. */
async function acceptsConnections(url: string): Promise<true> {
  const nc = await connect({ servers: url, reconnect: false, timeout: 1_000 });
  try {
    await nc.flush();
    await (await jetstreamManager(nc)).getAccountInfo();
    return true;
  } finally {
    await nc.close();
  }
}

/**
 * A `sh` that blocks reading a pipe from this process; when this process dies (even by
 * SIGKILL) the kernel closes the pipe, `read` returns and the shell kills the server. Detached
 * and unreferenced, so it neither sees Ctrl-C nor keeps this process alive.
 */
function startWatchdog(pid: number): ChildProcess {
  // SIGTERM first (JetStream flushes its store), SIGKILL only if it is still there after 10s.
  const script = 'read _ignored; kill -TERM "$1" 2>/dev/null || exit 0; i=0; '
    + 'while kill -0 "$1" 2>/dev/null && [ "$i" -lt 100 ]; do sleep 0.1; i=$((i+1)); done; kill -KILL "$1" 2>/dev/null';
  const watchdog = spawn("/bin/sh", ["-c", script, "skiff-nats-watchdog", String(pid)], { stdio: ["pipe", "ignore", "ignore"], detached: true });
  watchdog.on("error", () => undefined); // no /bin/sh: the pid file is the remaining guard
  watchdog.unref();
  (watchdog.stdin as Writable & { unref?: () => void } | null)?.unref?.();
  return watchdog;
}

/** Stops a server: SIGKILL its watchdog, SIGTERM the server (SIGKILL after 10s), wait for the exit. */
export async function terminateServer(server: Pick<ServerProcess, "child" | "exited" | "watchdog">): Promise<void> {
  // The watchdog goes first: closing its pipe later would make it signal a pid that may be reused.
  server.watchdog.kill("SIGKILL");
  const { child } = server;
  if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
  let timer: NodeJS.Timeout | undefined;
  const hung = new Promise<"hung">((resolve) => (timer = setTimeout(() => resolve("hung"), STOP_TIMEOUT_MS)));
  if ((await Promise.race([server.exited, hung])) === "hung") {
    child.kill("SIGKILL");
    await server.exited;
  }
  clearTimeout(timer);
}
