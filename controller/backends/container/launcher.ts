// Replicas as runc containers: the process backend's supervision (ports, readiness, drain,
// backoff, logs) around a launcher whose process is `runc run`. runc in the foreground forwards
// SIGTERM to the function and exits with it; a hard kill goes through `runc kill`, and the
// container's state is deleted after every exit.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { rm } from "node:fs/promises";
import { constants } from "node:os";
import { join } from "node:path";
import type { Revision } from "../../types.ts";
import { type LaunchedReplica, type ReplicaLauncher, makeLineSplitter } from "../process/index.ts";
import { type ImageRun, type ImageRunDefaults, parseImageRun } from "./image-run.ts";
import type { ContainerSupport } from "./preflight.ts";
import type { ImageRef, RootfsCache } from "./rootfs-cache.ts";
import { type Runc, parseRuncError } from "./runc.ts";
import { makeRuntimeConfig } from "./runtime-config.ts";

/** An image to run a revision from: where it is, and what its config says about running it. */
export interface ContainerImage extends ImageRef {
  run: ImageRunDefaults;
}

/** Makes (or finds) the image of a revision; the platform builds it from the revision's bundle on a base. */
export type ContainerImageSource = (revision: Revision) => Promise<ContainerImage>;

/** What the launcher works with. */
export interface ContainerLauncherDeps {
  runc: Runc;
  rootfs: RootfsCache;
  images: ContainerImageSource;
  /** Per-replica bundle folders (config.json, pid file). */
  bundlesDir: string;
  /** Preflight and leftover cleanup; nothing starts before it resolves. */
  ready: Promise<ContainerSupport>;
  /** Host files to bind read-only (resolv.conf, hosts), those that exist. */
  hostFiles?: string[];
}

/** A revision ready to spawn: its image, rootfs and run settings. */
interface Prepared {
  image: ContainerImage;
  run: ImageRun;
  rootfs: string;
  support: ContainerSupport;
}

/** The container launcher; `prepare` is also what the backend's prepare() runs ahead of a deploy. */
export function makeContainerLauncher(deps: ContainerLauncherDeps): ReplicaLauncher & { prepare(revision: Revision): Promise<void> } {
  const images = new Map<string, Promise<{ image: ContainerImage; run: ImageRun }>>();
  const prepared = new Map<string, Prepared>();
  const hostFiles = (deps.hostFiles ?? ["/etc/resolv.conf", "/etc/hosts"]).filter((f) => existsSync(f));

  const imageOf = (revision: Revision) => {
    let pending = images.get(revision.id);
    if (!pending) {
      pending = deps.images(revision).then((image) => ({ image, run: parseImageRun(image.run, `${image.layoutDir}:${image.tag}`) }));
      // A failure is not cached: the next start tries again (a full disk may have been freed).
      pending.catch(() => images.delete(revision.id));
      images.set(revision.id, pending);
    }
    return pending;
  };

  return {
    async prepare(revision) {
      const support = await deps.ready;
      const { image, run } = await imageOf(revision);
      // Every start checks the rootfs: an idle one may have been removed since the last.
      const rootfs = await deps.rootfs.ensure(image);
      prepared.set(revision.id, { image, run, rootfs, support });
    },
    spawn({ replicaId, revision, env }) {
      const p = prepared.get(revision.id);
      if (!p) throw new Error(`revision ${revision.id} was not prepared for containers`);
      const bundleDir = join(deps.bundlesDir, replicaId);
      const pidFile = join(bundleDir, "pid");
      mkdirSync(bundleDir, { recursive: true });
      // The image's PATH finds its node; the host's PATH means nothing inside. A declared PATH wins.
      const containerEnv = { ...env, PATH: "PATH" in revision.spec.env ? env.PATH! : (p.run.path ?? env.PATH!) };
      const config = makeRuntimeConfig({
        rootfs: p.rootfs,
        args: p.run.args,
        cwd: p.run.cwd,
        env: containerEnv,
        uid: p.run.uid,
        gid: p.run.gid,
        hostname: revision.fn,
        ...(p.support.memoryLimits && { memoryBytes: revision.spec.resources.memoryBytes, swapLimit: p.support.swapLimits }),
        cgroupsPath: `skiff/${replicaId}`,
        hostFiles,
      });
      writeFileSync(join(bundleDir, "config.json"), JSON.stringify(config));
      const child = deps.runc.run(replicaId, bundleDir, pidFile);
      deps.rootfs.use(p.image.manifestDigest);
      return launchedContainer({ replicaId, child, pidFile, bundleDir, digest: p.image.manifestDigest, deps });
    },
  };
}

function launchedContainer(c: {
  replicaId: string;
  child: ReturnType<Runc["run"]>;
  pidFile: string;
  bundleDir: string;
  digest: string;
  deps: ContainerLauncherDeps;
}): LaunchedReplica {
  let pid: number | undefined;
  let failure: string | undefined;
  // runc says why a container did not start on its stderr; that line explains the exit.
  const watch = makeLineSplitter((line) => (failure ??= parseRuncError(line)));
  c.child.stderr?.on("data", (chunk: Buffer) => watch.push(chunk));
  let released: Promise<void> | undefined;
  return {
    child: c.child,
    pooled: false,
    pid() {
      // runc writes the container's init pid once it runs; read it once.
      if (pid === undefined) pid = Number(readFileSafe(c.pidFile)) || undefined;
      return pid;
    },
    begin: () => {},
    terminate: () => void c.child.kill("SIGTERM"),
    kill: () => c.deps.runc.signal(c.replicaId, "KILL"),
    exitStatus(code, signal) {
      // runc exits 128+n when the container's init died of signal n.
      const name = code !== null && code > 128 ? signalName(code - 128) : undefined;
      return name ? { code: null, signal: name } : { code, signal };
    },
    failure: () => (failure === undefined ? undefined : `runc: ${failure}`),
    release: () =>
      (released ??= (async () => {
        c.deps.rootfs.release(c.digest);
        // Normally gone already (runc run deletes it on exit); not if runc itself was killed.
        await c.deps.runc.remove(c.replicaId).catch(() => {});
        await rm(c.bundleDir, { recursive: true, force: true }).catch(() => {});
      })()),
  };
}

function readFileSafe(path: string): string {
  try {
    return readFileSync(path, "utf8").trim();
  } catch {
    return "";
  }
}

function signalName(n: number): NodeJS.Signals | undefined {
  return (Object.entries(constants.signals) as [NodeJS.Signals, number][]).find(([, v]) => v === n)?.[0];
}
