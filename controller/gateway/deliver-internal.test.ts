// Gateway.deliverInternal (the platform's in-process entry for event deliveries) against real
// echo replicas: the same queue at zero, per-replica capacity, metrics, concurrency and 502 rules
// as an HTTP request, plus event-only functions being reachable only this way.
import { beforeAll, describe, expect, it, onTestFinished } from "vitest";
import { loadAndBuild } from "../../cli/build-function.ts";
import type { FunctionSpec } from "../../spec/index.ts";
import { freePort } from "../../test/harness/ports.ts";
import { waitFor } from "../../test/harness/wait-for.ts";
import { startGateway } from "./index.ts";
import { ECHO_DIR, makeMemoryLogger, makeRoute, makeRoutes, setupEchoGateway, startReadyReplica, TestEndpoints, type EchoGatewayOptions } from "./testdata/harness.ts";
import type { InternalResponse } from "./types.ts";

const REV = "echo-r1";
let spec: FunctionSpec;

beforeAll(async () => {
  spec = (await loadAndBuild(ECHO_DIR)).spec;
}, 60_000);

/** A gateway routing "echo" to REV with real echo replicas (see testdata/harness.ts). */
const setup = (options: EchoGatewayOptions = {}) => setupEchoGateway(spec, REV, options);

const text = (res: InternalResponse) => new TextDecoder().decode(res.body);
const json = (res: InternalResponse) => JSON.parse(text(res)) as Record<string, any>;
const bytes = (s: string) => new TextEncoder().encode(s);

