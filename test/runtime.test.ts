// The in-replica runtime, exercised as a real process built from test/fixtures/behaviours.
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { startBuiltReplica, waitReady } from "./harness/replica.ts";
import { waitFor } from "./harness/wait-for.ts";

const FIXTURE = fileURLToPath(new URL("./fixtures/behaviours", import.meta.url));

const json = async (res: Response) => (await res.json()) as Record<string, unknown>;

describe("runtime error mapping", () => {
  it("maps a throwing handler to 500 JSON {error, requestId} and keeps serving", async () => {
    const replica = await startBuiltReplica(FIXTURE);
    await waitReady(replica.url);
    const res = await fetch(`${replica.url}/throw`, { headers: { "x-request-id": "req-42" } });
    expect(res.status).toBe(500);
    expect(await res.json()).toEqual({ error: "boom", requestId: "req-42" });
    expect(replica.output()).toMatch(/ERROR http handler failed .*requestId=req-42/);
    const again = await fetch(`${replica.url}/hello`);
    expect(await again.text()).toBe("hi from behaviours");
  });

  it("uses a thrown error's numeric status (4xx and 5xx)", async () => {
    const replica = await startBuiltReplica(FIXTURE);
    await waitReady(replica.url);
    for (const status of [400, 418, 503]) {
      const res = await fetch(`${replica.url}/throw-status?status=${status}`);
      expect(res.status).toBe(status);
      expect((await json(res)).error).toBe("not a teapot");
    }
    const bogus = await fetch(`${replica.url}/throw-status?status=200`);
    expect(bogus.status).toBe(500);
  });

  it("answers 504 past the timeout and fires the handler's AbortSignal", async () => {
    const replica = await startBuiltReplica(FIXTURE);
    await waitReady(replica.url);
    const res = await fetch(`${replica.url}/slow?ms=5000`);
    expect(res.status).toBe(504);
    expect((await json(res)).error).toBe("handler did not respond within the timeout (1000ms)");
    const stats = await json(await fetch(`${replica.url}/stats`));
    expect(stats.aborted).toBe(1);
  });

  it("refuses a body over maxBodySize with 413, by Content-Length and when streamed", async () => {
    const replica = await startBuiltReplica(FIXTURE);
    await waitReady(replica.url);
    const small = await fetch(`${replica.url}/body`, { method: "POST", body: "x".repeat(1024) });
    expect(await json(small)).toEqual({ bytes: 1024 });
    const declared = await fetch(`${replica.url}/body`, { method: "POST", body: "x".repeat(1025) });
    expect(declared.status).toBe(413);
    expect((await json(declared)).error).toBe("request body is larger than maxBodySize (1024 bytes)");
    // Chunked upload without Content-Length: counted as it streams, refused when the limit is crossed.
    const chunks = new ReadableStream<Uint8Array>({
      start(controller) {
        for (let i = 0; i < 64; i++) controller.enqueue(new Uint8Array(100));
        controller.close();
      },
    });
    const streamed = await fetch(`${replica.url}/body`, { method: "POST", body: chunks, duplex: "half" } as RequestInit);
    expect(streamed.status).toBe(413);
  });

  it("keeps user routes off the reserved /_skiff/ paths", async () => {
    const replica = await startBuiltReplica(FIXTURE);
    await waitReady(replica.url);
    expect((await fetch(`${replica.url}/_skiff/anything`)).status).toBe(404);
    const metrics = await (await fetch(`${replica.url}/_skiff/metrics`)).text();
    expect(metrics).toContain("# TYPE skiff_request_duration_seconds histogram");
    expect(metrics).toContain("skiff_in_flight_requests 0");
    expect(metrics).toMatch(/skiff_init_duration_seconds \d/);
  });

  it("gives the function only its declared env", async () => {
    const replica = await startBuiltReplica(FIXTURE, { LEAK_SECRET: "x", GREETING: "hey" });
    await waitReady(replica.url);
    const body = await json(await fetch(`${replica.url}/env`));
    expect(body.env).toEqual({ INIT_DELAY_MS: "0", GREETING: "hey" });
  });
});

describe("runtime lifecycle", () => {
  it("stays unready while a slow init runs, then turns ready", async () => {
    const replica = await startBuiltReplica(FIXTURE, { INIT_DELAY_MS: "1500" });
    const early = await fetch(`${replica.url}/_skiff/ready`);
    expect(early.status).toBe(503);
    expect(await early.json()).toEqual({ ready: false, phase: "starting" });
    expect((await fetch(`${replica.url}/hello`)).status).toBe(503);
    expect((await fetch(`${replica.url}/_skiff/live`)).status).toBe(200);
    await waitReady(replica.url);
    expect(await (await fetch(`${replica.url}/hello`)).text()).toBe("hi from behaviours");
  });

  it("on SIGTERM turns unready, finishes every in-flight request, runs shutdown and exits 0", async () => {
    const replica = await startBuiltReplica(FIXTURE, { SKIFF_QUEUE_SIZE: "10" });
    await waitReady(replica.url);
    const inFlight = Array.from({ length: 4 }, () => fetch(`${replica.url}/slow?ms=600`).then(async (r) => ({ status: r.status, body: await r.json() })));
    // Metrics bypass the concurrency limit, so they can be read while both slots are busy.
    await waitFor(async () => (await (await fetch(`${replica.url}/_skiff/metrics`)).text()).includes("skiff_queued_requests 2"), {
      what: "two slow requests running and two queued",
    });
    replica.kill("SIGTERM");
    await waitFor(async () => (await fetch(`${replica.url}/_skiff/ready`)).status === 503, { what: "readiness to drop" });
    const results = await Promise.all(inFlight);
    expect(results).toEqual(Array.from({ length: 4 }, () => ({ status: 200, body: { slept: 600 } })));
    expect(await replica.exited).toBe(0);
    expect(replica.output()).toContain("shutdown hook ran (in flight 0)");
  });
});

