// The local platform (`skiff up` in this process): deploy, gateway, scale from and to zero,
// crashes under load, scale-down under traffic, auth and bad deploys. Real processes, real time
// (short windows); assertions count what users would notice: failed requests and replicas.
import { fileURLToPath } from "node:url";
import { expect, it } from "vitest";
import { makeControlClient } from "../controller/api/index.ts";
import { deploy, functionVariant, startTestPlatform } from "./harness/platform.ts";
import { describeWithNats } from "./harness/nats-server.ts";
import { waitFor } from "./harness/wait-for.ts";

const BEHAVIOURS = fileURLToPath(new URL("./fixtures/behaviours", import.meta.url));
const HELLO = fileURLToPath(new URL("../functions/hello", import.meta.url));

const yaml = (name: string, scale: string, extra = "") =>
  `name: ${name}\nentry: index.ts\ntimeout: 10s\nscale: ${scale}\nenv:\n  INIT_DELAY_MS: "0"\n  GREETING: hi\n${extra}`;

type Client = Awaited<ReturnType<typeof startTestPlatform>>["client"];
const readyCount = async (client: Client, name: string) => (await client.describe(name)).replicas.ready;

/** Runs `workers` request loops until `until` resolves; returns every status seen. */
async function loadLoops(workers: number, request: () => Promise<Response>, until: Promise<unknown>) {
  const statuses: number[] = [];
  let done = false;
  void until.then(() => (done = true));
  await Promise.all(
    Array.from({ length: workers }, async () => {
      while (!done) {
        const res = await request().catch(() => undefined);
        statuses.push(res?.status ?? 0);
        await res?.body?.cancel();
      }
    }),
  );
  return statuses;
}

