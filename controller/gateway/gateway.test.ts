// The gateway against real replica processes of testdata/echo: forwarding, streaming, errors,
// the queue's bound and deadline, per-replica capacity, and replica failures.
import { request as httpRequest } from "node:http";
import { beforeAll, describe, expect, it } from "vitest";
import { loadAndBuild } from "../../cli/build-function.ts";
import type { FunctionSpec } from "../../spec/index.ts";
import { freePort } from "../../test/harness/ports.ts";
import { waitFor } from "../../test/harness/wait-for.ts";
import { ECHO_DIR, makeRoute, setupEchoGateway, type EchoGatewayOptions } from "./testdata/harness.ts";

const REV = "echo-r1";
let spec: FunctionSpec;

beforeAll(async () => {
  spec = (await loadAndBuild(ECHO_DIR)).spec;
}, 60_000);

/** A gateway routing "echo" to REV with real echo replicas (see testdata/harness.ts). */
const setup = (options: EchoGatewayOptions = {}) => setupEchoGateway(spec, REV, options);

/** node:http, because fetch may not send Connection or a hop-by-hop header. */
function rawRequest(url: string, options: { method: string; headers: Record<string, string>; body?: string }) {
  return new Promise<{ status: number; headers: Record<string, unknown>; body: string }>((resolve, reject) => {
    const req = httpRequest(url, { method: options.method, headers: options.headers }, (res) => {
      let body = "";
      res.on("data", (c: Buffer) => (body += c.toString()));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on("error", reject);
    req.end(options.body);
  });
}

const json = async (res: Response) => (await res.json()) as Record<string, any>;

describe("gateway: forwarding", { timeout: 30_000 }, () => {
  it("forwards method, path, query, body and end-to-end headers, and adds forwarding headers", async () => {
    const { url, gateway } = await setup();
    const res = await rawRequest(url("/fn/echo/a/b?x=1&y=two"), {
      method: "POST",
      headers: { "content-type": "text/plain", "x-custom": "kept", connection: "keep-alive, x-hop", "x-hop": "dropped" },
      body: "hello body",
    });
    expect(res.status).toBe(200);
    expect(res.headers["x-echo"]).toBe("yes");
    const echo = JSON.parse(res.body);
    expect(echo).toMatchObject({ method: "POST", path: "/a/b", query: "?x=1&y=two", body: "hello body" });
    expect(echo.headers).toMatchObject({
      "x-custom": "kept",
      "content-type": "text/plain",
      "x-forwarded-for": "127.0.0.1",
      "x-forwarded-host": `127.0.0.1:${gateway.port}`,
      "x-forwarded-proto": "http",
    });
    expect(echo.headers["x-request-id"]).toMatch(/^[0-9a-f-]{36}$/);
    expect(echo.headers["x-hop"]).toBeUndefined();
  });

  it("passes every method, the bare function path, the caller's request id and the replica's status", async () => {
    const { url } = await setup();
    for (const method of ["GET", "PUT", "PATCH", "DELETE", "OPTIONS"]) {
      const echo = await json(await fetch(url("/fn/echo"), { method, headers: { "x-request-id": "req-7" } }));
      expect(echo).toMatchObject({ method, path: "/", query: "" });
      expect(echo.headers["x-request-id"]).toBe("req-7");
    }
    const head = await fetch(url("/fn/echo/x"), { method: "HEAD" });
    expect([head.status, head.headers.get("x-echo")]).toEqual([200, "yes"]);
    expect((await fetch(url("/fn/echo?status=418"))).status).toBe(418);
  });

  it("streams the response: the first chunk arrives while the replica is still writing", async () => {
    const { url } = await setup();
    const started = performance.now();
    const res = await fetch(url("/fn/echo/stream?ms=1500"));
    const reader = res.body!.getReader();
    const first = await reader.read();
    expect(new TextDecoder().decode(first.value)).toBe("first\n");
    expect(performance.now() - started).toBeLessThan(1000);
    let rest = "";
    for (let chunk = await reader.read(); !chunk.done; chunk = await reader.read()) rest += new TextDecoder().decode(chunk.value);
    expect(rest).toBe("last\n");
    expect(performance.now() - started).toBeGreaterThanOrEqual(1400);
  });

  it("streams a chunked request body; refuses a declared length over maxBodySize with 413 before forwarding", async () => {
    const { url, gateway } = await setup();
    const chunks = new ReadableStream<Uint8Array>({
      start(controller) {
        for (let i = 0; i < 64; i++) controller.enqueue(new Uint8Array(100).fill(97));
        controller.close();
      },
    });
    const streamed = await fetch(url("/fn/echo/body"), { method: "POST", body: chunks, duplex: "half" } as RequestInit);
    expect((await json(streamed)).body).toHaveLength(6400);
    const big = await fetch(url("/fn/echo/body"), { method: "POST", body: "x".repeat(9000) });
    expect(big.status).toBe(413);
    expect(await json(big)).toMatchObject({
      error: 'request body of 9000 bytes is larger than maxBodySize of function "echo" (8192 bytes)',
      reason: "body-too-large",
    });
    expect(gateway.stats("echo")!.requests).toEqual({ "200": 1 });
  });
});

describe("gateway: errors and platform endpoints", { timeout: 30_000 }, () => {
  it("answers unknown, invalid, event-only and unrouted requests with JSON", async () => {
    const eventOnly = makeRoute({ ...spec, name: "ingest", http: false }, [{ revision: REV, percent: 100 }]);
    const unrouted = makeRoute({ ...spec, name: "dark" }, []);
    const { url, gateway } = await setup({
      routes: { ingest: eventOnly, dark: unrouted },
      gateway: { allowEventOnly: (req) => req.headers["x-skiff-internal"] === "event" },
    });
    const cases: Array<[string, RequestInit, number, Record<string, unknown>]> = [
      ["/fn/nope/x", {}, 404, { error: 'no function named "nope"', reason: "unknown-function", fn: "nope" }],
      ["/fn/Bad_Name/x", {}, 400, { reason: "invalid-name", fn: "Bad_Name" }],
      ["/somewhere", {}, 404, { error: "no route for /somewhere: functions are served at /fn/<name>/<path>", reason: "no-route" }],
      ["/fn/ingest/", {}, 404, { reason: "event-only", fn: "ingest" }],
      ["/fn/dark/", {}, 503, { error: 'function "dark" has no revision receiving traffic' }],
    ];
    for (const [path, init, status, body] of cases) {
      const res = await fetch(url(path), init);
      expect([path, res.status]).toEqual([path, status]);
      expect(res.headers.get("content-type")).toBe("application/json; charset=utf-8");
      expect(await json(res)).toMatchObject({ ...body, requestId: expect.any(String) });
    }
    const internal = await fetch(url("/fn/ingest/e"), { headers: { "x-skiff-internal": "event" } });
    expect((await json(internal)).path).toBe("/e");
    expect((await fetch(url("/_skiff/live"))).status).toBe(200);
    const metrics = await (await fetch(url("/_skiff/metrics"))).text();
    expect(metrics).toContain('skiff_gateway_requests_total{fn="",revision="",code="404"} 3');
    expect(metrics).toBe(gateway.metricsText());
  });
});

describe("gateway: queue", { timeout: 30_000 }, () => {
  const idle = () => makeRoute({ ...spec, name: "idle" }, [{ revision: "idle-r1", percent: 100 }]);

  it("bounds the queue: one request past maxPerRevision gets 503 with Retry-After at once", async () => {
    const { url, gateway, demands } = await setup({ routes: { idle: idle() }, gateway: { queue: { maxPerRevision: 3, timeoutMs: 30_000 } } });
    const clients = [0, 1, 2].map(() => new AbortController());
    const waiting = clients.map((c) => fetch(url("/fn/idle/"), { signal: c.signal }).catch((e: Error) => e.name));
    await waitFor(() => gateway.concurrency("idle-r1") === 3, { what: "3 queued requests" });
    expect(demands).toEqual(["idle-r1", "idle-r1", "idle-r1"]);
    const refused = await fetch(url("/fn/idle/"));
    expect(refused.status).toBe(503);
    expect(refused.headers.get("retry-after")).toBe("1");
    expect(await json(refused)).toMatchObject({
      error: 'function "idle" has no ready replica and its queue is full (3 requests waiting)',
      reason: "queue-full",
      fn: "idle",
    });
    // Clients that give up leave the queue.
    for (const c of clients) c.abort();
    expect(await Promise.all(waiting)).toEqual(["AbortError", "AbortError", "AbortError"]);
    await waitFor(() => gateway.concurrency("idle-r1") === 0, { what: "the queue to empty" });
    await waitFor(() => gateway.stats("idle")!.requests["499"] === 3, { what: "3 client-closed requests" });
    expect(gateway.stats("idle")).toMatchObject({ rejected: { queueFull: 1, queueTimeout: 0 }, requests: { "503": 1 } });
  });

  it("answers 503 with a clear body when no replica turns ready before the deadline", async () => {
    const { url, gateway, demands } = await setup({ routes: { idle: idle() }, gateway: { queue: { timeoutMs: 300 } } });
    const started = performance.now();
    const answers = await Promise.all([0, 1].map(() => fetch(url("/fn/idle/x"))));
    expect(performance.now() - started).toBeGreaterThanOrEqual(290);
    for (const res of answers) {
      expect([res.status, res.headers.get("retry-after")]).toEqual([503, "1"]);
      expect((await json(res)).error).toMatch(/^function "idle" has no ready replica after \d+ms \(queue of [12]\)$/);
    }
    expect(demands.length).toBe(2);
    expect(gateway.stats("idle-r1")).toMatchObject({ rejected: { queueTimeout: 2 }, coldStarts: { count: 0 }, queued: 0 });
  });
});

describe("gateway: capacity and replica failures", { timeout: 30_000 }, () => {
  it("never has more than scale.concurrency requests in flight at a replica", async () => {
    const { url, gateway, replicas } = await setup();
    let maxQueued = 0;
    const sampler = setInterval(() => (maxQueued = Math.max(maxQueued, gateway.stats(REV)?.queued ?? 0)), 5);
    const answers = await Promise.all(Array.from({ length: 8 }, () => fetch(url("/fn/echo/slow?ms=150"))));
    clearInterval(sampler);
    expect(answers.map((r) => r.status)).toEqual(Array(8).fill(200));
    const stats = await json(await fetch(`${replicas[0]!.url}/stats`));
    expect(spec.scale.concurrency).toBe(2);
    expect(stats.peak).toBe(2);
    expect(maxQueued).toBeGreaterThan(0);
    expect(gateway.stats("echo")).toMatchObject({ inFlight: 0, queued: 0, requests: { "200": 8 } });
  });

  it("cuts the upstream request when the client disconnects", async () => {
    const { url, gateway, replicas } = await setup();
    const client = new AbortController();
    const pending = fetch(url("/fn/echo/slow?ms=4000"), { signal: client.signal }).catch((e: Error) => e.name);
    await waitFor(async () => (await json(await fetch(`${replicas[0]!.url}/stats`))).running === 1, { what: "the request to run" });
    const abortedAt = performance.now();
    client.abort();
    expect(await pending).toBe("AbortError");
    await waitFor(async () => (await json(await fetch(`${replicas[0]!.url}/stats`))).aborted === 1, { what: "the handler to see the abort" });
    expect(performance.now() - abortedAt).toBeLessThan(1000);
    await waitFor(() => gateway.stats(REV)!.requests["499"] === 1, { what: "a client-closed request" });
    expect(gateway.concurrency(REV)).toBe(0);
  });

  it("answers 502 at once when a replica is SIGKILLed mid-request; others keep succeeding", async () => {
    const { url, gateway, endpoints, replicas } = await setup({ replicas: 2 });
    const [a, b] = replicas as [(typeof replicas)[0], (typeof replicas)[0]];
    endpoints.remove(REV, "echo-1");
    const doomed = fetch(url("/fn/echo/slow?ms=4000"), { method: "POST" });
    await waitFor(async () => (await json(await fetch(`${a.url}/stats`))).running === 1, { what: "the POST to run on replica echo-0" });
    endpoints.add(REV, { id: "echo-1", url: b.url });
    const bystander = fetch(url("/fn/echo/slow?ms=600")); // least outstanding: goes to echo-1
    await waitFor(async () => (await json(await fetch(`${b.url}/stats`))).running === 1, { what: "the bystander on echo-1" });
    const killedAt = performance.now();
    a.kill("SIGKILL");
    const res = await doomed;
    expect(performance.now() - killedAt).toBeLessThan(1000);
    expect(res.status).toBe(502);
    expect(await json(res)).toMatchObject({ error: "replica echo-0 failed: connection reset before a response (ECONNRESET)", reason: "replica-failed" });
    expect((await bystander).status).toBe(200);
    endpoints.remove(REV, "echo-0"); // what the backend reports once it sees the exit
    const bPid = (await json(await fetch(`${b.url}/stats`))).pid;
    for (let i = 0; i < 4; i++) expect((await json(await fetch(url("/fn/echo/stats")))).pid).toBe(bPid);
    expect(gateway.stats("echo")).toMatchObject({ replicaFailures: 1, retries: 0, requests: { "502": 1, "200": 5 } });
  });

  it("retries a bodiless GET on another replica when its replica dies before answering", async () => {
    const { url, gateway, endpoints, replicas } = await setup({ replicas: 2 });
    const [a, b] = replicas as [(typeof replicas)[0], (typeof replicas)[0]];
    endpoints.remove(REV, "echo-1");
    const pending = fetch(url("/fn/echo/slow?ms=800"));
    await waitFor(async () => (await json(await fetch(`${a.url}/stats`))).running === 1, { what: "the GET to run on echo-0" });
    endpoints.add(REV, { id: "echo-1", url: b.url });
    a.kill("SIGKILL");
    const res = await pending;
    expect(res.status).toBe(200);
    expect((await json(res)).pid).toBe(b.child.pid);
    expect(gateway.stats(REV)).toMatchObject({ retries: 1, replicaFailures: 1, requests: { "200": 1 } });
  });

  it("sends a POST elsewhere when a replica refuses the connection (its body was never read)", async () => {
    const deadUrl = `http://127.0.0.1:${await freePort()}`;
    const ghost = makeRoute({ ...spec, name: "ghost" }, [{ revision: "ghost-r1", percent: 100 }]);
    const { url, gateway, endpoints, replicas, logger } = await setup({ routes: { ghost } });
    // Ties go to the first listed replica, so the first request tries "dead".
    endpoints.remove(REV, "echo-0");
    endpoints.add(REV, { id: "dead", url: deadUrl });
    endpoints.add(REV, { id: "echo-0", url: replicas[0]!.url });
    for (let i = 0; i < 3; i++) {
      const res = await fetch(url("/fn/echo/"), { method: "POST", body: `payload ${i}` });
      expect(await json(res)).toMatchObject({ body: `payload ${i}`, pid: replicas[0]!.child.pid });
    }
    // Only the first POST met "dead": it is suspended after refusing, so no further failures.
    expect(gateway.stats(REV)).toMatchObject({ replicaFailures: 1, retries: 1, requests: { "200": 3 } });
    // With nowhere else to go, the answer is an immediate 502 naming the replica.
    endpoints.add("ghost-r1", { id: "dead", url: deadUrl });
    const started = performance.now();
    const alone = await fetch(url("/fn/ghost/"), { method: "POST", body: "payload" });
    expect(performance.now() - started).toBeLessThan(1000);
    expect(alone.status).toBe(502);
    expect((await json(alone)).error).toBe("replica dead failed: connection refused (ECONNREFUSED)");
    expect(logger.lines.filter((l) => l.startsWith("WARN replica dead failed"))).toHaveLength(2);
  });
});
