// Test support for the process backend suites: builds fixtures into a private output folder
// (other suites build the same fixtures concurrently), makes revisions, and starts a backend
// whose replicas are all gone when the test ends.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, onTestFinished } from "vitest";
import { waitFor } from "../../../../test/harness/wait-for.ts";
import { buildFunction } from "../../../../builder/index.ts";
import { loadFunctionSpec, parseFunctionSpec } from "../../../../spec/index.ts";
import type { FunctionSpec } from "../../../../spec/types.ts";
import type { Revision } from "../../../types.ts";
import { type ProcessBackend, type ProcessBackendOptions, type ProcessReplicaInfo, startProcessBackend } from "../index.ts";

/** test/fixtures/behaviours: /slow, /env, INIT_DELAY_MS, a shutdown hook that logs. */
export const BEHAVIOURS = fileURLToPath(new URL("../../../../test/fixtures/behaviours", import.meta.url));
/** A function whose init throws. */
export const INIT_THROWS = fileURLToPath(new URL("./init-throws", import.meta.url));
/** Hand-written bundle folders (no build): `exit-one` exits 1, `stubborn` ignores SIGTERM. */
export const HAND_BUNDLES = { exitOne: fileURLToPath(new URL("./exit-one", import.meta.url)), stubborn: fileURLToPath(new URL("./stubborn", import.meta.url)) };

const outDirs: string[] = [];
afterAll(async () => {
  await Promise.all(outDirs.map((dir) => rm(dir, { recursive: true, force: true })));
});

let revisionCounter = 0;

function makeRevision(spec: FunctionSpec, bundleDir: string, env: Record<string, string>): Revision {
  const hash = (++revisionCounter).toString(16).padStart(12, "0");
  return { id: `${spec.name}-${hash}`, fn: spec.name, spec: { ...spec, env: { ...spec.env, ...env } }, bundleDir, contentHash: hash, createdAtMs: Date.now() };
}

/** Builds a function dir once into a temporary folder; returns a maker of fresh revisions of it. */
export async function buildFixture(dir: string): Promise<(env?: Record<string, string>) => Revision> {
  const outDir = await mkdtemp(join(tmpdir(), "skiff-process-backend-"));
  outDirs.push(outDir);
  const spec = await loadFunctionSpec(dir);
  await buildFunction({ dir, spec, outDir });
  return (env = {}) => makeRevision(spec, outDir, env);
}

/** A revision of a hand-written bundle folder (holding index.mjs). */
export function handRevision(name: string, bundleDir: string, env: Record<string, string> = {}): Revision {
  return makeRevision(parseFunctionSpec(`name: ${name}\nentry: index.ts\n`), bundleDir, env);
}

/** A backend plus every phase event it emitted, stopped (all replicas gone) when the test ends. */
export interface TestBackend {
  backend: ProcessBackend;
  events: ProcessReplicaInfo[];
  /** Phases emitted for one replica, in order. */
  phases(replicaId: string): string[];
  /** Replicas of a revision now in `phase`. */
  inPhase(revision: Revision, phase: ProcessReplicaInfo["phase"]): ProcessReplicaInfo[];
  /** Waits until at least `count` replicas of a revision are in `phase`, and returns them. */
  waitPhase(revision: Revision, phase: ProcessReplicaInfo["phase"], count?: number): Promise<ProcessReplicaInfo[]>;
  /** Waits for the exited event of a replica. */
  waitExited(replicaId: string): Promise<ProcessReplicaInfo>;
}

/** Starts a backend with quiet logging unless the test passes its own logger. */
export function startTestBackend(options: ProcessBackendOptions = {}): TestBackend {
  const quiet = { info() {}, warn() {}, error(msg: string) { console.error(msg); } };
  const backend = startProcessBackend({ logger: quiet, ...options });
  const events: ProcessReplicaInfo[] = [];
  backend.onChange((info) => events.push(info));
  onTestFinished(async () => {
    await backend.stop();
  });
  const inPhase = (revision: Revision, phase: ProcessReplicaInfo["phase"]) => backend.replicas(revision.id).filter((r) => r.phase === phase);
  return {
    backend,
    events,
    phases: (id) => events.filter((e) => e.id === id).map((e) => e.phase),
    inPhase,
    waitPhase: (revision, phase, count = 1) =>
      waitFor(() => {
        const found = inPhase(revision, phase);
        return found.length >= count ? found : undefined;
      }, { what: `${count} ${phase} replica(s) of ${revision.id}`, timeoutMs: 15_000 }),
    waitExited: (id) => waitFor(() => events.find((e) => e.id === id && e.phase === "exited"), { what: `${id} to exit`, timeoutMs: 15_000 }),
  };
}
