// The container backend: the process backend's supervision with the runc launcher. It keeps its
// state under `<stateDir>/containers/`: runc's state root, the rootfs cache and per-replica
// bundles. Containers a previous run left behind (the platform was SIGKILLed) are removed before
// anything starts.
import { mkdir, readdir, rm } from "node:fs/promises";
import { join } from "node:path";
import type { Revision } from "../../types.ts";
import { type ProcessBackend, type ProcessBackendOptions, startProcessBackend } from "../process/index.ts";
import { type ContainerImageSource, makeContainerLauncher } from "./launcher.ts";
import { type ContainerSupport, checkContainerSupport, findExecutable } from "./preflight.ts";
import { makeRootfsCache } from "./rootfs-cache.ts";
import { type Runc, makeRunc } from "./runc.ts";

/** Settings of startContainerBackend: the process backend's, less the pool, plus the images. */
export interface ContainerBackendOptions extends Omit<ProcessBackendOptions, "pool" | "launcher" | "stateDir"> {
  /** Container state goes to `<stateDir>/containers/`, replica output to `<stateDir>/logs/` as for process replicas. */
  stateDir: string;
  /** The image of each revision. */
  images: ContainerImageSource;
  /** runc and umoci binaries (default: found on PATH or in /usr/sbin). */
  runc?: string;
  umoci?: string;
}

/** A running container backend. */
export interface ContainerBackend extends ProcessBackend {
  /** Resolves once this machine can run containers; rejects with ContainerUnavailableError otherwise. */
  check(): Promise<void>;
  /** Builds and unpacks a revision's image ahead of its first replica (so a deploy's cold start is the container's). */
  prepare(revision: Revision): Promise<void>;
}

/** Folders of the backend's state. */
export function containerDirs(stateDir: string) {
  const root = join(stateDir, "containers");
  return { root, runc: join(root, "runc"), rootfs: join(root, "rootfs"), bundles: join(root, "bundles") };
}

/**
 * Replica env keys that mean nothing in a container: SKIFF_PARENT_PID makes the runtime exit
 * when its parent changes, and in its own pid namespace its parent is always pid 0.
 */
const HOST_ONLY_ENV = ["SKIFF_PARENT_PID"];

/** Starts the backend; preflight and cleanup run at once, and every start waits for them. */
export function startContainerBackend(options: ContainerBackendOptions): ContainerBackend {
  const dirs = containerDirs(options.stateDir);
  const runc = makeRunc(findExecutable(options.runc ?? "runc") ?? options.runc ?? "runc", dirs.runc);
  const rootfs = makeRootfsCache(dirs.rootfs, findExecutable(options.umoci ?? "umoci") ?? "umoci");
  const ready = (async (): Promise<ContainerSupport> => {
    const support = await checkContainerSupport({ ...(options.runc && { runc: options.runc }), ...(options.umoci && { umoci: options.umoci }) });
    await removeLeftovers(runc, dirs.bundles);
    await rootfs.clean();
    return support;
  })();
  ready.catch(() => {}); // reported by check(), prepare() and every replica that tries to start
  const launcher = makeContainerLauncher({ runc, rootfs, images: options.images, bundlesDir: dirs.bundles, ready });
  const platformEnv = Object.fromEntries(Object.entries(options.platformEnv ?? {}).filter(([k]) => !HOST_ONLY_ENV.includes(k)));
  const backend = startProcessBackend({ ...options, platformEnv, launcher, pool: false });
  const stop = backend.stop.bind(backend);
  return Object.assign(backend, {
    check: () => ready.then(() => {}),
    prepare: (revision: Revision) => launcher.prepare(revision),
    // Cleanup of leftovers may still run when the platform stops early; let it finish first.
    stop: async () => {
      await ready.catch(() => {});
      await stop();
    },
  });
}

/** Deletes every container in our runc root and every leftover bundle folder. */
async function removeLeftovers(runc: Runc, bundlesDir: string): Promise<void> {
  await mkdir(runc.root, { recursive: true });
  for (const id of await runc.list()) await runc.remove(id);
  await mkdir(bundlesDir, { recursive: true });
  for (const name of await readdir(bundlesDir)) await rm(join(bundlesDir, name), { recursive: true, force: true });
}
