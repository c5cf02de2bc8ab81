import { describe, expect, it, vi } from "vitest";
import { SpecError, validateFunctionSpec } from "../../spec/index.ts";
import { ConflictError, CorruptStateError } from "../store/index.ts";
import { makeControlApi } from "./app.ts";
import { BUNDLE_CONTENT_TYPE, encodeBundle } from "./bundle-format.ts";
import { makeMemoryOps } from "./testdata/memory-ops.ts";
import type { PlatformOps } from "./types.ts";

const TOKEN = "s3cret-token";
const auth = { authorization: `Bearer ${TOKEN}` };
const text = (s: string) => new TextEncoder().encode(s);

function setup(overrides: Partial<PlatformOps> = {}, limits = {}) {
  const ops = makeMemoryOps();
  const onError = vi.fn();
  const app = makeControlApi({ ...ops, ...overrides }, { token: TOKEN, tokenFile: "/state/token", onError, bundleLimits: limits });
  return { ops, app, onError };
}

function bundle(meta: Record<string, unknown>, files = new Map([["index.mjs", text("export default 1")]])): Uint8Array {
  return encodeBundle({ meta, files });
}

const deployInit = (body: Uint8Array, headers: Record<string, string> = {}): RequestInit => ({
  method: "PUT", body: body as BodyInit, headers: { ...auth, "content-type": BUNDLE_CONTENT_TYPE, ...headers },
});

describe("control API auth", () => {
  it("serves /v1/health without a token", async () => {
    const res = await setup().app.request("/v1/health");
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ ok: true });
  });

  it.each([
    ["no header", {}],
    ["a wrong token", { authorization: "Bearer wrong" }],
    ["a token prefix", { authorization: `Bearer ${TOKEN.slice(0, -1)}` }],
    ["another scheme", { authorization: `Basic ${TOKEN}` }],
    ["an empty bearer", { authorization: "Bearer " }],
  ])("answers 401 with a hint and WWW-Authenticate for %s", async (_what, headers) => {
    for (const path of ["/v1/functions", "/v1/functions/hello", "/v1/no-such-route"]) {
      const res = await setup().app.request(path, { headers });
      expect(res.status).toBe(401);
      expect(res.headers.get("www-authenticate")).toBe("Bearer");
      expect(await res.json()).toEqual({ error: "missing or invalid bearer token (see /state/token)" });
    }
  });

  it("accepts the right token (scheme in any case) and 404s unknown routes as JSON", async () => {
    const { app } = setup();
    expect((await app.request("/v1/functions", { headers: { authorization: `bearer ${TOKEN}` } })).status).toBe(200);
    const res = await app.request("/v1/nope", { headers: auth });
    expect(res.status).toBe(404);
    expect(await res.json()).toEqual({ error: "no such route: GET /v1/nope" });
  });

  it("refuses to start with an empty token", () => {
    expect(() => makeControlApi(makeMemoryOps(), { token: " " })).toThrow(/non-empty token/);
  });
});

describe("control API requests", () => {
  it.each([
    ["GET", "/v1/functions/Bad_Name"],
    ["DELETE", "/v1/functions/-x"],
    ["POST", "/v1/functions/a.b/rollback"],
    ["GET", `/v1/functions/${"a".repeat(64)}/logs`],
  ])("answers 400 naming an invalid function name: %s %s", async (method, path) => {
    const res = await setup().app.request(path, { method, headers: auth });
    expect(res.status).toBe(400);
    const name = decodeURIComponent(path.split("/")[3]!);
    expect((await res.json()).error).toContain(`invalid function name ${JSON.stringify(name)}`);
  });

  it.each([
    ["GET", "/v1/functions/ghost", undefined],
    ["DELETE", "/v1/functions/ghost", undefined],
    ["POST", "/v1/functions/ghost/rollback", "{}"],
    ["PUT", "/v1/functions/ghost/traffic", '{"traffic":[{"revision":"x","percent":100}]}'],
    ["GET", "/v1/functions/ghost/logs", undefined],
  ])("answers 404 for an unknown function: %s %s", async (method, path, body) => {
    const res = await setup().app.request(path, { method, headers: auth, ...(body ? { body } : {}) });
    expect(res.status).toBe(404);
    expect((await res.json()).error).toContain('"ghost"');
  });

  it.each([
    ["invalid JSON", "{", "not valid JSON"],
    ["an array", "[]", "must be a JSON object"],
    ["an empty body", "", "request body is empty"],
    ["no traffic", "{}", "traffic: expected a non-empty list"],
    ["an unknown key", '{"traffic":[{"revision":"a","percent":100}],"x":1}', 'unknown key "x"'],
    ["percents not summing to 100", '{"traffic":[{"revision":"a","percent":60}]}', "sum to 100, got 60"],
    ["a fractional percent", '{"traffic":[{"revision":"a","percent":0.5},{"revision":"b","percent":99.5}]}', "traffic[0].percent"],
  ])("answers 400 to a traffic body with %s", async (_what, body, message) => {
    const { app, ops } = setup();
    await ops.deploy({ name: "hello", spec: validateFunctionSpec({ name: "hello" }), files: new Map() });
    const res = await app.request("/v1/functions/hello/traffic", { method: "PUT", headers: auth, body });
    expect(res.status).toBe(400);
    expect((await res.json()).error).toContain(message);
  });

  it.each([
    ['{"to": 5}', '"to" must be a revision id'],
    ['{"back": true}', 'unknown key "back"'],
  ])("answers 400 to the rollback body %s", async (body, message) => {
    const { app, ops } = setup();
    await ops.deploy({ name: "hello", spec: validateFunctionSpec({ name: "hello" }), files: new Map() });
    const res = await app.request("/v1/functions/hello/rollback", { method: "POST", headers: auth, body });
    expect(res.status).toBe(400);
    expect((await res.json()).error).toContain(message);
  });

  it.each([
    ["tail=-1", "tail must be a whole number"],
    ["tail=abc", "tail must be a whole number"],
    ["tail=100001", "tail must be a whole number"],
    ["follow=yes", "follow must be 1 or 0"],
  ])("answers 400 to logs?%s", async (query, message) => {
    const { app, ops } = setup();
    await ops.deploy({ name: "hello", spec: validateFunctionSpec({ name: "hello" }), files: new Map() });
    const res = await app.request(`/v1/functions/hello/logs?${query}`, { headers: auth });
    expect(res.status).toBe(400);
    expect((await res.json()).error).toContain(message);
  });

  it.each([
    ["ConflictError", new ConflictError("nothing to roll back to"), 409, "nothing to roll back to"],
    ["CorruptStateError", new CorruptStateError("/state/functions/hello.json", "not valid JSON"), 500, "/state/functions/hello.json"],
    ["an unexpected error", new TypeError("boom"), 500, "internal error: boom"],
  ])("maps %s from the platform to its status", async (_what, error, status, message) => {
    const { app, onError } = setup({ rollback: async () => { throw error; } });
    const res = await app.request("/v1/functions/hello/rollback", { method: "POST", headers: auth });
    expect(res.status).toBe(status);
    expect((await res.json()).error).toContain(message);
    expect(onError).toHaveBeenCalledTimes(error instanceof TypeError ? 1 : 0);
  });

  it("serves the last lines of a log with tail", async () => {
    const { app, ops } = setup();
    await ops.deploy({ name: "hello", spec: validateFunctionSpec({ name: "hello" }), files: new Map() });
    for (const line of ["one", "two", "three"]) ops.emit("hello", line);
    const res = await app.request("/v1/functions/hello/logs?tail=2", { headers: auth });
    expect(res.headers.get("content-type")).toBe("text/plain; charset=utf-8");
    expect(await res.text()).toBe("2025-01-01T00:00:00.001Z hello-r1 two\n2025-01-01T00:00:00.002Z hello-r1 three\n");
  });
});

