// Can this machine run container replicas? Checked once per backend, before anything runs, so
// a deploy fails with what is missing and how to get it rather than with a crash loop.
import { execFile } from "node:child_process";
import { accessSync, constants, existsSync, readFileSync } from "node:fs";
import { delimiter, join } from "node:path";
import { promisify } from "node:util";
import { ContainerUnavailableError } from "./errors.ts";

/** What the machine offers beyond running containers at all. */
export interface ContainerSupport {
  runc: string;
  umoci: string;
  /** A memory controller exists, so a replica's memory limit is enforced. */
  memoryLimits: boolean;
  /** Swap is accounted per cgroup, so the limit can include swap. */
  swapLimits: boolean;
}

/** Where to look for tools besides PATH: runc is in /usr/sbin, often off a user's PATH. */
const EXTRA_DIRS = ["/usr/local/sbin", "/usr/sbin", "/sbin", "/usr/bin"];

/** The executable `name` (an absolute path is taken as is), or undefined. */
export function findExecutable(name: string, path = process.env.PATH ?? ""): string | undefined {
  const candidates = name.includes("/") ? [name] : [...path.split(delimiter).filter(Boolean), ...EXTRA_DIRS].map((dir) => join(dir, name));
  return candidates.find((file) => {
    try {
      accessSync(file, constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}

/** Facts about the cgroup filesystem, read by memoryControllers. */
export interface CgroupFacts {
  /** Contents of /sys/fs/cgroup/cgroup.controllers (cgroup v2), if present. */
  v2Controllers?: string;
  v1Memory: boolean;
  v1MemorySwap: boolean;
}

/** Whether memory (and swap) limits can be enforced, from cgroup v2 controllers or the v1 memory hierarchy. */
export function memoryControllers(facts: CgroupFacts): { memory: boolean; swap: boolean } {
  if (facts.v2Controllers !== undefined) {
    const memory = facts.v2Controllers.split(/\s+/).includes("memory");
    return { memory, swap: memory };
  }
  return { memory: facts.v1Memory, swap: facts.v1Memory && facts.v1MemorySwap };
}

function readCgroupFacts(): CgroupFacts {
  const v2 = "/sys/fs/cgroup/cgroup.controllers";
  return {
    ...(existsSync(v2) && { v2Controllers: readFileSync(v2, "utf8") }),
    v1Memory: existsSync("/sys/fs/cgroup/memory/memory.limit_in_bytes"),
    v1MemorySwap: existsSync("/sys/fs/cgroup/memory/memory.memsw.limit_in_bytes"),
  };
}

/** Checks runc, umoci and root; rejects with a ContainerUnavailableError saying what to do. */
export async function checkContainerSupport(options: { runc?: string; umoci?: string; uid?: number } = {}): Promise<ContainerSupport> {
  const runc = findExecutable(options.runc ?? "runc");
  if (!runc) throw new ContainerUnavailableError(`runc was not found (looked for ${options.runc ?? "runc"} on PATH and in ${EXTRA_DIRS.join(", ")})`, "install it with `apt-get install runc`");
  const umoci = findExecutable(options.umoci ?? "umoci");
  if (!umoci) throw new ContainerUnavailableError("umoci was not found (it unpacks images into root filesystems)", "install it with `apt-get install umoci`");
  const uid = options.uid ?? process.geteuid?.() ?? 0;
  if (uid !== 0) {
    throw new ContainerUnavailableError(`the platform runs as uid ${uid}, and runc needs root here (namespaces, cgroups, mounts)`, "run `skiff up` as root (e.g. with sudo)");
  }
  try {
    await promisify(execFile)(runc, ["--version"], { timeout: 10_000 });
  } catch (cause) {
    throw new ContainerUnavailableError(`${runc} --version failed (${(cause as Error).message.split("\n")[0]})`, "reinstall runc (`apt-get install --reinstall runc`)", { cause });
  }
  const { memory, swap } = memoryControllers(readCgroupFacts());
  return { runc, umoci, memoryLimits: memory, swapLimits: swap };
}
