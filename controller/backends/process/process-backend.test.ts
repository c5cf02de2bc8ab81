// The process backend with real replica processes: scaling up and down, readiness, draining, stop.
import { get } from "node:http";
import { beforeAll, describe, expect, it } from "vitest";
import { waitFor } from "../../../test/harness/wait-for.ts";
import type { Revision } from "../../types.ts";
import { BEHAVIOURS, HAND_BUNDLES, buildFixture, handRevision, startTestBackend } from "./testdata/support.ts";

let behaviours: (env?: Record<string, string>) => Revision;
beforeAll(async () => {
  behaviours = await buildFixture(BEHAVIOURS);
}, 60_000);

describe("process backend: scaling", { timeout: 20_000 }, () => {
  it("scales 0 -> 2: two ready replicas on distinct URLs, each seen starting then ready", async () => {
    const t = startTestBackend();
    const revision = behaviours();
    t.backend.scale(revision, 2);
    t.backend.scale(revision, 2); // idempotent: still two
    const ready = await t.waitPhase(revision, "ready", 2);
    expect(t.backend.replicas(revision.id)).toHaveLength(2);
    expect(new Set(ready.map((r) => r.url)).size).toBe(2);
    for (const replica of ready) {
      expect(replica.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      expect(replica.readyAtMs).toBeGreaterThanOrEqual(replica.startedAtMs);
      expect(t.phases(replica.id)).toEqual(["starting", "ready"]);
      const res = await fetch(`${replica.url}/hello`);
      expect(res.status).toBe(200);
      expect(await res.text()).toBe("hi from behaviours");
    }
    expect(t.backend.desired(revision.id)).toBe(2);
    expect(t.backend.snapshot().map((r) => r.id).sort()).toEqual(ready.map((r) => r.id).sort());
  });

  it("keeps a replica starting until /_skiff/ready answers 200 after a slow init", async () => {
    const t = startTestBackend();
    const revision = behaviours({ INIT_DELAY_MS: "800" });
    t.backend.scale(revision, 1);
    // Listening (URL known) but init still running: the runtime answers 503 and we must agree.
    const listening = await waitFor(() => t.backend.replicas(revision.id).find((r) => r.url !== ""), { what: "the replica to report its port" });
    expect((await fetch(`${listening!.url}/_skiff/ready`)).status).toBe(503);
    expect(t.backend.replicas(revision.id)[0]!.phase).toBe("starting");
    const [ready] = await t.waitPhase(revision, "ready");
    expect(ready!.readyAtMs! - ready!.startedAtMs).toBeGreaterThanOrEqual(800);
    expect((await fetch(`${ready!.url}/_skiff/ready`)).status).toBe(200);
    expect(t.phases(ready!.id)).toEqual(["starting", "ready"]);
  });

  it("drains on 2 -> 1: the in-flight request finishes with 200, then the replica exits 0", async () => {
    const lines: string[] = [];
    const t = startTestBackend({ onLog: (l) => lines.push(`${l.replica} ${l.text}`) });
    const revision = behaviours();
    t.backend.scale(revision, 2);
    const ready = await t.waitPhase(revision, "ready", 2);
    // One slow request on each replica (under the fixture's 1s timeout), so whichever is drained has one in flight.
    // Without keep-alive: the runtime's drain waits out its grace for a kept-alive client connection
    // that was busy when the drain began (a runtime matter, reported), which would only slow this test.
    const responses = ready.map((r) => getWithoutKeepAlive(`${r.url}/slow?ms=700`));
    await waitFor(async () => {
      const stats = await Promise.all(ready.map(async (r) => (await (await fetch(`${r.url}/stats`)).json()) as { running: number }));
      return stats.every((s) => s.running === 1);
    }, { what: "both slow requests in flight" });
    t.backend.scale(revision, 1);
    const [drained] = await t.waitPhase(revision, "draining");
    expect(t.inPhase(revision, "ready")).toHaveLength(1);
    for (const res of await Promise.all(responses)) expect(res).toEqual({ status: 200, body: '{"slept":700}' });
    const exited = await t.waitExited(drained!.id);
    expect(exited.exitReason).toBe("exited with code 0");
    expect(t.phases(drained!.id)).toEqual(["starting", "ready", "draining", "exited"]);
    expect(lines).toContain(`${drained!.id} shutdown hook ran (in flight 0)`);
    // Nothing replaced it: desired is 1 and one replica is still ready.
    expect(t.backend.replicas(revision.id).filter((r) => r.phase !== "exited")).toHaveLength(1);
  });

  it("stop() drains every replica in parallel and resolves once all exited", async () => {
    const t = startTestBackend();
    const a = behaviours();
    const b = behaviours();
    t.backend.scale(a, 2);
    t.backend.scale(b, 1);
    await t.waitPhase(a, "ready", 2);
    await t.waitPhase(b, "ready", 1);
    await t.backend.stop();
    const all = t.backend.snapshot();
    expect(all).toHaveLength(3);
    for (const replica of all) {
      expect(replica.phase).toBe("exited");
      expect(replica.exitReason).toBe("exited with code 0");
      expect(t.phases(replica.id)).toEqual(["starting", "ready", "draining", "exited"]);
    }
    t.backend.scale(a, 1); // ignored after stop
    await Promise.resolve();
    expect(t.backend.replicas(a.id).filter((r) => r.phase !== "exited")).toHaveLength(0);
  });

  it("SIGKILLs a replica that ignores SIGTERM once the drain grace is over", async () => {
    const t = startTestBackend({ drainGraceMs: 200, killMarginMs: 100 });
    const revision = handRevision("stubborn", HAND_BUNDLES.stubborn);
    t.backend.scale(revision, 1);
    const [replica] = await t.waitPhase(revision, "ready");
    const started = Date.now();
    t.backend.scale(revision, 0);
    const exited = await t.waitExited(replica!.id);
    expect(exited.exitReason).toBe("killed by SIGKILL after the drain grace (300ms)");
    expect(Date.now() - started).toBeGreaterThanOrEqual(290);
  });
});

function getWithoutKeepAlive(url: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    get(url, { agent: false }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => (body += chunk));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
    }).once("error", reject);
  });
}
