// A nats-server left behind by a platform that was SIGKILLed. Node cannot ask the kernel to
// kill a child when the parent dies (no prctl), so besides the watchdog (launch.ts) the
// platform records the server's pid in <storeDir>/nats.pid; the next start kills a server
// still running from that file before starting its own, as two servers writing one JetStream
// store would corrupt it. A pid is only killed when its command line shows nats-server on this
// store dir, so a reused pid of an unrelated process is left alone.
import { execFile } from "node:child_process";
import { readdir, readFile, rm } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";
import { writeFileAtomic } from "../store/index.ts";

const run = promisify(execFile);
const EXIT_WAIT_MS = 5_000;

/** The pid file of a store dir's nats-server. */
export function pidFilePath(storeDir: string): string {
  return join(storeDir, "nats.pid");
}

/** Records the running server's pid. */
export async function writePidFile(storeDir: string, pid: number): Promise<void> {
  await writeFileAtomic(pidFilePath(storeDir), `${pid}\n`);
}

/** Removes the pid file (on a clean stop). */
export async function removePidFile(storeDir: string): Promise<void> {
  await rm(pidFilePath(storeDir), { force: true });
}

/** Whether a command line (argv) is nats-server serving `storeDir`. */
export function isServerOf(argv: string[], storeDir: string): boolean {
  const at = argv.findIndex((arg) => arg === "-sd" || arg === "--store_dir");
  return at > 0 && argv[at + 1] === storeDir && argv.includes("-js");
}

/** Kills the server recorded in the pid file if it still runs on this store dir; returns its pid if it did. */
export async function killLeftoverServer(storeDir: string): Promise<number | undefined> {
  const text = await readFile(pidFilePath(storeDir), "utf8").catch(() => "");
  const pid = Number(text.trim());
  await removeStalePortFiles(storeDir);
  if (!Number.isSafeInteger(pid) || pid <= 1 || pid === process.pid) return undefined;
  const argv = await commandLineOf(pid);
  if (!argv || !isServerOf(argv, storeDir)) {
    await removePidFile(storeDir);
    return undefined;
  }
  await killAndWait(pid);
  await removePidFile(storeDir);
  return pid;
}

/** argv of a running process (Linux /proc, else ps), undefined when it does not run. */
async function commandLineOf(pid: number): Promise<string[] | undefined> {
  const proc = await readFile(`/proc/${pid}/cmdline`, "utf8").catch(() => undefined);
  if (proc !== undefined) return proc.split("\0").filter((arg) => arg !== "");
  if (process.platform === "linux") return undefined;
  // No /proc (macOS): ps prints the arguments joined by spaces, good enough for our own paths.
  const out = await run("ps", ["-o", "args=", "-p", String(pid)]).catch(() => undefined);
  return out?.stdout.trim() ? out.stdout.trim().split(/\s+/) : undefined;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** SIGTERM (nats-server shuts JetStream down cleanly on it), SIGKILL if it lingers. */
async function killAndWait(pid: number): Promise<void> {
  const signal = (name: NodeJS.Signals) => {
    try {
      process.kill(pid, name);
    } catch {
      // Gone already.
    }
  };
  signal("SIGTERM");
  const deadline = Date.now() + EXIT_WAIT_MS;
  while (alive(pid) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
  if (!alive(pid)) return;
  signal("SIGKILL");
  const killDeadline = Date.now() + EXIT_WAIT_MS;
  while (alive(pid) && Date.now() < killDeadline) await new Promise((resolve) => setTimeout(resolve, 20));
}

/** Port files (--ports_file_dir) of servers that were killed before they could remove them. */
async function removeStalePortFiles(storeDir: string): Promise<void> {
  const names = await readdir(storeDir).catch(() => [] as string[]);
  await Promise.all(names.filter((name) => name.endsWith(".ports")).map((name) => rm(join(storeDir, name), { force: true })));
}
