// The client against the API served over real HTTP: deploy round trips through the bundle
// format, errors carry the server's status and message, and log follows end on disconnect.
import type { AddressInfo } from "node:net";
import { type ServerType, serve } from "@hono/node-server";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { validateFunctionSpec } from "../../spec/index.ts";
import { makeControlApi } from "./app.ts";
import { makeControlClient } from "./client.ts";
import { ControlApiError } from "./errors.ts";
import { type MemoryOps, makeMemoryOps } from "./testdata/memory-ops.ts";

const TOKEN = "client-test-token";
let ops: MemoryOps;
let server: ServerType;
let url: string;

beforeAll(async () => {
  // One server; each test swaps in fresh ops behind it.
  const app = makeControlApi(
    new Proxy({} as MemoryOps, { get: (_target, key) => Reflect.get(ops, key as keyof MemoryOps, ops) }),
    { token: TOKEN, tokenFile: "/state/token" },
  );
  await new Promise<void>((resolve) => {
    server = serve({ fetch: app.fetch, hostname: "127.0.0.1", port: 0 }, () => resolve());
  });
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
});
beforeEach(() => {
  ops = makeMemoryOps();
});

async function failure(promise: Promise<unknown>): Promise<ControlApiError> {
  const error = await promise.then(() => undefined, (e: unknown) => e);
  expect(error).toBeInstanceOf(ControlApiError);
  return error as ControlApiError;
}

const spec = validateFunctionSpec({ name: "hello", timeout: "1m30s", maxBodySize: "3mb", events: [{ subject: "a.b", backoff: ["1s"] }] });

describe("control client", () => {
  it("deploys through the bundle format: files byte-identical, spec equal, traffic passed", async () => {
    const client = makeControlClient({ url: `${url}/`, token: TOKEN });
    const model = new Uint8Array(8 * 1024 * 1024);
    for (let i = 0; i < model.length; i += 4096) model[i] = i % 253;
    const files = new Map([["index.mjs", new TextEncoder().encode("export default 1")], ["assets/model.bin", model], ["empty", new Uint8Array(0)]]);
    const first = await client.deploy("hello", { spec, files });
    expect(first).toMatchObject({ created: true, revision: { fn: "hello" } });
    expect(ops.deploys[0]?.spec).toEqual(spec);
    // Compared as buffers: a deep equal over 8 MiB element by element takes a minute.
    const got = ops.deploys[0]!.files;
    expect([...got.keys()].sort()).toEqual([...files.keys()].sort());
    for (const [path, content] of files) expect(Buffer.compare(got.get(path)!, content), path).toBe(0);
    const second = await client.deploy("hello", { spec, files, traffic: [{ revision: "@latest", percent: 100 }] });
    expect(second.created).toBe(false);
    expect(ops.deploys[1]?.traffic).toEqual([{ revision: "@latest", percent: 100 }]);
  });

  it("lists, describes, sets traffic, rolls back and deletes", async () => {
    const client = makeControlClient({ url, token: TOKEN });
    const a = await client.deploy("hello", { spec, files: new Map([["a", new Uint8Array([1])]]) });
    const b = await client.deploy("hello", { spec, files: new Map([["a", new Uint8Array([2])]]) });
    expect((await client.list()).map((f) => f.name)).toEqual(["hello"]);
    expect((await client.describe("hello")).replicas).toMatchObject({ ready: 1, desired: 1 });
    const split = [{ revision: a.revision.id, percent: 10 }, { revision: b.revision.id, percent: 90 }];
    expect((await client.setTraffic("hello", split)).traffic).toEqual(split);
    expect((await client.rollback("hello", a.revision.id)).traffic).toEqual([{ revision: a.revision.id, percent: 100 }]);
    await client.delete("hello");
    expect(await client.list()).toEqual([]);
  });

  it.each([
    ["a wrong token", "wrong", (c: ReturnType<typeof makeControlClient>) => c.list(), 401, "missing or invalid bearer token (see /state/token)"],
    ["a wrong token on an upload", "wrong", (c: ReturnType<typeof makeControlClient>) => c.deploy("hello", { spec, files: new Map([["a", new Uint8Array(1 << 20)]]) }), 401, "bearer token"],
    ["an unknown function", TOKEN, (c: ReturnType<typeof makeControlClient>) => c.describe("ghost"), 404, 'function "ghost" not found'],
    ["an invalid name", TOKEN, (c: ReturnType<typeof makeControlClient>) => c.delete("No/Such"), 400, 'invalid function name "No/Such"'],
    ["a spec for another function", TOKEN, (c: ReturnType<typeof makeControlClient>) => c.deploy("other", { spec, files: new Map() }), 400, 'names function "hello"'],
  ])("reports %s as ControlApiError with the server's status and message", async (_what, token, act, status, message) => {
    const error = await failure(act(makeControlClient({ url, token })));
    expect(error.status).toBe(status);
    expect(error.message).toContain(message);
  });

  it("reports an unreachable server as status 0", async () => {
    const error = await failure(makeControlClient({ url: "http://127.0.0.1:1", token: TOKEN }).health());
    expect(error.status).toBe(0);
    expect(error.message).toMatch(/cannot reach the control API at http:\/\/127.0.0.1:1: .*skiff up/);
  });

  it("refuses a bad path before sending", async () => {
    const client = makeControlClient({ url, token: TOKEN });
    await expect(client.deploy("hello", { spec, files: new Map([["../x", new Uint8Array(1)]]) })).rejects.toThrow('"../x" contains ".."');
    expect(ops.deploys).toEqual([]);
  });
});

describe("log streaming", () => {
  it("prints recent lines, follows new ones, and ends the platform's stream when the client aborts", async () => {
    const client = makeControlClient({ url, token: TOKEN });
    await client.deploy("hello", { spec, files: new Map() });
    ops.emit("hello", "before 1");
    ops.emit("hello", "before 2");
    const abort = new AbortController();
    const seen: string[] = [];
    const reading = (async () => {
      for await (const line of client.logs("hello", { follow: true, tail: 1, signal: abort.signal })) {
        seen.push(line.split(" ").slice(2).join(" "));
        if (seen.length === 1) ops.emit("hello", "live\nmultiline");
        if (seen.length === 3) abort.abort();
      }
    })();
    await reading;
    expect(seen).toEqual(["before 2", "live", "multiline"]);
    // The server noticed the disconnect and aborted the platform's iterable.
    await ops.waitFollowers((n) => n === 0);
  });

  it("ends a follow when a raw HTTP client disconnects", async () => {
    await makeControlClient({ url, token: TOKEN }).deploy("hello", { spec, files: new Map() });
    const abort = new AbortController();
    const res = await fetch(`${url}/v1/functions/hello/logs?follow=1`, { headers: { authorization: `Bearer ${TOKEN}` }, signal: abort.signal });
    expect(res.status).toBe(200);
    await ops.waitFollowers((n) => n === 1);
    abort.abort();
    await ops.waitFollowers((n) => n === 0);
  });

  it("ends without follow once the lines are sent", async () => {
    const client = makeControlClient({ url, token: TOKEN });
    await client.deploy("hello", { spec, files: new Map() });
    ops.emit("hello", "only");
    const lines: string[] = [];
    for await (const line of client.logs("hello")) lines.push(line);
    expect(lines).toEqual(["2025-01-01T00:00:00.000Z hello-r1 only"]);
  });
});