describe("control API deploy", () => {
  const spec = { name: "hello", timeout: "5s" };

  it("deploys a bundle: 201 when created, 200 when updated, files and spec intact", async () => {
    const { app, ops } = setup();
    const files = new Map([["index.mjs", text("export default 1")], ["assets/w.bin", new Uint8Array([0, 1, 2])]]);
    const first = await app.request("/v1/functions/hello", deployInit(bundle({ spec }, files)));
    expect(first.status).toBe(201);
    expect(await first.json()).toMatchObject({ created: true, url: "http://gw/fn/hello/", revision: { fn: "hello" } });
    const second = await app.request("/v1/functions/hello", deployInit(bundle({ spec, traffic: [{ revision: "@latest", percent: 100 }] }, files)));
    expect(second.status).toBe(200);
    expect(ops.deploys[0]).toEqual({ name: "hello", spec: validateFunctionSpec(spec), files });
    expect(ops.deploys[1]?.traffic).toEqual([{ revision: "@latest", percent: 100 }]);
  });

  it("passes spec errors through verbatim", async () => {
    const bad = { name: "hello", timeout: "soon", scale: { max: 0 } };
    const res = await setup().app.request("/v1/functions/hello", deployInit(bundle({ spec: bad })));
    expect(res.status).toBe(400);
    let want = "";
    try {
      validateFunctionSpec(bad, { file: "function.yaml" });
    } catch (error) {
      want = (error as SpecError).message;
    }
    expect(want).toContain("timeout");
    expect((await res.json()).error).toBe(want);
  });

  it.each([
    ["a spec for another function", bundle({ spec: { name: "other" } }), 400, 'names function "other", but the request deploys "hello"'],
    ["no spec", bundle({}), 400, "bundle header has no spec"],
    ["an unknown header key", bundle({ spec, extra: 1 }), 400, 'unknown key "extra"'],
    ["bad traffic", bundle({ spec, traffic: [{ revision: "@latest", percent: 50 }] }), 400, "sum to 100"],
    ["a truncated bundle", bundle({ spec }).subarray(0, 40), 400, "truncated bundle"],
    ["an empty body", new Uint8Array(0), 400, "truncated bundle: it ended inside the magic bytes"],
    ["a tar file", text("PK\u0003\u0004 or a tarball, anyway not a bundle"), 400, "not a skiff bundle"],
  ])("answers %s with a clear error", async (_what, body, status, message) => {
    const res = await setup().app.request("/v1/functions/hello", deployInit(body));
    expect(res.status).toBe(status);
    expect((await res.json()).error).toContain(message);
  });

  it("answers 415 to another content type and 413 to a too large bundle", async () => {
    const { app } = setup({}, { maxTotalBytes: 100 });
    const wrongType = await app.request("/v1/functions/hello", deployInit(bundle({ spec }), { "content-type": "application/x-tar" }));
    expect(wrongType.status).toBe(415);
    expect((await wrongType.json()).error).toContain(`Content-Type: ${BUNDLE_CONTENT_TYPE}`);
    const big = bundle({ spec }, new Map([["model.bin", new Uint8Array(200)]]));
    const declared = await app.request("/v1/functions/hello", deployInit(big, { "content-length": String(big.length) }));
    expect(declared.status).toBe(413);
    const streamed = await app.request("/v1/functions/hello", deployInit(big));
    expect(streamed.status).toBe(413);
    expect((await streamed.json()).error).toContain("limit of 100");
  });
});