describe("gateway: deliverInternal", { timeout: 30_000 }, () => {
  it("forwards method, path, headers and body in one request and returns the whole answer", async () => {
    const { gateway, replicas } = await setup();
    const res = await gateway.deliverInternal("echo", {
      method: "POST",
      path: "/hello?x=1",
      headers: { "Ce-Id": "1", "content-type": "text/plain", "x-skiff-token": "secret" },
      body: bytes("payload"),
    });
    expect(res.status).toBe(200);
    expect(res.headers["x-echo"]).toBe("yes");
    const echoed = json(res);
    expect(echoed).toMatchObject({ method: "POST", path: "/hello", query: "?x=1", body: "payload", pid: replicas[0]!.child.pid });
    expect(echoed.headers).toMatchObject({ "ce-id": "1", "content-type": "text/plain", "content-length": "7", "x-forwarded-proto": "http" });
    expect(echoed.headers["x-request-id"]).toMatch(/.+/);
    expect(echoed.headers["x-skiff-token"]).toBeUndefined();
    expect(gateway.stats(REV)).toMatchObject({ inFlight: 0, queued: 0, requests: { "200": 1 } });
  });

  it("reaches event-only functions (the HTTP entry keeps refusing them) and answers unknown ones 404", async () => {
    const quiet = makeRoute({ ...spec, name: "quiet", http: false }, [{ revision: REV, percent: 100 }]);
    const { gateway } = await setup({ routes: { quiet } });
    expect((await fetch(`${gateway.url}/fn/quiet/`)).status).toBe(404);
    expect((await gateway.deliverInternal("quiet", { path: "/" })).status).toBe(200);
    const unknown = await gateway.deliverInternal("nope", {});
    expect(unknown.status).toBe(404);
    expect(json(unknown)).toMatchObject({ reason: "unknown-function" });
    expect(gateway.metricsText()).toContain(`skiff_gateway_requests_total{fn="",revision="",code="404"} 2`);
  });

  it("queues at zero, pokes onDemand at once, and delivers once a replica is ready", async () => {
    const endpoints = new TestEndpoints();
    let woke: Promise<void> | undefined;
    const demands: number[] = [];
    const gateway = await startGateway({
      routes: makeRoutes({ echo: makeRoute(spec, [{ revision: REV, percent: 100 }]) }),
      endpoints,
      onDemand: () => {
        demands.push(endpoints.ready(REV).length);
        woke ??= startReadyReplica(ECHO_DIR).then((r) => endpoints.add(REV, { id: "echo-0", url: r.url }));
      },
      logger: makeMemoryLogger(),
    });
    onTestFinished(() => gateway.stop());
    const pending = Promise.all(Array.from({ length: 10 }, (_, i) => gateway.deliverInternal("echo", { body: bytes(`e${i}`) })));
    // Queued deliveries count for the autoscaler before any replica exists.
    expect(gateway.concurrency(REV)).toBe(10);
    expect(demands).toEqual(Array(10).fill(0));
    const answers = await pending;
    await woke;
    expect(answers.map((r) => `${r.status} ${json(r).body}`)).toEqual(Array.from({ length: 10 }, (_, i) => `200 e${i}`));
    const stats = gateway.stats(REV)!;
    expect(stats).toMatchObject({ requests: { "200": 10 }, inFlight: 0, queued: 0 });
    expect(stats.coldStarts.count).toBe(10);
    expect(gateway.concurrency(REV)).toBe(0);
  });

  it("holds at most scale.concurrency per replica, counting deliveries in concurrency and metrics", async () => {
    const { gateway, replicas } = await setup();
    expect(spec.scale.concurrency).toBe(2);
    let maxConcurrency = 0;
    let maxQueued = 0;
    const sampler = setInterval(() => {
      maxConcurrency = Math.max(maxConcurrency, gateway.concurrency(REV));
      maxQueued = Math.max(maxQueued, gateway.stats(REV)?.queued ?? 0);
    }, 5);
    const http = fetch(`${gateway.url}/fn/echo/slow?ms=150`);
    const answers = await Promise.all(Array.from({ length: 6 }, () => gateway.deliverInternal("echo", { method: "GET", path: "/slow?ms=150" })));
    clearInterval(sampler);
    expect((await http).status).toBe(200);
    expect(answers.map((r) => r.status)).toEqual(Array(6).fill(200));
    const replicaStats = (await (await fetch(`${replicas[0]!.url}/stats`)).json()) as { peak: number };
    expect(replicaStats.peak).toBe(2);
    // HTTP and internal requests share one queue and one count.
    expect(maxConcurrency).toBe(7);
    expect(maxQueued).toBeGreaterThan(0);
    expect(gateway.stats("echo")).toMatchObject({ inFlight: 0, queued: 0, requests: { "200": 7 } });
    expect(gateway.metricsText()).toMatch(/skiff_gateway_requests_total\{fn="echo",revision="echo-r1",code="200"\} 7\n/);
  });

  it("answers 502 at once for a dead replica with nowhere else to go, and retries a refused POST elsewhere", async () => {
    const deadUrl = `http://127.0.0.1:${await freePort()}`;
    const ghost = makeRoute({ ...spec, name: "ghost" }, [{ revision: "ghost-r1", percent: 100 }]);
    const { gateway, endpoints, replicas } = await setup({ routes: { ghost } });
    endpoints.add("ghost-r1", { id: "dead", url: deadUrl });
    const started = performance.now();
    const alone = await gateway.deliverInternal("ghost", { body: bytes("payload") });
    expect(performance.now() - started).toBeLessThan(1000);
    expect(alone.status).toBe(502);
    expect(json(alone)).toMatchObject({ error: "replica dead failed: connection refused (ECONNREFUSED)", reason: "replica-failed" });
    expect(gateway.stats("ghost-r1")).toMatchObject({ replicaFailures: 1, retries: 0, requests: { "502": 1 } });
    // Refused before a byte was sent: the in-memory body goes to the other replica.
    endpoints.remove(REV, "echo-0");
    endpoints.add(REV, { id: "dead", url: deadUrl });
    endpoints.add(REV, { id: "echo-0", url: replicas[0]!.url });
    const retried = await gateway.deliverInternal("echo", { body: bytes("again") });
    expect(json(retried)).toMatchObject({ body: "again", pid: replicas[0]!.child.pid });
    expect(gateway.stats(REV)).toMatchObject({ replicaFailures: 1, retries: 1, requests: { "200": 1 } });
  });

  it("rejects when its signal aborts, cutting the upstream request (499 recorded)", async () => {
    const { gateway, replicas } = await setup();
    const controller = new AbortController();
    const pending = gateway.deliverInternal("echo", { method: "GET", path: "/slow?ms=4000", signal: controller.signal }).catch((e: Error) => e);
    await waitFor(async () => ((await (await fetch(`${replicas[0]!.url}/stats`)).json()) as { running: number }).running === 1, { what: "the delivery to run" });
    controller.abort(new Error("stop"));
    expect(await pending).toMatchObject({ message: "stop" });
    await waitFor(() => gateway.stats(REV)!.requests["499"] === 1, { what: "a client-closed delivery" });
    expect(gateway.concurrency(REV)).toBe(0);
  });
});
