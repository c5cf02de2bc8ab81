// Child processes for tests: output captured, and every one killed when the test ends.
import { spawn, type ChildProcess, type SpawnOptions } from "node:child_process";
import { once } from "node:events";
import { fileURLToPath } from "node:url";
import { afterAll, onTestFinished } from "vitest";

/** Repository root. */
export const REPO_ROOT = fileURLToPath(new URL("../..", import.meta.url));
/** The `skiff` command's entry. */
export const SKIFF_BIN = fileURLToPath(new URL("../../bin/skiff.mjs", import.meta.url));

/** A child started by a test. */
export interface TestProcess {
  readonly child: ChildProcess;
  /** stdout and stderr so far, interleaved. */
  output(): string;
  /** Resolves with the exit code (or the signal name). */
  readonly exited: Promise<number | string>;
  kill(signal?: NodeJS.Signals): void;
}

const startedOutsideTests = new Set<TestProcess>();
afterAll(async () => {
  for (const p of startedOutsideTests) p.kill("SIGKILL");
  await Promise.all([...startedOutsideTests].map((p) => p.exited));
});

/** Kills the process when the current test ends, or when the file ends if started in a hook (or `untilFileEnd`). */
function killAtEndOfScope(handle: TestProcess, untilFileEnd: boolean): void {
  if (untilFileEnd) {
    startedOutsideTests.add(handle);
    return;
  }
  try {
    onTestFinished(async () => {
      handle.kill("SIGKILL");
      await handle.exited;
    });
  } catch {
    // Not inside a test (beforeAll): the file's afterAll cleans up.
    startedOutsideTests.add(handle);
  }
}

/**
 * Spawns a command; it is SIGKILLed at the end of the test (or file) that started it.
 * `untilFileEnd`: at the end of the file even when started inside a test (a server that a test
 * restarts in place of one started in beforeAll).
 */
export function startProcess(command: string, args: string[], options: SpawnOptions = {}, { untilFileEnd = false }: { untilFileEnd?: boolean } = {}): TestProcess {
  const child = spawn(command, args, { stdio: ["ignore", "pipe", "pipe"], ...options });
  let output = "";
  child.stdout?.on("data", (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on("data", (chunk: Buffer) => (output += chunk.toString()));
  const exited = once(child, "exit").then(([code, signal]) => (code ?? signal) as number | string);
  const handle: TestProcess = {
    child,
    output: () => output,
    exited,
    kill: (signal = "SIGTERM") => {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    },
  };
  killAtEndOfScope(handle, untilFileEnd);
  return handle;
}

/** Runs the `skiff` CLI to completion and returns its exit code and output. */
export async function runSkiff(args: string[], options: SpawnOptions = {}): Promise<{ code: number | string; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [SKIFF_BIN, ...args], { stdio: ["ignore", "pipe", "pipe"], cwd: REPO_ROOT, ...options });
  let stdout = "";
  let stderr = "";
  child.stdout?.on("data", (c: Buffer) => (stdout += c.toString()));
  child.stderr?.on("data", (c: Buffer) => (stderr += c.toString()));
  const [code, signal] = await once(child, "exit");
  return { code: (code ?? signal) as number | string, stdout, stderr };
}
