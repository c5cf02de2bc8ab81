// Dead-letter routes and client methods over the in-memory platform: listing with a limit,
// redrive counts, 404 for an unknown function, 400 for a bad limit, 501 without an event side.
import type { AddressInfo } from "node:net";
import { type ServerType, serve } from "@hono/node-server";
import { afterEach, describe, expect, it } from "vitest";
import { validateFunctionSpec } from "../../spec/index.ts";
import { makeControlApi } from "./app.ts";
import { makeControlClient } from "./client.ts";
import { ControlApiError } from "./errors.ts";
import { type MemoryOps, makeMemoryOps } from "./testdata/memory-ops.ts";
import type { DeadLetterSummary, PlatformOps } from "./types.ts";

const TOKEN = "dlq-token";
const auth = { authorization: `Bearer ${TOKEN}` };
const spec = validateFunctionSpec({ name: "detect", events: [{ subject: "ocr.in" }] });

function letter(seq: number, extra: Partial<DeadLetterSummary> = {}): DeadLetterSummary {
  return {
    seq, subject: "ocr.in", reason: "status 400", status: 400, error: "bad image", deliveries: 1, time: "2025-01-01T00:00:00.000Z",
    event: { id: `ev-${seq}`, type: "skiff.ocr.image", source: "/cam/ü", datacontenttype: "application/json", data: { n: seq, text: "héllo 🌍" } },
    ...extra,
  };
}

async function withFunction(): Promise<MemoryOps> {
  const ops = makeMemoryOps();
  await ops.deploy({ name: "detect", spec, files: new Map([["index.mjs", new Uint8Array([1])]]) });
  ops.deadLetters.set("detect", [letter(1), letter(2, { reason: "maxDeliver", status: 503, deliveries: 5 }), letter(3, { event: undefined, reason: "invalid event" })]);
  return ops;
}

describe("dead-letter routes", () => {
  it("lists dead letters oldest first, honouring limit", async () => {
    const ops = await withFunction();
    const app = makeControlApi(ops, { token: TOKEN });
    const all = await app.request("/v1/functions/detect/dlq", { headers: auth });
    expect(all.status).toBe(200);
    expect(await all.json()).toEqual({ deadLetters: ops.deadLetters.get("detect") });
    const two = await (await app.request("/v1/functions/detect/dlq?limit=2", { headers: auth })).json();
    expect(two.deadLetters.map((d: DeadLetterSummary) => d.seq)).toEqual([1, 2]);
  });

  it("redrives and reports redriven, failed and remaining", async () => {
    const ops = await withFunction();
    ops.failRedrive.add(3);
    const app = makeControlApi(ops, { token: TOKEN });
    const res = await app.request("/v1/functions/detect/dlq/redrive", { method: "POST", headers: auth });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ redriven: 2, failed: 1, remaining: 1 });
    expect(ops.deadLetters.get("detect")!.map((d) => d.seq)).toEqual([3]);
  });

  it.each([
    ["GET", "/v1/functions/ghost/dlq", 404, 'function "ghost" not found'],
    ["POST", "/v1/functions/ghost/dlq/redrive", 404, 'function "ghost" not found'],
    ["GET", "/v1/functions/Bad_Name/dlq", 400, 'invalid function name "Bad_Name"'],
    ["GET", "/v1/functions/detect/dlq?limit=0", 400, "limit must be a whole number from 1 to 10000, got \"0\""],
    ["GET", "/v1/functions/detect/dlq?limit=-1", 400, "limit must be a whole number"],
    ["GET", "/v1/functions/detect/dlq?limit=abc", 400, "limit must be a whole number"],
  ])("%s %s answers %i", async (method, path, status, message) => {
    const app = makeControlApi(await withFunction(), { token: TOKEN });
    const res = await app.request(path, { method, headers: auth });
    expect(res.status).toBe(status);
    expect((await res.json()).error).toContain(message);
  });

  it("needs the token", async () => {
    const app = makeControlApi(await withFunction(), { token: TOKEN });
    expect((await app.request("/v1/functions/detect/dlq")).status).toBe(401);
    expect((await app.request("/v1/functions/detect/dlq/redrive", { method: "POST" })).status).toBe(401);
  });

  it("answers 501 when the platform has no dead letters to offer", async () => {
    const { dlqList: _list, dlqRedrive: _redrive, ...rest } = await withFunction();
    const app = makeControlApi(rest as PlatformOps, { token: TOKEN });
    for (const [method, path] of [["GET", "/v1/functions/detect/dlq"], ["POST", "/v1/functions/detect/dlq/redrive"]] as const) {
      const res = await app.request(path, { method, headers: auth });
      expect(res.status).toBe(501);
      expect((await res.json()).error).toBe("dead letters are not available: this platform runs without NATS events");
    }
  });
});

describe("dead-letter client methods", () => {
  let server: ServerType | undefined;
  afterEach(async () => {
    if (server) await new Promise((resolve) => server!.close(resolve));
    server = undefined;
  });

  async function serveOps(ops: MemoryOps): Promise<string> {
    const app = makeControlApi(ops, { token: TOKEN });
    await new Promise<void>((resolve) => {
      server = serve({ fetch: app.fetch, hostname: "127.0.0.1", port: 0 }, () => resolve());
    });
    return `http://127.0.0.1:${(server!.address() as AddressInfo).port}`;
  }

  it("lists with and without a limit, redrives, and reports an unknown function as a 404", async () => {
    const ops = await withFunction();
    const client = makeControlClient({ url: await serveOps(ops), token: TOKEN });
    expect(await client.dlqList("detect")).toEqual(ops.deadLetters.get("detect"));
    expect((await client.dlqList("detect", { limit: 1 })).map((d) => d.seq)).toEqual([1]);
    expect(await client.dlqRedrive("detect")).toEqual({ redriven: 3, failed: 0, remaining: 0 });
    expect(await client.dlqList("detect")).toEqual([]);
    const error = await client.dlqList("ghost").catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ControlApiError);
    expect(error).toMatchObject({ status: 404, message: 'function "ghost" not found' });
  });
});
