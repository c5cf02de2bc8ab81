// How a replica's process comes to be and is stopped: spawned fresh with node, taken from the
// warm pool, or (the container backend) started by a container runtime. Everything around it
// (port discovery, readiness, drain timing, crash backoff, logs) is the same for all of them and
// lives in replica-process.ts and process-backend.ts.
import { type ChildProcess, spawn } from "node:child_process";
import { join } from "node:path";
import type { Revision } from "../../types.ts";
import { type PoolWorker, canRunPooled, killGroup } from "./pool-worker-process.ts";

/** What a launcher is asked to start. */
export interface LaunchRequest {
  replicaId: string;
  revision: Revision;
  /** The replica's whole environment (makeReplicaEnv): nothing of the host's beyond PATH. */
  env: Record<string, string>;
}

/** Exit status as code or signal. */
export interface ExitStatus {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** A started replica process and how to stop it. */
export interface LaunchedReplica {
  /** The process whose exit is the replica's exit; its stdout and stderr are piped. */
  readonly child: ChildProcess;
  /** True when it runs in a pre-started pool worker. */
  readonly pooled: boolean;
  /** The process that runs the function, once known (for a container: its init on the host). */
  pid(): number | undefined;
  /** Called once every listener is on the child: a pool worker loads the bundle only then. */
  begin(): void;
  /** Asks the function to drain (SIGTERM). */
  terminate(): void;
  /** Kills everything the replica runs, now; safe in a process "exit" hook (synchronous or detached work only). */
  kill(): void;
  /** The child's exit as the function's (a container runtime reports a death by signal as 128+n). */
  exitStatus(code: number | null, signal: NodeJS.Signals | null): ExitStatus;
  /** Why the start failed, when the launcher saw it (a runtime's error line); shown with the exit. */
  failure(): string | undefined;
  /** Frees what the replica held once it exited (stray processes, a container's state); never rejects. */
  release(): Promise<void>;
}

/** Starts replica processes. */
export interface ReplicaLauncher {
  /** Slow work before a revision's replicas can spawn (an image to unpack); a drain meanwhile cancels the start. */
  prepare?(revision: Revision): Promise<void>;
  /** Spawns the replica; throws when it cannot even try. */
  spawn(request: LaunchRequest): LaunchedReplica;
}

/** Replicas as node processes, from a warm pool worker when one is free and the env allows it. */
export function makeNodeLauncher(options: { takeWorker?: () => PoolWorker | undefined } = {}): ReplicaLauncher {
  return {
    spawn({ replicaId, revision, env }) {
      const bundlePath = join(revision.bundleDir, "index.mjs");
      const worker = canRunPooled(env) ? options.takeWorker?.() : undefined;
      // detached: the replica leads its own process group, so a terminal's Ctrl-C reaches only
      // the platform (which drains replicas in order) and SIGKILL can take grandchildren along.
      // Pool workers were spawned the same way.
      const child = worker?.child ?? spawn(process.execPath, ["--enable-source-maps", bundlePath], {
        cwd: revision.bundleDir,
        env,
        stdio: ["ignore", "pipe", "pipe"],
        detached: true,
      });
      const killAll = () => child.pid !== undefined && killGroup(child.pid);
      return {
        child,
        pooled: worker !== undefined,
        pid: () => child.pid,
        begin: () => worker?.assign({ bundlePath, cwd: revision.bundleDir, env, title: `skiff-replica ${replicaId}` }),
        terminate: () => void child.kill("SIGTERM"),
        kill: killAll,
        exitStatus: (code, signal) => ({ code, signal }),
        failure: () => undefined,
        // Take down anything the replica left behind in its group (a model server it spawned).
        release: async () => void killAll(),
      };
    },
  };
}
