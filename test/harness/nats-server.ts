// A real nats-server per suite: loopback, a free port, JetStream on a fresh store dir. Never a
// shared or public server. Missing binary: the suite skips with a hint, or fails under CI=true.
import { spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { jetstreamManager } from "@nats-io/jetstream";
import { connect } from "@nats-io/transport-node";
import { afterAll, describe, it } from "vitest";
import { findNatsServer } from "../../controller/nats/index.ts";
import { freePort } from "./ports.ts";
import { waitFor } from "./wait-for.ts";

/** A running nats-server owned by the calling suite. */
export interface NatsServer {
  /** nats://127.0.0.1:<port> */
  readonly url: string;
  readonly port: number;
  /** JetStream store directory; kept across restart() and kill(), removed by stop(). */
  readonly storeDir: string;
  /** Stops gracefully (SIGTERM) and removes the store dir: the end of this server. */
  stop(): Promise<void>;
  /** Stops (if running) and starts again on the same port and store dir, as after an operator restart. */
  restart(): Promise<void>;
  /** SIGKILLs the server, as a crash would; restart() brings it back with its store. */
  kill(): Promise<void>;
  /** The server's stdout and stderr so far, for failure messages. */
  output(): string;
}

const INSTALL_HINT =
  "install it with `apt-get install nats-server` or `go install github.com/nats-io/nats-server/v2@v2.10.24`, " +
  "or point NATS_SERVER_BIN at a binary (CI runs .ci/install-nats-server)";
const READY_TIMEOUT_MS = 15_000;
const STOP_TIMEOUT_MS = 10_000;

const isCI = (): boolean => process.env.CI === "true" || process.env.CI === "1";

/** Where nats-server is (the platform's finder; one implementation for both). */
export { findNatsServer };

/** Whether a suite can start nats-server, and if not, why and how to fix it. */
export function natsServerAvailable(): { ok: true; bin: string } | { ok: false; reason: string } {
  const bin = findNatsServer();
  if (bin) return { ok: true, bin };
  const where = process.env.NATS_SERVER_BIN
    ? `NATS_SERVER_BIN=${process.env.NATS_SERVER_BIN} is not executable`
    : "nats-server not found on PATH, /usr/sbin or ~/go/bin";
  return { ok: false, reason: `${where}: ${INSTALL_HINT}` };
}

/** describe() that needs nats-server: skipped with a console message when missing, failed under CI=true. */
export function describeWithNats(name: string, fn: () => void): void {
  const availability = natsServerAvailable();
  if (!availability.ok && isCI()) {
    // CI must run everything, so a missing tool is a failure there, not a skip.
    describe(name, () => it("needs nats-server", () => { throw new Error(availability.reason); }));
    return;
  }
  if (!availability.ok) console.warn(`skipping "${name}": ${availability.reason}`);
  describe.skipIf(!availability.ok)(name, fn);
}

// Every server a file started, so the file's end (or a crashed worker) never leaves one behind.
const live = new Set<ChildProcess>();
const storeDirs = new Set<string>();
afterAll(async () => {
  await Promise.all([...live].map((child) => terminate(child, "SIGKILL")));
  for (const dir of storeDirs) rmSync(dir, { recursive: true, force: true });
});
process.once("exit", () => {
  for (const child of live) child.kill("SIGKILL");
});

/** Starts nats-server (JetStream on by default) and resolves once it takes connections (and JetStream requests). */
export async function startNatsServer(options: { jetstream?: boolean } = {}): Promise<NatsServer> {
  const availability = natsServerAvailable();
  if (!availability.ok) throw new Error(availability.reason);
  const jetstream = options.jetstream ?? true;
  const port = await freePort();
  const storeDir = mkdtempSync(join(tmpdir(), "skiff-nats-"));
  storeDirs.add(storeDir);
  const url = `nats://127.0.0.1:${port}`;
  const args = ["-a", "127.0.0.1", "-p", String(port), ...(jetstream ? ["-js", "-sd", storeDir] : [])];
  let output = "";
  const launch = async (): Promise<ChildProcess> => {
    const child = spawn(availability.bin, args, { stdio: ["ignore", "pipe", "pipe"] });
    live.add(child);
    child.once("exit", () => live.delete(child));
    child.stdout?.on("data", (chunk: Buffer) => (output += chunk.toString()));
    child.stderr?.on("data", (chunk: Buffer) => (output += chunk.toString()));
    await waitReady(child, url, jetstream, () => output);
    return child;
  };
  let child = await launch();
  return {
    url,
    port,
    storeDir,
    output: () => output,
    stop: async () => {
      await terminate(child, "SIGTERM");
      rmSync(storeDir, { recursive: true, force: true });
      storeDirs.delete(storeDir);
    },
    restart: async () => {
      await terminate(child, "SIGTERM");
      child = await launch();
    },
    kill: () => terminate(child, "SIGKILL"),
  };
}

/** Polls a real connection (no fixed sleep); fails at once, with the server's output, if it exits. */
async function waitReady(child: ChildProcess, url: string, jetstream: boolean, output: () => string): Promise<void> {
  const state = await waitFor(
    async () => {
      if (child.exitCode !== null || child.signalCode !== null) return "exited";
      const nc = await connect({ servers: url, reconnect: false, timeout: 1_000 });
      try {
        await nc.flush();
        // After a restart JetStream recovers its streams before answering API requests.
        if (jetstream) await (await jetstreamManager(nc)).getAccountInfo();
        return "ready";
      } finally {
        await nc.close();
      }
    },
    { what: `nats-server on ${url} to accept connections`, timeoutMs: READY_TIMEOUT_MS, intervalMs: 25 },
  );
  if (state === "exited") throw new Error(`nats-server exited before accepting connections on ${url}:\n${output()}`);
}

/** Sends `signal` and waits for the exit; escalates to SIGKILL if a graceful stop hangs. */
async function terminate(child: ChildProcess, signal: NodeJS.Signals): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, "exit");
  child.kill(signal);
  let timer: NodeJS.Timeout | undefined;
  const hung = new Promise<"hung">((resolve) => (timer = setTimeout(() => resolve("hung"), STOP_TIMEOUT_MS)));
  if ((await Promise.race([exited, hung])) === "hung") {
    child.kill("SIGKILL");
    await exited;
  }
  clearTimeout(timer);
}
