// Open Inference Protocol v2 through a real replica built from test/fixtures/model (a linear
// layer served as model "linear", batched with maxSize 8 and maxDelay 20ms).
import { cp, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startBuiltReplica, waitReady, type RunningReplica } from "./harness/replica.ts";
import { waitFor } from "./harness/wait-for.ts";

const FIXTURE = fileURLToPath(new URL("./fixtures/model", import.meta.url));
const W = [
  [0.5, -1],
  [0.25, 2],
  [-0.75, 0.5],
  [1, 0.125],
];
const B = [0.1, -0.2];

/** y = xW + b for one row, in float32 as the fixture stores it. */
const linear = (row: number[]) => [0, 1].map((j) => Math.fround(row.reduce((acc, v, i) => acc + v * W[i]![j]!, B[j]!)));

const json = async (res: Response) => (await res.json()) as Record<string, any>;
const infer = (url: string, body: unknown, path = "/v2/models/linear/infer") =>
  fetch(`${url}${path}`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
const xInput = (rows: number[][]) => ({ name: "x", datatype: "FP32", shape: [rows.length, 4], data: rows });
const calls = async (url: string) => ((await json(await fetch(`${url}/calls`))).rows as number[]);

let replica: RunningReplica;
beforeAll(async () => {
  replica = await startBuiltReplica(FIXTURE);
  await waitReady(replica.url);
});

describe("OIP v2 health and metadata", () => {
  it("serves server liveness, readiness and metadata", async () => {
    expect(await json(await fetch(`${replica.url}/v2/health/live`))).toEqual({ live: true });
    expect(await json(await fetch(`${replica.url}/v2/health/ready`))).toEqual({ ready: true });
    const pkg = JSON.parse(await readFile(fileURLToPath(new URL("../package.json", import.meta.url)), "utf8")) as { version: string };
    expect(await json(await fetch(`${replica.url}/v2`))).toEqual({ name: "skiff", version: pkg.version, extensions: ["binary_tensor_data"] });
  });

  it("serves model metadata and readiness, versioned or not; 404 for another model or version", async () => {
    const meta = {
      name: "linear",
      versions: ["1"],
      platform: "skiff_linear",
      inputs: [{ name: "x", datatype: "FP32", shape: [-1, 4] }],
      outputs: [
        { name: "y", datatype: "FP32", shape: [-1, 2] },
        { name: "argmax", datatype: "INT64", shape: [-1] },
        { name: "label", datatype: "BYTES", shape: [-1] },
      ],
    };
    expect(await json(await fetch(`${replica.url}/v2/models/linear`))).toEqual(meta);
    expect(await json(await fetch(`${replica.url}/v2/models/linear/versions/1`))).toEqual(meta);
    expect(await json(await fetch(`${replica.url}/v2/models/linear/ready`))).toEqual({ name: "linear", ready: true });
    const other = await fetch(`${replica.url}/v2/models/resnet`);
    expect(other.status).toBe(404);
    expect(await json(other)).toEqual({ error: 'unknown model "resnet" (this replica serves "linear")' });
    const version = await fetch(`${replica.url}/v2/models/linear/versions/7/ready`);
    expect(version.status).toBe(404);
    expect((await json(version)).error).toBe('model "linear" has no version "7" (it has "1")');
  });

  it("stays unready (server and model) until init has finished, while live", async () => {
    const slow = await startBuiltReplica(FIXTURE, { INIT_DELAY_MS: "1500" });
    expect((await fetch(`${slow.url}/v2/health/live`)).status).toBe(200);
    const ready = await fetch(`${slow.url}/v2/health/ready`);
    expect([ready.status, await json(ready)]).toEqual([503, { ready: false }]);
    const modelReady = await fetch(`${slow.url}/v2/models/linear/ready`);
    expect([modelReady.status, await json(modelReady)]).toEqual([503, { name: "linear", ready: false }]);
    expect((await infer(slow.url, { inputs: [xInput([[1, 2, 3, 4]])] })).status).toBe(503);
    await waitFor(async () => (await fetch(`${slow.url}/v2/health/ready`)).status === 200, { what: "OIP readiness after init", timeoutMs: 15_000 });
    expect((await fetch(`${slow.url}/v2/models/linear/ready`)).status).toBe(200);
  });
});

describe("OIP v2 infer", () => {
  it("answers JSON tensors (nested or flat) with the id echoed and the outputs asked for", async () => {
    const rows = [
      [1, 2, 3, 4],
      [-1, 0.5, 0, 2],
    ];
    const res = await infer(replica.url, { id: "req-7", inputs: [xInput(rows)] });
    expect(res.status).toBe(200);
    const body = await json(res);
    expect(body.id).toBe("req-7");
    expect(body.model_name).toBe("linear");
    const [y, argmax, label] = body.outputs;
    expect(y).toMatchObject({ name: "y", datatype: "FP32", shape: [2, 2] });
    expect(y.data).toEqual(rows.flatMap(linear));
    expect(argmax).toEqual({ name: "argmax", datatype: "INT64", shape: [2], data: rows.map((r) => (linear(r)[0]! >= linear(r)[1]! ? 0 : 1)) });
    expect(label.data).toEqual(argmax.data.map((i: number) => (i === 0 ? "first" : "second")));
    const flat = await json(
      await infer(replica.url, { inputs: [{ ...xInput(rows), data: rows.flat() }], outputs: [{ name: "label" }] }, "/v2/models/linear/versions/1/infer"),
    );
    expect(flat.model_version).toBe("1");
    expect(flat.outputs).toEqual([label]);
  });

  it("takes binary input and returns binary outputs (Inference-Header-Content-Length)", async () => {
    const rows = [
      [0.5, 0.25, -2, 1],
      [3, -1, 1, 0],
    ];
    const x = new Float32Array(rows.flat());
    const header = new TextEncoder().encode(
      JSON.stringify({
        inputs: [{ name: "x", datatype: "FP32", shape: [2, 4], parameters: { binary_data_size: x.byteLength } }],
        outputs: [{ name: "y", parameters: { binary_data: true } }, { name: "label", parameters: { binary_data: true } }, { name: "argmax" }],
      }),
    );
    const res = await fetch(`${replica.url}/v2/models/linear/infer`, {
      method: "POST",
      headers: { "content-type": "application/octet-stream", "inference-header-content-length": String(header.byteLength) },
      body: Buffer.concat([header, new Uint8Array(x.buffer)]),
    });
    expect(res.status).toBe(200);
    const bytes = new Uint8Array(await res.arrayBuffer());
    const jsonLength = Number(res.headers.get("inference-header-content-length"));
    const head = JSON.parse(new TextDecoder().decode(bytes.subarray(0, jsonLength))) as Record<string, any>;
    const [y, label, argmax] = head.outputs;
    expect(y).toEqual({ name: "y", datatype: "FP32", shape: [2, 2], parameters: { binary_data_size: 16 } });
    expect(Array.from(new Float32Array(bytes.slice(jsonLength, jsonLength + 16).buffer))).toEqual(rows.flatMap(linear));
    const labels = bytes.subarray(jsonLength + 16);
    expect(label.parameters.binary_data_size).toBe(labels.byteLength);
    expect(decodeStrings(labels)).toEqual(argmax.data.map((i: number) => (i === 0 ? "first" : "second")));
  });

  it("maps bad input to 400, unknown model or version to 404 and a throwing model to 500, all as {error}", async () => {
    const cases: Array<[unknown, string, number, string]> = [
      [{ inputs: [{ ...xInput([[1, 2, 3, 4]]), datatype: "FP64" }] }, "/v2/models/linear/infer", 400, 'input "x": datatype FP64 does not match the model\'s FP32'],
      [{ inputs: [{ ...xInput([[1, 2, 3]]), shape: [1, 3] }] }, "/v2/models/linear/infer", 400, 'input "x": shape [1,3] does not match the model\'s [-1,4]'],
      [{ inputs: [{ ...xInput([[1, 2, 3, 4]]), shape: [2, 4] }] }, "/v2/models/linear/infer", 400, 'input "x": data has 4 elements but shape [2,4] needs 8'],
      [{ inputs: [{ ...xInput([[1, 2, 3, 4]]), name: "z" }] }, "/v2/models/linear/infer", 400, 'unknown input "z" (the model takes "x")'],
      [{ inputs: [xInput([[1, 2, 3, 4]])] }, "/v2/models/nope/infer", 404, 'unknown model "nope" (this replica serves "linear")'],
      [{ inputs: [xInput([[1, 2, 3, 4]])] }, "/v2/models/linear/versions/2/infer", 404, 'model "linear" has no version "2" (it has "1")'],
      [{ inputs: [xInput([[666, 0, 0, 0]])] }, "/v2/models/linear/infer", 500, "poisoned row 0"],
    ];
    for (const [body, path, status, error] of cases) {
      const res = await infer(replica.url, body, path);
      expect([res.status, (await json(res)).error]).toEqual([status, error]);
    }
    const notJson = await fetch(`${replica.url}/v2/models/linear/infer`, { method: "POST", body: "{" });
    expect(notJson.status).toBe(400);
    expect((await json(notJson)).error).toMatch(/^request body is not valid JSON/);
    expect((await fetch(`${replica.url}/v2/models/linear/infer`)).status).toBe(405);
  });

  it("applies the timeout per request (504), batching or not", async () => {
    const res = await infer(replica.url, { inputs: [xInput([[777, 0, 0, 0]])] });
    expect([res.status, (await json(res)).error]).toEqual([504, "handler did not respond within the timeout (1000ms)"]);
  });
});

describe("adaptive batching", () => {
  let unbatchedDir: string;
  afterAll(async () => {
    if (unbatchedDir) await rm(unbatchedDir, { recursive: true, force: true });
  });

  const rowsFor = (n: number) => Array.from({ length: n }, (_, i) => [i, i / 3, -i / 7, 1 - i]);

  it("groups concurrent requests into batches, runs a lone request alone, and answers as unbatched", async () => {
    const before = (await calls(replica.url)).length;
    const rows = rowsFor(16);
    const results = await Promise.all(rows.map((row) => infer(replica.url, { inputs: [xInput([row])] }).then(json)));
    const sizes = (await calls(replica.url)).slice(before);
    expect(sizes.reduce((a, b) => a + b, 0)).toBe(16);
    expect(Math.max(...sizes)).toBeGreaterThan(1);
    expect(Math.max(...sizes)).toBeLessThanOrEqual(8);
    const metrics = await (await fetch(`${replica.url}/_skiff/metrics`)).text();
    expect(metrics).toContain("# TYPE skiff_batch_size histogram");
    expect(metrics).toMatch(/skiff_batch_delay_seconds_count \d+/);

    const alone = (await calls(replica.url)).length;
    await infer(replica.url, { inputs: [xInput([rows[3]!])] }).then(json);
    expect((await calls(replica.url)).slice(alone)).toEqual([1]);

    // The same requests one at a time against the fixture without `batch`.
    unbatchedDir = await mkdtemp(join(tmpdir(), "skiff-model-"));
    await cp(FIXTURE, unbatchedDir, { recursive: true, filter: (src) => !src.includes(".skiff") });
    const yaml = await readFile(join(unbatchedDir, "function.yaml"), "utf8");
    await writeFile(join(unbatchedDir, "function.yaml"), yaml.replace(/^batch:.*\n/m, ""));
    const plain = await startBuiltReplica(unbatchedDir);
    await waitReady(plain.url);
    const metricsPlain = await (await fetch(`${plain.url}/_skiff/metrics`)).text();
    expect(metricsPlain).not.toContain("skiff_batch_size");
    for (const [i, row] of rows.entries()) {
      expect(await json(await infer(plain.url, { inputs: [xInput([row])] }))).toEqual(results[i]);
    }
  });

  it("fails only the request whose row makes the batched call throw", async () => {
    const rows = rowsFor(8);
    rows[5] = [666, 0, 0, 0];
    const before = (await calls(replica.url)).length;
    const answers = await Promise.all(rows.map((row) => infer(replica.url, { inputs: [xInput([row])] })));
    expect(answers.map((r) => r.status)).toEqual([200, 200, 200, 200, 200, 500, 200, 200]);
    expect((await json(answers[5]!)).error).toBe("poisoned row 0");
    expect((await json(answers[0]!)).outputs[0].data).toEqual(linear(rows[0]!));
    // At least one batched call failed and its requests were retried one by one.
    expect((await calls(replica.url)).slice(before).filter((n) => n === 1).length).toBeGreaterThanOrEqual(2);
    expect(await (await fetch(`${replica.url}/_skiff/metrics`)).text()).toMatch(/skiff_batch_retries_total [1-9]/);
  });
});

/** BYTES elements from binary data: 4-byte little-endian length, then the bytes. */
function decodeStrings(bytes: Uint8Array): string[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out: string[] = [];
  for (let offset = 0; offset < bytes.byteLength; ) {
    const length = view.getUint32(offset, true);
    out.push(new TextDecoder().decode(bytes.subarray(offset + 4, offset + 4 + length)));
    offset += 4 + length;
  }
  return out;
}
