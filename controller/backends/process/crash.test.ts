// Unexpected exits: a killed replica is reported with its signal and replaced; a crash loop backs off.
import { beforeAll, describe, expect, it } from "vitest";
import { waitFor } from "../../../test/harness/wait-for.ts";
import type { Revision } from "../../types.ts";
import type { ProcessReplicaInfo } from "./index.ts";
import { BEHAVIOURS, HAND_BUNDLES, INIT_THROWS, buildFixture, handRevision, startTestBackend } from "./testdata/support.ts";

let behaviours: (env?: Record<string, string>) => Revision;
let initThrows: () => Revision;
beforeAll(async () => {
  [behaviours, initThrows] = await Promise.all([buildFixture(BEHAVIOURS), buildFixture(INIT_THROWS)]);
}, 60_000);

/** The starting events of a revision's replicas, in order. */
const starts = (events: ProcessReplicaInfo[], revision: Revision) => events.filter((e) => e.revision === revision.id && e.phase === "starting");

describe("process backend: crashes", { timeout: 20_000 }, () => {
  it("marks a kill -9'd replica exited with its signal at once and replaces it", async () => {
    const t = startTestBackend();
    const revision = behaviours();
    t.backend.scale(revision, 1);
    const [victim] = await t.waitPhase(revision, "ready");
    process.kill(victim!.pid!, "SIGKILL");
    const exited = await t.waitExited(victim!.id);
    expect(exited.exitReason).toBe("killed by SIGKILL");
    expect(t.phases(victim!.id)).toEqual(["starting", "ready", "exited"]);
    const [replacement] = await t.waitPhase(revision, "ready");
    expect(replacement!.id).not.toBe(victim!.id);
    expect((await fetch(`${replacement!.url}/hello`)).status).toBe(200);
    // The exited one stays visible for a while, so `describe` can say why it died.
    expect(t.backend.replicas(revision.id).find((r) => r.id === victim!.id)?.phase).toBe("exited");
  });

  it("backs off a crash-looping bundle exponentially instead of spinning", async () => {
    const t = startTestBackend({ restartBackoffMs: { initial: 100, max: 10_000 } });
    const revision = handRevision("exit-one", HAND_BUNDLES.exitOne);
    const t0 = Date.now();
    t.backend.scale(revision, 1);
    await waitFor(() => starts(t.events, revision).length >= 5, { what: "5 starts of the crashing bundle", timeoutMs: 15_000 });
    const startTimes = starts(t.events, revision).map((e) => e.startedAtMs);
    const gaps = startTimes.slice(1).map((at, i) => at - startTimes[i]!);
    // Each wait is at least the doubling backoff (plus the crash itself).
    expect(gaps.slice(0, 4).map((gap, i) => gap >= 100 * 2 ** i)).toEqual([true, true, true, true]);
    expect(startTimes.filter((at) => at - t0 <= 2000).length).toBeLessThanOrEqual(6);
    const exits = t.events.filter((e) => e.revision === revision.id && e.phase === "exited");
    expect(exits.length).toBeGreaterThanOrEqual(4);
    expect(exits.every((e) => e.exitReason === "exited with code 1")).toBe(true);
  });

  it("counts an init failure (exit before ready) as a crash", async () => {
    const lines: string[] = [];
    const t = startTestBackend({ onLog: (l) => lines.push(l.text) });
    const revision = initThrows();
    t.backend.scale(revision, 1);
    await waitFor(() => starts(t.events, revision).length >= 2, { what: "a restart after the init failure" });
    const [first, second] = starts(t.events, revision);
    expect(second!.startedAtMs - first!.startedAtMs).toBeGreaterThanOrEqual(100);
    expect(t.phases(first!.id)).toEqual(["starting", "exited"]);
    expect(t.events.find((e) => e.id === first!.id && e.phase === "exited")?.exitReason).toBe("exited with code 1");
    expect(lines.some((l) => l.includes("init failed; exiting"))).toBe(true);
  });
});
