// A throwaway docker-registry (Debian's distribution v2) on loopback for the build suite: anonymous,
// storage in a temp dir, started and stopped by the suite. The tests have a fuller harness
// (test/harness/registry.ts), but it is tied to vitest's lifecycle.
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { stringify } from "yaml";
import { freePort } from "../test/harness/ports.ts";

/** A running registry. */
export interface BenchRegistry {
  /** `127.0.0.1:<port>`, the registry part of image references. */
  host: string;
  stop(): Promise<void>;
}

/** Whether docker-registry is on PATH. */
export function hasDockerRegistry(): boolean {
  return spawnSync("sh", ["-c", "command -v docker-registry"]).status === 0;
}

/** Starts docker-registry and resolves once /v2/ answers (at most 15 s). */
export async function startBenchRegistry(): Promise<BenchRegistry> {
  const dir = await mkdtemp(join(tmpdir(), "skiff-bench-registry-"));
  const host = `127.0.0.1:${await freePort()}`;
  const config = {
    version: 0.1,
    log: { level: "error", accesslog: { disabled: true } },
    storage: { filesystem: { rootdirectory: join(dir, "data") } },
    http: { addr: host },
  };
  await writeFile(join(dir, "config.yml"), stringify(config));
  // Its log is kept, not printed: it reports every HEAD of a missing blob (how a push starts) as an error.
  const child = spawn("docker-registry", ["serve", join(dir, "config.yml")], { stdio: ["ignore", "ignore", "pipe"] });
  let log = "";
  child.stderr?.on("data", (chunk: Buffer) => (log = (log + chunk.toString()).slice(-4000)));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill("SIGTERM");
      await once(child, "exit");
    }
    await rm(dir, { recursive: true, force: true });
  };
  try {
    await waitReady(child, `http://${host}/v2/`);
  } catch (error) {
    await stop();
    throw new Error(`${(error as Error).message}\n${log}`, { cause: error });
  }
  return { host, stop };
}

async function waitReady(child: ChildProcess, url: string): Promise<void> {
  const deadline = Date.now() + 15_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`docker-registry exited with ${child.exitCode}`);
    const ok = await fetch(url).then((r) => r.status === 200, () => false);
    if (ok) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`docker-registry did not answer ${url} within 15 s`);
}
