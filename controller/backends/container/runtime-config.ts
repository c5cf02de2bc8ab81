// The OCI runtime config (runtime-spec config.md, as runc 1.1 reads it) of one replica, purely:
// the image's root filesystem shared read-only, a private /tmp, the host's network (the replica
// binds loopback and reports its port as a process replica does), its own pid, ipc, uts and
// mount namespaces, no capabilities, no new privileges, and the function's memory limit.

/** Everything that varies between replicas' configs. */
export interface RuntimeConfigInput {
  /** Absolute path of the unpacked image root (shared by every replica of the image). */
  rootfs: string;
  args: string[];
  cwd: string;
  /** The replica's whole environment. */
  env: Record<string, string>;
  uid: number;
  gid: number;
  hostname: string;
  /** Memory limit in bytes; undefined when the machine has no memory controller to enforce it. */
  memoryBytes?: number;
  /** Whether the kernel accounts swap per cgroup (runc fails to set a swap limit otherwise). */
  swapLimit?: boolean;
  /** cgroup path; relative, so runc nests it under the platform's own cgroup. */
  cgroupsPath: string;
  /** Host files bind-mounted read-only at the same path (resolv.conf, hosts: the host's network needs its names). */
  hostFiles: string[];
}

/** Most processes and threads a replica may have (a fork bomb stops here, Node needs a few dozen). */
export const PIDS_LIMIT = 1024;

const TMPFS_OPTIONS = ["nosuid", "nodev", "mode=1777"];

/** The config.json value for a replica. */
export function makeRuntimeConfig(input: RuntimeConfigInput): Record<string, unknown> {
  const limited = input.memoryBytes !== undefined && input.memoryBytes > 0;
  return {
    ociVersion: "1.0.2",
    process: {
      // No terminal: output goes to runc's own pipes, which the backend reads line by line.
      terminal: false,
      user: { uid: input.uid, gid: input.gid, additionalGids: [input.gid] },
      args: input.args,
      env: Object.entries(input.env).map(([k, v]) => `${k}=${v}`),
      cwd: input.cwd,
      capabilities: { bounding: [], effective: [], permitted: [], inheritable: [], ambient: [] },
      noNewPrivileges: true,
    },
    root: { path: input.rootfs, readonly: true },
    hostname: input.hostname,
    mounts: [
      { destination: "/proc", type: "proc", source: "proc" },
      { destination: "/dev", type: "tmpfs", source: "tmpfs", options: ["nosuid", "strictatime", "mode=755", "size=65536k"] },
      { destination: "/dev/pts", type: "devpts", source: "devpts", options: ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620"] },
      { destination: "/dev/shm", type: "tmpfs", source: "shm", options: ["nosuid", "noexec", "nodev", "mode=1777", "size=65536k"] },
      { destination: "/dev/mqueue", type: "mqueue", source: "mqueue", options: ["nosuid", "noexec", "nodev"] },
      { destination: "/sys", type: "sysfs", source: "sysfs", options: ["nosuid", "noexec", "nodev", "ro"] },
      // The only writable place. Its pages are charged to the replica's memory cgroup, so the
      // memory limit bounds it too.
      { destination: "/tmp", type: "tmpfs", source: "tmpfs", options: limited ? [...TMPFS_OPTIONS, `size=${input.memoryBytes}`] : TMPFS_OPTIONS },
      ...input.hostFiles.map((file) => ({ destination: file, type: "bind", source: file, options: ["rbind", "ro", "nosuid", "nodev", "noexec"] })),
    ],
    linux: {
      // No network namespace: the host's, so the replica's loopback port is the gateway's to reach.
      namespaces: [{ type: "pid" }, { type: "ipc" }, { type: "uts" }, { type: "mount" }],
      resources: {
        devices: [{ allow: false, access: "rwm" }],
        // swap = limit: no swap on top of the memory limit (cgroup v1 memsw counts both).
        ...(limited && { memory: { limit: input.memoryBytes, ...(input.swapLimit && { swap: input.memoryBytes }) } }),
        pids: { limit: PIDS_LIMIT },
      },
      cgroupsPath: input.cgroupsPath,
      maskedPaths: ["/proc/acpi", "/proc/asound", "/proc/kcore", "/proc/keys", "/proc/latency_stats", "/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug", "/proc/scsi", "/sys/firmware"],
      readonlyPaths: ["/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"],
    },
  };
}
