// Starting and stopping the control-plane binaries: a port race retried, a graceful stop that
// cannot hang, and failure messages that carry the end of the process's log.
import { startProcess, type TestProcess } from "./processes.ts";
import { freePort } from "./ports.ts";
import { waitFor } from "./wait-for.ts";

const PORT_ATTEMPTS = 3;
// A fixed port was just released by the process being replaced: how long "address already in
// use" is retried on it before the launch fails.
const FIXED_PORT_RETRY_MS = 5_000;
const LOG_TAIL_CHARS = 6_000;

/** The last part of a process's output: apiserver logs are long and the end says why it died. */
export function logTail(p: TestProcess): string {
  const out = p.output();
  return out.length > LOG_TAIL_CHARS ? `...${out.slice(-LOG_TAIL_CHARS)}` : out;
}

const hasExited = (p: TestProcess): boolean => p.child.exitCode !== null || p.child.signalCode !== null;

// processes.ts kills them at the file's end; this covers a worker that exits without running
// its hooks, so no apiserver or etcd outlives the test run.
const launched = new Set<TestProcess>();
process.once("exit", () => {
  for (const p of launched) p.kill("SIGKILL");
});

/**
 * Starts a server on freshly picked ports and waits until `ready` says so. freePort() only says a
 * port was free a moment ago, so when the server dies with "address already in use" it is
 * started again on new ports instead of failing the suite. With `fixedPorts` (a restart on the
 * address clients already know) the same ports are retried for a few seconds instead, since
 * the process that held them may only just be letting go.
 */
export async function launchOnFreePorts(options: {
  what: string;
  ports: number;
  command: string;
  args: (ports: number[]) => string[];
  ready: (ports: number[]) => Promise<boolean>;
  timeoutMs: number;
  fixedPorts?: readonly number[];
  /** Kill it at the file's end even when launched inside a test (see startProcess). */
  untilFileEnd?: boolean;
}): Promise<{ process: TestProcess; ports: number[] }> {
  const { fixedPorts } = options;
  if (fixedPorts && fixedPorts.length !== options.ports) throw new Error(`${options.what}: ${options.ports} ports needed, ${fixedPorts.length} given`);
  const started = Date.now();
  for (let attempt = 1; ; attempt++) {
    const ports = fixedPorts ? [...fixedPorts] : await Promise.all(Array.from({ length: options.ports }, () => freePort()));
    const p = startProcess(options.command, options.args(ports), {}, { untilFileEnd: options.untilFileEnd ?? false });
    launched.add(p);
    void p.exited.then(() => launched.delete(p));
    const state = await waitFor(async () => (hasExited(p) ? "exited" : (await options.ready(ports)) && "ready"), {
      what: `${options.what} to become ready`,
      timeoutMs: options.timeoutMs,
      intervalMs: 100,
    }).catch((error: Error) => {
      p.kill("SIGKILL");
      throw new Error(`${error.message}\n--- ${options.what} log ---\n${logTail(p)}`);
    });
    if (state === "ready") return { process: p, ports };
    await p.exited;
    if (/address already in use/i.test(p.output())) {
      if (!fixedPorts && attempt < PORT_ATTEMPTS) continue;
      if (fixedPorts && Date.now() - started < FIXED_PORT_RETRY_MS) {
        await new Promise((resolve) => setTimeout(resolve, 250));
        continue;
      }
    }
    throw new Error(`${options.what} exited (${await p.exited}) before it was ready:\n${logTail(p)}`);
  }
}

/** SIGTERM, then SIGKILL if the process has not exited within `graceMs`. */
export async function stopGracefully(p: TestProcess, graceMs = 5_000): Promise<void> {
  if (hasExited(p)) return;
  p.kill("SIGTERM");
  let timer: NodeJS.Timeout | undefined;
  const hung = new Promise<"hung">((resolve) => (timer = setTimeout(() => resolve("hung"), graceMs)));
  if ((await Promise.race([p.exited, hung])) === "hung") p.kill("SIGKILL");
  clearTimeout(timer);
  await p.exited;
}
