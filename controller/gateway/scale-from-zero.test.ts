// The gateway as activator, with real replica processes of testdata/greeter: requests held at
// zero while onDemand starts a replica, traffic splits between revisions, and drain on stop.
import { beforeAll, describe, expect, it, onTestFinished } from "vitest";
import { loadAndBuild } from "../../cli/build-function.ts";
import type { FunctionSpec } from "../../spec/index.ts";
import { waitFor } from "../../test/harness/wait-for.ts";
import { startGateway, type Gateway } from "./index.ts";
import { GREETER_DIR, makeRoute, makeRoutes, seededRandom, startReadyReplica, TestEndpoints } from "./testdata/harness.ts";
import type { GatewayOptions, TrafficTarget } from "./types.ts";

let spec: FunctionSpec;

beforeAll(async () => {
  spec = (await loadAndBuild(GREETER_DIR)).spec;
}, 60_000);

async function start(targets: TrafficTarget[], endpoints: TestEndpoints, extra: Partial<GatewayOptions> = {}): Promise<Gateway> {
  const gateway = await startGateway({
    routes: makeRoutes({ greeter: makeRoute(spec, targets) }),
    endpoints,
    onDemand: () => undefined,
    ...extra,
  });
  onTestFinished(() => gateway.stop());
  return gateway;
}

describe("gateway: scale from zero", { timeout: 40_000 }, () => {
  it("holds 200 concurrent requests at zero, pokes at once, and answers all once a replica is ready", async () => {
    const endpoints = new TestEndpoints();
    const demands: Array<{ atMs: number; readyThen: number }> = [];
    let replicaStarted: Promise<void> | undefined;
    const gateway = await start([{ revision: "greeter-r1", percent: 100 }], endpoints, {
      onDemand(revision) {
        demands.push({ atMs: performance.now(), readyThen: endpoints.ready(revision).length });
        // What the autoscaler + backend do: start one real replica, report it once it is ready.
        replicaStarted ??= startReadyReplica(GREETER_DIR, { GREETING: "woken" }).then((replica) =>
          endpoints.add(revision, { id: "greeter-r1-a", url: replica.url }),
        );
      },
    });
    const sentAt = performance.now();
    const answers = await Promise.all(
      Array.from({ length: 200 }, async () => {
        const res = await fetch(`${gateway.url}/fn/greeter/`);
        return `${res.status} ${await res.text()}`;
      }),
    );
    await replicaStarted;
    expect(answers).toEqual(Array(200).fill("200 woken"));
    // Poked at once, before any replica existed, and for every queued request.
    expect(demands[0]!.readyThen).toBe(0);
    expect(demands[0]!.atMs - sentAt).toBeLessThan(1000);
    expect(demands.length).toBe(200);
    const stats = gateway.stats("greeter")!;
    expect(stats).toMatchObject({ requests: { "200": 200 }, inFlight: 0, queued: 0, rejected: { queueFull: 0, queueTimeout: 0 } });
    expect(stats.coldStarts.count).toBe(200);
    expect(stats.coldStarts.maxWaitMs).toBeGreaterThan(0);
    expect(gateway.metricsText()).toContain('skiff_gateway_cold_starts_total{fn="greeter",revision="greeter-r1"} 200\n');
    expect(gateway.concurrency("greeter-r1")).toBe(0);
  });

  it("splits traffic 50/50 between two revisions", async () => {
    const endpoints = new TestEndpoints();
    const [a, b] = await Promise.all([
      startReadyReplica(GREETER_DIR, { GREETING: "rev-a" }),
      startReadyReplica(GREETER_DIR, { GREETING: "rev-b" }),
    ]);
    endpoints.add("greeter-a", { id: "greeter-a-1", url: a.url });
    endpoints.add("greeter-b", { id: "greeter-b-1", url: b.url });
    const targets = [{ revision: "greeter-a", percent: 50 }, { revision: "greeter-b", percent: 50 }];
    const gateway = await start(targets, endpoints, { random: seededRandom(7) });
    const counts: Record<string, number> = {};
    for (let batch = 0; batch < 5; batch++) {
      const texts = await Promise.all(Array.from({ length: 20 }, async () => (await fetch(`${gateway.url}/fn/greeter/`)).text()));
      for (const t of texts) counts[t] = (counts[t] ?? 0) + 1;
    }
    expect(Object.keys(counts).sort()).toEqual(["rev-a", "rev-b"]);
    expect(counts["rev-a"]! + counts["rev-b"]!).toBe(100);
    expect(counts["rev-a"]).toBeGreaterThan(30);
    expect(counts["rev-b"]).toBeGreaterThan(30);
    expect(gateway.stats("greeter-a")!.requests["200"]).toBe(counts["rev-a"]);
    expect(gateway.stats("greeter")!.revisions.sort()).toEqual(["greeter-a", "greeter-b"]);
  });

  it("drains on stop: in-flight requests finish, then the port closes", async () => {
    const endpoints = new TestEndpoints();
    const replica = await startReadyReplica(GREETER_DIR, { GREETING: "still here" });
    endpoints.add("greeter-r1", { id: "greeter-r1-a", url: replica.url });
    const gateway = await start([{ revision: "greeter-r1", percent: 100 }], endpoints);
    const inFlight = fetch(`${gateway.url}/fn/greeter/?ms=500`);
    await waitFor(() => gateway.concurrency("greeter-r1") === 1, { what: "the request to be in flight" });
    const stopping = gateway.stop();
    const res = await inFlight;
    expect([res.status, await res.text()]).toEqual([200, "still here"]);
    await stopping;
    expect(endpoints.listenerCount).toBe(0);
    await expect(fetch(`${gateway.url}/fn/greeter/`)).rejects.toThrow();
  });
});