describe("runtime drain delay (SKIFF_DRAIN_DELAY_MS)", () => {
  it("keeps taking new requests for the delay after SIGTERM, unready all the while, then exits 0", async () => {
    const replica = await startBuiltReplica(FIXTURE, { SKIFF_DRAIN_DELAY_MS: "800" });
    await waitReady(replica.url);
    replica.kill("SIGTERM");
    await waitFor(async () => (await fetch(`${replica.url}/_skiff/ready`)).status === 503, { what: "readiness to drop" });
    // A router that has not heard of the drain yet still sends requests: they are answered.
    await new Promise((r) => setTimeout(r, 300));
    const late = await fetch(`${replica.url}/hello`);
    expect(late.status).toBe(200);
    expect(late.headers.get("connection")).toBe("close");
    expect(await replica.exited).toBe(0);
  });
});

describe("runtime drain with keep-alive clients", () => {
  it("does not wait out the grace for a client that keeps its connection open", async () => {
    const { Agent, request } = await import("node:http");
    // A 60s grace: if the drain waited for the kept-alive connection, the exit would take a minute.
    const replica = await startBuiltReplica(FIXTURE, { SKIFF_DRAIN_GRACE_MS: "60000" });
    await waitReady(replica.url);
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    const get = (path: string) =>
      new Promise<{ status: number; connection: string | undefined }>((resolve, reject) => {
        const req = request(`${replica.url}${path}`, { agent }, (res) => {
          res.resume();
          res.on("end", () => resolve({ status: res.statusCode ?? 0, connection: res.headers.connection }));
        });
        req.on("error", reject);
        req.end();
      });
    // One kept-alive connection used before the drain, and one carrying a request across it.
    expect((await get("/hello")).status).toBe(200);
    const viaFetch = fetch(`${replica.url}/slow?ms=500`);
    const slow = get("/slow?ms=500");
    await waitFor(async () => (await (await fetch(`${replica.url}/_skiff/metrics`)).text()).includes("skiff_in_flight_requests 2"), { what: "the slow requests in flight" });
    replica.kill("SIGTERM");
    expect((await slow).status).toBe(200);
    expect((await viaFetch).status).toBe(200);
    const tooLong = new Promise((resolve) => setTimeout(() => resolve("still running after 10s"), 10_000).unref());
    expect(await Promise.race([replica.exited, tooLong])).toBe(0);
    agent.destroy();
  });
});

describe("runtime concurrency limit", () => {
  it("runs at most `concurrency` handlers, queues up to the bound and refuses the rest with 503", async () => {
    const replica = await startBuiltReplica(FIXTURE, { SKIFF_QUEUE_SIZE: "2" });
    await waitReady(replica.url);
    const calls = Array.from({ length: 6 }, () => fetch(`${replica.url}/slow?ms=300`));
    const responses = await Promise.all(calls);
    const statuses = responses.map((r) => r.status).sort();
    expect(statuses).toEqual([200, 200, 200, 200, 503, 503]);
    const refused = responses.find((r) => r.status === 503)!;
    expect(refused.headers.get("retry-after")).toBe("1");
    expect((await json(refused)).error).toMatch(/^replica at capacity: 2\/2 in flight and 2 queued$/);
    expect((await json(await fetch(`${replica.url}/stats`))).peak).toBe(2);
  });
});

describe("runtime orphan handling", () => {
  it("drains and exits when the process that started it dies (SKIFF_PARENT_PID)", async () => {
    // A shell starts the replica in the background and exits: the replica's parent is gone.
    const { startProcess } = await import("./harness/processes.ts");
    const { loadAndBuild } = await import("../cli/build-function.ts");
    const { freePort } = await import("./harness/ports.ts");
    const build = await loadAndBuild(FIXTURE);
    const port = await freePort();
    const { mkdtemp, writeFile } = await import("node:fs/promises");
    const { tmpdir } = await import("node:os");
    const release = `${await mkdtemp(`${tmpdir()}/skiff-orphan-`)}/go`;
    // The shell exits once the test says so (the file appears), orphaning the replica.
    const script = `PORT=${port} HOST=127.0.0.1 SKIFF_PARENT_PID=$$ "${process.execPath}" "${build.bundlePath}" & echo $!; while [ ! -f "${release}" ]; do sleep 0.05; done`;
    const shell = startProcess("sh", ["-c", script], { env: { PATH: process.env.PATH ?? "" } });
    await waitReady(`http://127.0.0.1:${port}`);
    await writeFile(release, "");
    const pid = Number(shell.output().trim().split("\n")[0]);
    expect(await shell.exited).toBe(0);
    await waitFor(() => { try { process.kill(pid, 0); return false; } catch { return true; } }, { what: "the orphaned replica to exit", timeoutMs: 10_000 });
  });
});
