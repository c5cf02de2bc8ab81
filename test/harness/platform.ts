// A real local platform for tests: in this process (startPlatform) or as a `skiff up` child,
// with its own state dir, on free loopback ports; stopped when the test file ends.
import { cp, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll } from "vitest";
import { readFilesFromDir, makeControlClient, type ControlClient } from "../../controller/api/index.ts";
import { startPlatform, type Platform, type PlatformOptions } from "../../controller/platform/index.ts";
import type { Isolation } from "../../controller/types.ts";
import { loadAndBuild } from "../../cli/build-function.ts";

const cleanups: Array<() => Promise<void>> = [];
afterAll(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** A temp dir removed when the file's tests end. */
export async function tempDir(prefix: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

/** Starts a platform in this process on ephemeral ports. */
export async function startTestPlatform(stateDir?: string, options: Partial<PlatformOptions> = {}): Promise<Platform & { client: ControlClient; stateDir: string }> {
  const dir = stateDir ?? (await tempDir("skiff-state-"));
  const quiet = { info() {}, warn() {}, error: (msg: string, fields?: unknown) => console.error(msg, fields) };
  const platform = await startPlatform({ stateDir: dir, port: 0, logger: quiet, readyTimeoutMs: 30_000, ...options });
  cleanups.push(() => platform.stop());
  return Object.assign(platform, { client: makeControlClient({ url: platform.apiUrl, token: platform.token }), stateDir: dir });
}

/** Copies a function directory and replaces its function.yaml, so tests can vary scale settings. */
export async function functionVariant(sourceDir: string, functionYaml: string): Promise<string> {
  const dir = await tempDir("skiff-fn-");
  await cp(sourceDir, dir, { recursive: true, filter: (src) => !src.includes(".skiff") });
  await writeFile(join(dir, "function.yaml"), functionYaml);
  return dir;
}

/** Builds a function directory and deploys it through the control API, as `skiff deploy` does. */
export async function deploy(client: ControlClient, dir: string, options: { isolation?: Isolation } = {}) {
  const build = await loadAndBuild(dir);
  return client.deploy(build.spec.name, { spec: build.spec, files: await readFilesFromDir(build.outDir), ...options });
}
