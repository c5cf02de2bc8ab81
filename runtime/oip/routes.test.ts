import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { parseFunctionSpec } from "../../spec/index.ts";
import { makeApp } from "../app.ts";
import { defineFunction } from "../define-function.ts";
import { makeLogger } from "../logger.ts";
import { makeReplicaState } from "../replica-state.ts";
import type { FunctionDefinition, InitContext } from "../types.ts";
import { ModelServer } from "./model-server.ts";
import { mountOip, parseOipPath, SKIFF_VERSION } from "./routes.ts";
import type { ModelDefinition } from "./types.ts";

describe("parseOipPath", () => {
  it.each([
    ["/v2", { kind: "server-metadata" }],
    ["/v2/", { kind: "server-metadata" }],
    ["/v2/health/live", { kind: "server-live" }],
    ["/v2/health/ready", { kind: "server-ready" }],
    ["/v2/models/m", { kind: "model-metadata", model: "m", version: undefined }],
    ["/v2/models/m/ready", { kind: "model-ready", model: "m", version: undefined }],
    ["/v2/models/m/infer", { kind: "infer", model: "m", version: undefined }],
    ["/v2/models/m/versions/3", { kind: "model-metadata", model: "m", version: "3" }],
    ["/v2/models/m/versions/3/ready", { kind: "model-ready", model: "m", version: "3" }],
    ["/v2/models/a%20b/versions/3/infer", { kind: "infer", model: "a b", version: "3" }],
    ["/v2/health", undefined],
    ["/v2/models", undefined],
    ["/v2/models/m/versions", undefined],
    ["/v2/models/m/predict", undefined],
    ["/v2/models/%E0/infer", undefined],
    ["/v1/models/m", undefined],
  ])("%s", (path, route) => {
    expect(parseOipPath(path)).toEqual(route);
  });

  it("reports the version in package.json", () => {
    expect(SKIFF_VERSION).toBe((JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as { version: string }).version);
  });
});

const MODEL: ModelDefinition<{ scale: number }> = {
  metadata: () => ({ inputs: [{ name: "x", datatype: "FP32", shape: [-1] }], outputs: [{ name: "y", datatype: "FP32", shape: [-1] }] }),
  infer: (inputs, ctx) => ({ y: { datatype: "FP32", shape: inputs.x!.shape, data: (inputs.x!.data as Float32Array).map((v) => v * ctx.state.scale) } }),
};

/** A replica's app in-process, for a function with this definition. */
async function makeTestApp(definition: FunctionDefinition<{ scale: number }>, load = true) {
  const fn = defineFunction(definition);
  const spec = parseFunctionSpec("name: scaler\n");
  const state = makeReplicaState({ concurrency: 4, queueSize: 4 });
  const logger = makeLogger({ level: "error", write: () => {} });
  const baseContext: InitContext = { name: spec.name, env: {}, logger, signal: new AbortController().signal, assetPath: (p) => p };
  const model = new ModelServer(fn.model as ModelDefinition<unknown>, { spec, registry: state.metrics.registry, logger });
  if (load) {
    await model.load({ ...baseContext, state: { scale: 2 } });
    state.phase = "ready";
  }
  const app = makeApp({ fn, spec, state, logger, baseContext, initState: () => ({ scale: 2 }) }, { server: model, mount: mountOip });
  const call = (path: string, init?: RequestInit) => app.request(`http://replica${path}`, init);
  return { call, state };
}
const post = (body: unknown): RequestInit => ({ method: "POST", body: JSON.stringify(body) });

describe("the OIP routes of a replica", () => {
  it("serve the model under /v2 (before http) and leave other paths to http", async () => {
    const { call } = await makeTestApp({ model: MODEL, http: () => ({ from: "http" }) });
    const res = await call("/v2/models/scaler/infer", post({ id: "a", inputs: [{ name: "x", datatype: "FP32", shape: [2], data: [1, 2] }] }));
    expect(await res.json()).toEqual({ model_name: "scaler", id: "a", outputs: [{ name: "y", datatype: "FP32", shape: [2], data: [2, 4] }] });
    expect(await (await call("/v2/models/scaler")).json()).toEqual({ name: "scaler", platform: "skiff", ...MODEL.metadata(null as never) });
    expect(await (await call("/elsewhere")).json()).toEqual({ from: "http" });
  });

  it("answer {error} with 400, 404 and 405, and a model-only function 404s off /v2", async () => {
    const { call } = await makeTestApp({ model: MODEL });
    const bad = await call("/v2/models/scaler/infer", post({ inputs: [{ name: "x", datatype: "FP32", shape: [2], data: [1] }] }));
    expect(bad.status).toBe(400);
    expect((await bad.json()).error).toBe('input "x": data has 1 elements but shape [2] needs 2');
    const versioned = await call("/v2/models/scaler/versions/1");
    expect([versioned.status, (await versioned.json()).error]).toEqual([404, 'model "scaler" has no version "1" (it declares no versions)']);
    expect((await call("/v2/nothing")).status).toBe(404);
    const wrongMethod = await call("/v2/models/scaler/infer");
    expect([wrongMethod.status, wrongMethod.headers.get("allow")]).toEqual([405, "POST"]);
    expect((await call("/v2/health/live", { method: "POST" })).status).toBe(405);
    const off = await call("/predict");
    expect([off.status, (await off.json()).error]).toEqual([404, 'function "scaler" serves a model: use /v2/models/scaler/infer']);
  });

  it("are unready, and refuse metadata and infer with 503, until the model is loaded", async () => {
    const { call } = await makeTestApp({ model: { ...MODEL, name: "other" } }, false);
    expect((await call("/v2/health/live")).status).toBe(200);
    expect([(await call("/v2/health/ready")).status, (await call("/v2/models/other/ready")).status]).toEqual([503, 503]);
    const meta = await call("/v2/models/other");
    expect([meta.status, (await meta.json()).error]).toEqual([503, 'model "other" is not loaded yet (init is still running)']);
    expect((await call("/v2/models/other/infer", post({}))).status).toBe(503);
  });

  it("map a throwing infer to 500 {error, requestId}", async () => {
    const { call } = await makeTestApp({
      model: { ...MODEL, infer: () => Promise.reject(new Error("model exploded")) },
    });
    const res = await call("/v2/models/scaler/infer", { ...post({ inputs: [{ name: "x", datatype: "FP32", shape: [1], data: [1] }] }), headers: { "x-request-id": "r1" } });
    expect([res.status, await res.json()]).toEqual([500, { error: "model exploded", requestId: "r1" }]);
  });
});

describe("defineFunction with a model", () => {
  it("accepts a model alone and checks its hooks", () => {
    expect(defineFunction({ model: MODEL }).model).toBe(MODEL);
    expect(() => defineFunction({ model: { metadata: MODEL.metadata } as never })).toThrow("model needs metadata(ctx) and infer(inputs, ctx) functions");
    expect(() => defineFunction({ model: { ...MODEL, name: "" } })).toThrow("model.name must be a non-empty string");
    expect(() => defineFunction({})).toThrow("defineFunction needs an http or an event handler, or a model");
  });
});
