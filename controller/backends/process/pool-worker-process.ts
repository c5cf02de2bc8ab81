// The parent's side of one pool worker (pool-worker.mjs): how it is spawned, which replicas may
// run in one, and the one-shot assignment that turns it into a replica.
import { type ChildProcess, spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { FALLBACK_PATH } from "./env.ts";

/** The worker script; plain JS because replicas run under plain `node`. */
export const POOL_WORKER_SCRIPT = fileURLToPath(new URL("./pool-worker.mjs", import.meta.url));

/** What a worker needs to become a replica; `env` is exactly the env a fresh replica would get. */
export interface WorkerAssignment {
  bundlePath: string;
  cwd: string;
  env: Record<string, string>;
  /** Process title shown by ps. */
  title: string;
}

/** A warm worker handed out by the pool: its process, and the assignment it takes once. */
export interface PoolWorker {
  readonly child: ChildProcess;
  /** Sends the assignment; a worker that cannot receive it is killed, so its exit reports the failed start. */
  assign(assignment: WorkerAssignment): void;
}

/**
 * Spawns a worker as a fresh replica is spawned (own process group, piped output, source maps),
 * plus an IPC channel, with an env holding nothing a replica would not get: the host's PATH and
 * NODE_ENV only. It finds its parent through its ppid, so not even SKIFF_PARENT_PID is needed.
 */
export function spawnPoolWorker(options: { hostPath?: string } = {}): ChildProcess {
  return spawn(process.execPath, ["--enable-source-maps", POOL_WORKER_SCRIPT], {
    env: { PATH: options.hostPath || FALLBACK_PATH, NODE_ENV: "production" },
    stdio: ["ignore", "pipe", "pipe", "ipc"],
    detached: true,
  });
}

/** Makes the handle take() returns for a worker that said it is warm. */
export function makePoolWorker(child: ChildProcess): PoolWorker {
  return {
    child,
    assign(assignment) {
      child.send(assignment, (error) => {
        if (error && child.pid !== undefined) killGroup(child.pid);
      });
    },
  };
}

// Node, libuv, glibc and OpenSSL read these once at process start; a worker started before the
// function was known cannot honour them, so such a replica is spawned fresh instead.
const STARTUP_KEY = /^(NODE_(?!ENV$)|UV_|LD_|OPENSSL_|SSL_CERT_|MALLOC_)/;

/** Whether a replica with this env behaves the same in a pre-started worker as in a fresh process. */
export function canRunPooled(env: Record<string, string>): boolean {
  return !Object.keys(env).some((key) => STARTUP_KEY.test(key));
}

/** SIGKILLs a worker's whole process group (it leads one); a gone group is not an error. */
export function killGroup(pid: number): void {
  try {
    process.kill(-pid, "SIGKILL");
  } catch {
    // ESRCH: already gone.
  }
}
