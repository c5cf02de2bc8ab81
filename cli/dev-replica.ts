// One replica process for `skiff dev`: started from a bundle with only the function's declared
// env plus platform variables, watched until ready, stopped with SIGTERM then SIGKILL.
import { spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { Agent } from "node:http";
import { probeReady } from "../controller/backends/process/index.ts";
import type { FunctionSpec } from "../spec/index.ts";

/** A started replica process. */
export interface DevReplica {
  readonly child: ChildProcess;
  /** Resolves when /_skiff/ready answers 200; rejects if the process exits first. */
  readonly ready: Promise<void>;
  stop(graceMs?: number): Promise<void>;
}

/** Starts `node <bundle>` listening on host:port; with logsToStderr its stdout goes to our stderr (keeps --json stdout pure). */
export function startDevReplica(options: { bundlePath: string; spec: FunctionSpec; port: number; host: string; logsToStderr?: boolean }): DevReplica {
  const env: Record<string, string> = {
    ...options.spec.env,
    PORT: String(options.port),
    HOST: options.host,
    NODE_ENV: "development",
    // Dev restarts should be quick; in-flight requests still get a moment to finish.
    SKIFF_DRAIN_GRACE_MS: "2000",
    // If `skiff dev` is killed without a chance to stop it, the replica notices and exits.
    SKIFF_PARENT_PID: String(process.pid),
  };
  if (process.env.PATH) env.PATH = process.env.PATH;
  const child = spawn(process.execPath, ["--enable-source-maps", options.bundlePath], { env, stdio: ["ignore", options.logsToStderr ? 2 : "inherit", "inherit"] });
  const exited = once(child, "exit");
  const ready = waitUntilReady(`http://${options.host}:${options.port}`, exited);
  ready.catch(() => {});
  return {
    child,
    ready,
    async stop(graceMs = 3000) {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), graceMs);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** Polls readiness every 20ms (the process backend's probe; no fixed sleep) until 200 or the process exits. */
async function waitUntilReady(baseUrl: string, exited: Promise<unknown[]>): Promise<void> {
  let gone: unknown[] | undefined;
  void exited.then((value) => (gone = value));
  const agent = new Agent({ keepAlive: false });
  for (;;) {
    if (gone) throw new Error(`replica exited (code ${String(gone[0])}${gone[1] ? `, ${String(gone[1])}` : ""}) before it was ready`);
    if ((await probeReady(baseUrl, agent, AbortSignal.timeout(1000))) === 200) return;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
