// Builds a function directory with the real builder and runs its bundle as a real process.
import { loadAndBuild } from "../../cli/build-function.ts";
import { freePort } from "./ports.ts";
import { startProcess, type TestProcess } from "./processes.ts";
import { waitFor } from "./wait-for.ts";

/** A replica process under test. */
export interface RunningReplica extends TestProcess {
  readonly url: string;
}

/** Builds `dir` and starts its bundle on a free loopback port; waits until it listens (not until ready). */
export async function startBuiltReplica(dir: string, env: Record<string, string> = {}): Promise<RunningReplica> {
  const build = await loadAndBuild(dir);
  const port = await freePort();
  const proc = startProcess(process.execPath, ["--enable-source-maps", build.bundlePath], {
    env: { ...build.spec.env, PATH: process.env.PATH ?? "", PORT: String(port), HOST: "127.0.0.1", ...env },
  });
  const url = `http://127.0.0.1:${port}`;
  await waitFor(async () => (await fetch(`${url}/_skiff/live`)).ok, { what: `replica of ${dir} to listen`, timeoutMs: 15_000 });
  return { ...proc, url };
}

/** Waits for /_skiff/ready to answer 200. */
export function waitReady(url: string, timeoutMs = 15_000): Promise<boolean> {
  return waitFor(async () => (await fetch(`${url}/_skiff/ready`)).status === 200, { what: `${url} to be ready`, timeoutMs });
}
