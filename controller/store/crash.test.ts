// "kill -9 at any moment": a child process mutates the store in a loop and is killed with
// SIGKILL after a random number of operations (plus jitter, so the kill lands anywhere
// inside the next one). After every kill the store must reopen with every document
// readable and consistent, revision files complete, and no leftovers.
import { type ChildProcess, spawn } from "node:child_process";
import { readFile, readdir, rm, mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { isTempName } from "./atomic-file.ts";
import { openFileStore } from "./file-store.ts";
import { makeRevisionHash, sha256Hex } from "./hash.ts";
import { listSourceFiles } from "./revision-files.ts";
import type { FunctionRecord } from "./types.ts";

const WRITER = fileURLToPath(new URL("./testdata/crash-writer.ts", import.meta.url));
const REPO_ROOT = fileURLToPath(new URL("../../", import.meta.url));
const KILLS = 8;

/** Starts the writer and SIGKILLs it once it has finished `ops` operations and `jitterMs` more have passed. */
async function runAndKill(stateDir: string, seed: number, ops: number, jitterMs: number): Promise<number> {
  const child: ChildProcess = spawn(process.execPath, ["--import", "tsx", WRITER, stateDir, String(seed)], {
    cwd: REPO_ROOT,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let done = 0;
  let stderr = "";
  child.stderr!.on("data", (chunk: Buffer) => { stderr += chunk.toString(); });
  const exited = new Promise<NodeJS.Signals | null>((resolve) => child.once("exit", (_code, signal) => resolve(signal)));
  child.stdout!.on("data", (chunk: Buffer) => {
    done += chunk.toString().split("\n").filter((line) => line.startsWith("op ")).length;
    if (done >= ops && !child.killed) setTimeout(() => child.kill("SIGKILL"), jitterMs);
  });
  const signal = await exited;
  // Exiting on its own means the writer failed: its stderr says why.
  if (signal !== "SIGKILL") throw new Error(`writer exited without being killed:\n${stderr}`);
  return done;
}

async function checkRecord(record: FunctionRecord): Promise<void> {
  const ids = new Set(record.revisions.map((r) => r.id));
  for (const target of record.traffic) expect(ids.has(target.revision)).toBe(true);
  if (record.traffic.length > 0) expect(record.traffic.reduce((sum, t) => sum + t.percent, 0)).toBe(100);
  for (const revision of record.revisions) {
    // Rehashing the files proves the directory is complete, not just present.
    const paths = await listSourceFiles(revision.bundleDir);
    const hashes = await Promise.all(paths.map(async (p) => [p, sha256Hex(await readFile(join(revision.bundleDir, p)))] as const));
    expect(makeRevisionHash(hashes, revision.spec)).toBe(revision.contentHash);
  }
}

describe("file store under kill -9", () => {
  const dirs: string[] = [];
  afterAll(async () => {
    for (const dir of dirs) await rm(dir, { recursive: true, force: true });
  });

  it(`reopens consistent after ${KILLS} SIGKILLs at random points`, async () => {
    const stateDir = await mkdtemp(join(tmpdir(), "skiff-crash-"));
    dirs.push(stateDir);
    let totalOps = 0;
    for (let i = 0; i < KILLS; i++) {
      const seed = 1 + Math.floor(Math.random() * 1_000_000);
      const ops = 1 + Math.floor(Math.random() * 25);
      totalOps += await runAndKill(stateDir, seed, ops, Math.floor(Math.random() * 15));
      const store = await openFileStore({ stateDir });
      expect(store.problems(), `after kill ${i} (seed ${seed})`).toEqual([]);
      for (const record of await store.listFunctions()) await checkRecord(record);
      for (const file of await readdir(join(stateDir, "functions"))) {
        expect(isTempName(file)).toBe(false);
        JSON.parse(await readFile(join(stateDir, "functions", file), "utf8"));
      }
      await store.close();
    }
    expect(totalOps).toBeGreaterThanOrEqual(KILLS);
  }, 120_000);
});
