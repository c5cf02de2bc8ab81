// Shared helpers of the builder tests: temporary functions on disk, a spec, and running a
// built bundle as a child process until it answers.
import { spawn, type ChildProcess } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import type { FunctionSpec } from "../../spec/types.ts";

/** A normalized spec with defaults, as spec/ would produce for a minimal function.yaml. */
export function makeSpec(overrides: Partial<FunctionSpec> = {}): FunctionSpec {
  return {
    name: "hello",
    entry: "index.ts",
    http: true,
    events: [],
    scale: { min: 0, max: 1, concurrency: 4, target: 3, windowMs: 60_000, scaleToZeroAfterMs: 30_000 },
    timeoutMs: 30_000,
    maxBodyBytes: 10_000_000,
    env: {},
    assets: [],
    resources: { cpu: "1", cpuMillis: 1000, memory: "1Gi", memoryBytes: 1024 ** 3, gpu: 0 },
    ...overrides,
  };
}

/** Creates a temp dir outside the repository holding `files` (path -> content); returns it. */
export function makeTempFunction(files: Record<string, string | Uint8Array>): string {
  const dir = mkdtempSync(join(tmpdir(), "skiff-builder-test-"));
  writeFiles(dir, files);
  return dir;
}

/** Writes files (path -> content) under `dir`, creating folders. */
export function writeFiles(dir: string, files: Record<string, string | Uint8Array>): void {
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), content);
  }
}

/** Removes a temp dir made by makeTempFunction. */
export function removeDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}

/** A loopback port nobody listens on right now. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** A bundle running as `node <bundle>` on a port, with its output kept for failure messages. */
export interface RunningBundle {
  child: ChildProcess;
  port: number;
  output: () => string;
  stop: () => Promise<void>;
}

/** Starts `node <bundlePath>` with PORT set (and nothing resolvable from the repository's cwd). */
export async function runBundle(bundlePath: string): Promise<RunningBundle> {
  const port = await freePort();
  const child = spawn(process.execPath, [bundlePath], {
    cwd: dirname(bundlePath),
    env: { PATH: process.env.PATH ?? "", PORT: String(port), HOST: "127.0.0.1" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  child.stdout?.on("data", (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on("data", (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
    await exited;
  };
  return { child, port, output: () => output, stop };
}

/** Polls GET url until it answers 200 (or the process dies, or timeoutMs passes). */
export async function waitForOk(url: string, running: RunningBundle, timeoutMs = 10_000): Promise<Response> {
  const deadline = Date.now() + timeoutMs;
  let last = "no answer";
  while (Date.now() < deadline) {
    if (running.child.exitCode !== null) throw new Error(`bundle exited (${running.child.exitCode}) before answering:\n${running.output()}`);
    try {
      const response = await fetch(url, { signal: AbortSignal.timeout(1000) });
      if (response.status === 200) return response;
      last = `status ${response.status}`;
    } catch (error) {
      last = String(error);
    }
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error(`timed out waiting for 200 from ${url} (last: ${last}); output:\n${running.output()}`);
}