describeWithNats("local platform", () => {
  it("deploys a function behind the gateway and describes it with replicas {ready, desired}", async () => {
    const platform = await startTestPlatform();
    const result = await deploy(platform.client, HELLO);
    expect(result.created).toBe(true);
    expect(result.url).toBe(`${platform.gatewayUrl}/fn/hello/`);
    expect(await (await fetch(`${result.url}?name=test`)).text()).toBe("hello, test\n");
    const description = await platform.client.describe("hello");
    expect(description.replicas).toMatchObject({ ready: 1, desired: 1 });
    expect(description.revisions.map((r) => r.percent)).toEqual([100]);
    expect((await fetch(`${platform.gatewayUrl}/fn/nope/`)).status).toBe(404);
    // Same content again: the same revision, nothing duplicated.
    const again = await deploy(platform.client, HELLO);
    expect(again.revision.id).toBe(result.revision.id);
    expect((await platform.client.describe("hello")).revisions).toHaveLength(1);
  });

  it("answers 200 concurrent requests to a function at zero, all successfully", async () => {
    const platform = await startTestPlatform();
    const dir = await functionVariant(BEHAVIOURS, yaml("burst", "{ min: 0, max: 4, concurrency: 10, scaleToZeroAfter: 0s }"));
    const { url } = await deploy(platform.client, dir);
    await waitFor(async () => (await readyCount(platform.client, "burst")) === 0, { what: "burst to scale to zero", timeoutMs: 20_000 });
    const responses = await Promise.all(Array.from({ length: 200 }, () => fetch(`${url}slow?ms=20`)));
    const statuses = responses.map((r) => r.status);
    expect(statuses.filter((s) => s !== 200)).toEqual([]);
    const stats = (await platform.client.describe("burst")).replicas;
    expect(stats.ready).toBeGreaterThanOrEqual(1);
  });

  it("goes to zero after scaleToZeroAfter and comes back on the next request", async () => {
    const platform = await startTestPlatform();
    const dir = await functionVariant(BEHAVIOURS, yaml("sleepy", "{ min: 0, max: 2, scaleToZeroAfter: 1s }"));
    const { url } = await deploy(platform.client, dir);
    expect((await fetch(`${url}hello`)).status).toBe(200);
    await waitFor(async () => (await platform.client.describe("sleepy")).replicas.desired === 0, { what: "sleepy to go to zero", timeoutMs: 20_000 });
    const description = await platform.client.describe("sleepy");
    expect(description.scaleEvents.at(-1)).toMatchObject({ desired: 0 });
    const res = await fetch(`${url}hello`);
    expect(await res.text()).toBe("hi from sleepy");
    expect((await platform.client.describe("sleepy")).replicas.ready).toBe(1);
  });

  it("fails only the requests in flight on a replica killed with SIGKILL, and replaces it", async () => {
    const platform = await startTestPlatform();
    const dir = await functionVariant(BEHAVIOURS, yaml("crashy", "{ min: 2, max: 2, concurrency: 2 }"));
    const { url } = await deploy(platform.client, dir);
    await waitFor(async () => (await readyCount(platform.client, "crashy")) === 2, { what: "two ready replicas" });
    const victim = (await platform.client.describe("crashy")).replicas.list.find((r) => r.phase === "ready") as { id: string; pid?: number };
    let stop!: () => void;
    const stopped = new Promise<void>((r) => (stop = r));
    // POSTs are not retried by the gateway, so every request lost with the replica shows.
    const loads = loadLoops(4, () => fetch(`${url}slow?ms=150`, { method: "POST" }), stopped);
    await waitFor(async () => (await platform.gateway.stats("crashy"))?.inFlight === 4, { what: "4 requests in flight" });
    process.kill(victim.pid!, "SIGKILL");
    await waitFor(async () => (await platform.client.describe("crashy")).replicas.list.some((r) => r.id === victim.id && r.phase === "exited"), { what: "the killed replica to be seen as exited" });
    await waitFor(async () => (await readyCount(platform.client, "crashy")) === 2, { what: "a replacement replica to turn ready", timeoutMs: 20_000 });
    stop();
    const statuses = await loads;
    const failed = statuses.filter((s) => s !== 200);
    // At most the victim's concurrency (2) requests were on it when it died; each fails fast with 502.
    expect(failed.length).toBeLessThanOrEqual(2);
    expect(failed.every((s) => s === 502)).toBe(true);
    expect(statuses.filter((s) => s === 200).length).toBeGreaterThan(0);
    // Both replicas serve again.
    const after = await Promise.all(Array.from({ length: 8 }, () => fetch(`${url}slow?ms=50`, { method: "POST" })));
    expect(after.map((r) => r.status)).toEqual(Array(8).fill(200));
    const exited = (await platform.client.describe("crashy")).replicas.list.find((r) => r.id === victim.id);
    expect(exited?.exitReason).toMatch(/SIGKILL/);
  });

  it("scales down under a steady trickle without failing a request", async () => {
    const platform = await startTestPlatform();
    const dir = await functionVariant(BEHAVIOURS, yaml("trickle", "{ min: 1, max: 4, concurrency: 1, target: 1, window: 6s }"));
    const { url } = await deploy(platform.client, dir);
    let endBurst!: () => void;
    const burstOver = new Promise<void>((r) => (endBurst = r));
    const burst = loadLoops(4, () => fetch(`${url}slow?ms=100`), burstOver);
    await waitFor(async () => (await platform.client.describe("trickle")).replicas.ready >= 3, { what: "scale-up to 3+ replicas", timeoutMs: 20_000 });
    endBurst();
    let endTrickle!: () => void;
    const trickleOver = new Promise<void>((r) => (endTrickle = r));
    const trickle = loadLoops(1, () => fetch(`${url}slow?ms=50`), trickleOver);
    await waitFor(async () => (await platform.client.describe("trickle")).replicas.desired <= 2, { what: "scale-down under the trickle", timeoutMs: 40_000 });
    await waitFor(async () => (await platform.client.describe("trickle")).replicas.list.some((r) => r.exitReason === "exited with code 0"), { what: "a drained replica to exit cleanly" });
    endTrickle();
    const statuses = [...(await burst), ...(await trickle)];
    expect(statuses.filter((s) => s !== 200)).toEqual([]);
    expect(statuses.length).toBeGreaterThan(50);
  });

  it("refuses the control API without the right token (401) and bad deploys with clear errors", async () => {
    const platform = await startTestPlatform();
    for (const token of ["", "wrong-token"]) {
      const res = await fetch(`${platform.apiUrl}/v1/functions`, token ? { headers: { authorization: `Bearer ${token}` } } : {});
      expect(res.status).toBe(401);
      expect((await res.json()).error).toMatch(/missing or invalid bearer token/);
    }
    const wrong = makeControlClient({ url: platform.apiUrl, token: "nope" });
    await expect(wrong.list()).rejects.toMatchObject({ status: 401 });
    // A function whose init throws never takes traffic: the deploy fails and says where to look.
    const broken = await functionVariant(BEHAVIOURS, yaml("broken", "{ min: 0 }"));
    const { writeFile } = await import("node:fs/promises");
    await writeFile(`${broken}/index.ts`, `import { defineFunction } from "skiff/runtime";\nexport default defineFunction({ init() { throw new Error("no model"); }, http: () => "x" });\n`);
    await expect(deploy(platform.client, broken)).rejects.toThrow(/did not start: .*exited with code 1.*skiff logs broken/);
    expect((await fetch(`${platform.gatewayUrl}/fn/broken/`)).status).toBe(404);
  });

  it("shows replica output tagged by replica in logs (and follows it), and deletes a function after draining it", async () => {
    const platform = await startTestPlatform();
    const { url } = await deploy(platform.client, HELLO);
    const replica = (await platform.client.describe("hello")).replicas.list[0]!.id;
    const recent: string[] = [];
    for await (const line of platform.client.logs("hello", { tail: 50 })) recent.push(line);
    expect(recent.some((l) => l.includes(` ${replica} `) && l.includes("listening"))).toBe(true);
    // Follow: a line printed after subscribing arrives (the runtime logs its drain on delete).
    const stop = new AbortController();
    const followed: string[] = [];
    const following = (async () => {
      for await (const line of platform.client.logs("hello", { follow: true, tail: 0, signal: stop.signal })) followed.push(line);
    })().catch(() => {});
    expect((await fetch(url)).status).toBe(200);
    await platform.client.delete("hello");
    await waitFor(() => followed.some((l) => l.includes(replica) && l.includes("SIGTERM: draining")), { what: "the drain line to be followed" });
    stop.abort();
    await following;
    expect((await fetch(url)).status).toBe(404);
    expect(await platform.client.list()).toEqual([]);
  });

  it("splits traffic across revisions by percent and rolls back", async () => {
    const platform = await startTestPlatform();
    const v1 = await functionVariant(BEHAVIOURS, yaml("split", "{ min: 0 }"));
    const first = await deploy(platform.client, v1);
    const { writeFile } = await import("node:fs/promises");
    await writeFile(`${v1}/function.yaml`, yaml("split", "{ min: 0 }").replace("GREETING: hi", "GREETING: v2"));
    const second = await deploy(platform.client, v1);
    expect(second.revision.id).not.toBe(first.revision.id);
    expect(await (await fetch(`${second.url}hello`)).text()).toBe("v2 from split");
    await platform.client.setTraffic("split", [{ revision: first.revision.id, percent: 50 }, { revision: second.revision.id, percent: 50 }]);
    const texts = new Set<string>();
    for (let i = 0; i < 40; i++) texts.add(await (await fetch(`${second.url}hello`)).text());
    expect(texts).toEqual(new Set(["hi from split", "v2 from split"]));
    const rolled = await platform.client.rollback("split", first.revision.id);
    expect(rolled.traffic).toEqual([{ revision: first.revision.id, percent: 100 }]);
    expect(await (await fetch(`${second.url}hello`)).text()).toBe("hi from split");
  });
});
