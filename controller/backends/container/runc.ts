// The thin shell over the runc binary: every command runs against the platform's own state root
// (`runc --root`), so listing and cleaning up touch only containers this platform made.
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { promisify } from "node:util";
import { FALLBACK_PATH } from "../process/index.ts";

/** runc commands against one state root. */
export interface Runc {
  readonly binary: string;
  readonly root: string;
  /** `runc run` in the foreground: it forwards signals to the container and exits with it (then deletes it). */
  run(id: string, bundleDir: string, pidFile: string): ChildProcess;
  /** Sends a signal to a container's init, without waiting (detached: safe in an exit hook). */
  signal(id: string, signal: "KILL" | "TERM"): void;
  /** Kills and deletes a container; one that does not exist is not an error. */
  remove(id: string): Promise<void>;
  /** Ids of the containers in the root. */
  list(): Promise<string[]>;
}

// runc gets a PATH and nothing else of the platform's environment (NOTIFY_SOCKET would make it
// speak sd_notify; the container's env comes from config.json alone).
const runcEnv = () => ({ PATH: process.env.PATH || FALLBACK_PATH });

/** A Runc for `binary` with state under `root`. */
export function makeRunc(binary: string, root: string): Runc {
  const exec = (args: string[]) => promisify(execFile)(binary, ["--root", root, ...args], { env: runcEnv(), timeout: 30_000 });
  return {
    binary,
    root,
    run: (id, bundleDir, pidFile) =>
      // detached, as process replicas: a terminal's Ctrl-C reaches the platform only, which drains in order.
      spawn(binary, ["--root", root, "run", "--bundle", bundleDir, "--pid-file", pidFile, id], { stdio: ["ignore", "pipe", "pipe"], env: runcEnv(), detached: true }),
    signal(id, signal) {
      const child = spawn(binary, ["--root", root, "kill", id, signal], { stdio: "ignore", env: runcEnv(), detached: true });
      child.once("error", () => {}); // a vanished binary or container: nothing left to signal
      child.unref();
    },
    async remove(id) {
      try {
        await exec(["delete", "--force", id]);
      } catch (error) {
        if (!/does not exist|not exist|no such file/i.test(String((error as { stderr?: string }).stderr ?? error))) throw error;
      }
    },
    async list() {
      const { stdout } = await exec(["list", "--quiet"]);
      return stdout.split("\n").map((l) => l.trim()).filter(Boolean);
    },
  };
}

/**
 * The message of a runc error line (`time="..." level=error msg="runc run failed: ..."`), or
 * undefined for any other line. runc quotes msg Go-style, close enough to JSON to unquote with it.
 */
export function parseRuncError(line: string): string | undefined {
  if (!/\blevel=(error|fatal)\b/.test(line)) return undefined;
  const quoted = /\bmsg="((?:[^"\\]|\\.)*)"/.exec(line);
  if (!quoted) return /\bmsg=(\S+)/.exec(line)?.[1];
  try {
    return JSON.parse(`"${quoted[1]}"`) as string;
  } catch {
    return quoted[1];
  }
}
