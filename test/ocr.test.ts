// The `ocr` function (PP-OCRv4 on onnxruntime-node + sharp) through a real built replica: the
// fixture image's text, readiness gated on model loading, bad input, and a build that carries
// only this platform's onnxruntime binaries. Plus the pipeline's pure parts.
import { existsSync, readdirSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { CloudEvent, HTTP } from "cloudevents";
import { beforeAll, describe, expect, it } from "vitest";
import { loadAndBuild } from "../cli/build-function.ts";
import { decodeUint8, type DetectedData } from "../functions/ocr-shared/chain.ts";
import { boxesFromProbabilities, ctcDecode, detectionSize, recognitionTensor, sortBoxes, threadsFor } from "../functions/ocr-shared/ocr.ts";
import { decodeHeaderValue, encodeBinaryHeaders } from "../runtime/index.ts";
import { startBuiltReplica, waitReady, type RunningReplica } from "./harness/replica.ts";
import { similarity } from "./harness/similarity.ts";
import { waitFor } from "./harness/wait-for.ts";

const OCR_DIR = fileURLToPath(new URL("../functions/ocr", import.meta.url));
const FIXTURES = fileURLToPath(new URL("./fixtures/ocr", import.meta.url));
const fnDir = (name: string) => fileURLToPath(new URL(`../functions/${name}`, import.meta.url));

interface OcrBody {
  text: string;
  lines: { text: string; score: number; box: [number, number][] }[];
}

let replica: RunningReplica;
beforeAll(async () => {
  replica = await startBuiltReplica(OCR_DIR);
  await waitReady(replica.url, 30_000);
});

describe("ocr function", () => {
  it("reads the fixture image's text (>= 90% of characters right)", async () => {
    const image = await readFile(join(FIXTURES, "sample.png"));
    const expected = (await readFile(join(FIXTURES, "expected.txt"), "utf8")).trim();
    const started = performance.now();
    const res = await fetch(`${replica.url}/`, { method: "POST", headers: { "content-type": "image/png" }, body: image });
    const ms = Math.round(performance.now() - started);
    expect(res.status).toBe(200);
    const body = (await res.json()) as OcrBody;
    const score = similarity(body.text, expected);
    console.log(`ocr fixture: ${JSON.stringify(body.text)} (similarity ${(score * 100).toFixed(1)}%, ${ms} ms)`);
    expect(score).toBeGreaterThanOrEqual(0.9);
    expect(body.lines).toHaveLength(expected.split("\n").length);
    for (const line of body.lines) {
      expect(line.box).toHaveLength(4);
      expect(line.score).toBeGreaterThan(0.5);
    }
    // Top to bottom.
    expect(body.lines[0]!.box[0]![1]).toBeLessThan(body.lines[1]!.box[0]![1]);
  });

  it("answers 400 with a clear message for a body that is not an image", async () => {
    const res = await fetch(`${replica.url}/`, { method: "POST", headers: { "content-type": "text/plain" }, body: "not an image" });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: string }).error).toMatch(/not a supported image/);
    const empty = await fetch(`${replica.url}/`, { method: "POST" });
    expect(empty.status).toBe(400);
    expect(((await empty.json()) as { error: string }).error).toMatch(/empty body/);
  });

  it("is not ready until the models are loaded", async () => {
    const slow = await startBuiltReplica(OCR_DIR, { OCR_INIT_DELAY_MS: "1500" });
    expect((await fetch(`${slow.url}/_skiff/live`)).status).toBe(200);
    expect((await fetch(`${slow.url}/_skiff/ready`)).status).toBe(503);
    expect((await fetch(`${slow.url}/`, { method: "POST", body: await readFile(join(FIXTURES, "sample.png")) })).status).toBe(503);
    await waitFor(async () => (await fetch(`${slow.url}/_skiff/ready`)).status === 200, { what: "ocr readiness after init", timeoutMs: 20_000 });
    expect(slow.output()).toMatch(/ocr models loaded/);
  });

  it("builds with only this platform's onnxruntime-node binaries", async () => {
    const build = await loadAndBuild(OCR_DIR);
    const bin = join(build.outDir, "node_modules", "onnxruntime-node", "bin");
    const napi = readdirSync(bin);
    expect(napi.length).toBeGreaterThan(0);
    for (const version of napi) {
      expect(readdirSync(join(bin, version))).toEqual([process.platform]);
      expect(readdirSync(join(bin, version, process.platform))).toEqual([process.arch]);
    }
    for (const model of ["det.onnx", "rec.onnx", "ppocr_keys_v1.txt"]) expect(existsSync(join(build.outDir, "models", model))).toBe(true);
    expect(build.manifest.external).toEqual(expect.arrayContaining(["onnxruntime-node@1.30.0", expect.stringMatching(/^sharp@/)]));
  });
});

describe("ocr pipeline pieces", () => {
  it("sizes detection input to multiples of 32 with the long side at most 960", () => {
    expect(detectionSize(640, 220)).toEqual({ width: 640, height: 224 });
    expect(detectionSize(1920, 1080)).toEqual({ width: 960, height: 544 });
    expect(detectionSize(10, 10)).toEqual({ width: 32, height: 32 });
  });

  it("turns a probability map into unclipped, scaled boxes, dropping weak and tiny ones", () => {
    const w = 40, h = 20;
    const prob = new Float32Array(w * h);
    const fill = (x0: number, y0: number, x1: number, y1: number, v: number) => {
      for (let y = y0; y < y1; y++) for (let x = x0; x < x1; x++) prob[y * w + x] = v;
    };
    fill(10, 4, 30, 8, 0.9); // a text line
    fill(2, 14, 12, 18, 0.5); // above the 0.3 threshold but scored below 0.6
    fill(35, 15, 36, 16, 0.9); // too small
    const boxes = boxesFromProbabilities(prob, w, h, { width: 80, height: 40 });
    expect(boxes).toHaveLength(1);
    const d = (20 * 4 * 2.0) / (2 * 24); // unclip distance in map pixels
    expect(boxes[0]).toMatchObject({ x0: Math.round((10 - d) * 2), y0: Math.round((4 - d) * 2), x1: Math.round((30 + d) * 2), y1: Math.round((8 + d) * 2) });
    expect(boxes[0]!.score).toBeCloseTo(0.9, 5);
  });

  it("sorts boxes top to bottom, left to right within a row", () => {
    const b = (x0: number, y0: number) => ({ x0, y0, x1: x0 + 5, y1: y0 + 5, score: 1 });
    expect(sortBoxes([b(50, 3), b(0, 40), b(10, 0)]).map((x) => [x.x0, x.y0])).toEqual([[10, 0], [50, 3], [0, 40]]);
  });

  it("CTC-decodes greedily: blanks and repeats dropped, the last class is a space", () => {
    const keys = ["a", "b"]; // classes: 0 blank, 1 a, 2 b, 3 " "
    const steps = [1, 1, 0, 1, 3, 2, 2];
    const probs = new Float32Array(steps.length * 4);
    steps.forEach((k, t) => (probs[t * 4 + k] = 0.8));
    expect(ctcDecode(probs, [1, steps.length, 4], keys)).toEqual([{ text: "aa b", score: expect.closeTo(0.8, 5) }]);
  });

  it("sizes session threads from the CPU share", () => {
    expect([threadsFor(undefined), threadsFor("500"), threadsFor("1000"), threadsFor("2500"), threadsFor("junk")]).toEqual([1, 1, 1, 3, 1]);
  });
});

/** POSTs `event` in binary mode to a replica and returns its reply event. */
async function sendEvent(url: string, event: CloudEvent<unknown>): Promise<CloudEvent<unknown>> {
  const message = HTTP.binary(event);
  const res = await fetch(url, { method: "POST", headers: encodeBinaryHeaders(message.headers), body: message.body as BodyInit });
  const body = await res.text();
  if (res.status !== 200) throw new Error(`${url} answered ${res.status}: ${body}`);
  const headers: Record<string, string> = {};
  res.headers.forEach((value, key) => (headers[key] = decodeHeaderValue(value)));
  return HTTP.toEvent({ headers, body }) as CloudEvent<unknown>;
}

describe("ocr event chain and recognizer model", () => {
  let preprocess: RunningReplica;
  let detect: RunningReplica;
  let recognize: RunningReplica;
  let detected: DetectedData;
  let expected: string;

  beforeAll(async () => {
    const started = await Promise.all(["ocr-preprocess", "ocr-detect", "ocr-recognize"].map((name) => startBuiltReplica(fnDir(name))));
    [preprocess, detect, recognize] = started as [RunningReplica, RunningReplica, RunningReplica];
    await Promise.all([preprocess, detect, recognize].map((r) => waitReady(r.url, 30_000)));
    expected = (await readFile(join(FIXTURES, "expected.txt"), "utf8")).trim();
  });

  it("ocr-preprocess -> ocr-detect -> ocr-recognize reads the fixture from CloudEvents carrying tensors", async () => {
    const image = await readFile(join(FIXTURES, "sample.png"));
    const started = performance.now();
    const pre = await sendEvent(preprocess.url, new CloudEvent({ id: "img-1", type: "skiff.ocr.image", source: "/tests/ocr", datacontenttype: "image/png", data: image }));
    expect(pre.type).toBe("skiff.ocr.preprocessed");
    expect((pre.data as { image: { shape: number[] } }).image.shape).toEqual([224, 640, 3]);
    const det = await sendEvent(detect.url, new CloudEvent({ id: "det-1", type: pre.type, source: "/tests/ocr", data: pre.data }));
    expect(det.type).toBe("skiff.ocr.detected");
    detected = det.data as DetectedData;
    expect(detected.lines).toHaveLength(2);
    expect(detected.crops.shape).toEqual([2, 48, Math.max(...detected.widths), 3]);
    const rec = await sendEvent(recognize.url, new CloudEvent({ id: "rec-1", type: det.type, source: "/tests/ocr", data: det.data }));
    expect(rec.type).toBe("skiff.ocr.recognized");
    const result = rec.data as { id: string; text: string; lines: { box: unknown }[] };
    const score = similarity(result.text, expected);
    console.log(`ocr chain: ${JSON.stringify(result.text)} (similarity ${(score * 100).toFixed(1)}%, ${Math.round(performance.now() - started)} ms)`);
    expect(score).toBeGreaterThanOrEqual(0.9);
    expect(result.id).toBe("img-1");
    expect(result.lines.map((l) => l.box)).toEqual(detected.lines.map((l) => l.box));
  });

  it("answers 400 for an event that is not an image, or data without tensors", async () => {
    const bad = HTTP.binary(new CloudEvent({ type: "skiff.ocr.image", source: "/tests/ocr", datacontenttype: "application/octet-stream", data: Buffer.from("nope") }));
    const res = await fetch(preprocess.url, { method: "POST", headers: encodeBinaryHeaders(bad.headers), body: bad.body as BodyInit });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: string }).error).toMatch(/not a supported image/);
    const noTensor = HTTP.binary(new CloudEvent({ type: "skiff.ocr.detected", source: "/tests/ocr", data: { id: "x", lines: [] } }));
    const res2 = await fetch(recognize.url, { method: "POST", headers: encodeBinaryHeaders(noTensor.headers), body: noTensor.body as BodyInit });
    expect(res2.status).toBe(400);
    expect(((await res2.json()) as { error: string }).error).toMatch(/data.crops must be a UINT8 tensor/);
  });

  it("serves the recognizer over OIP v2 (same-width requests may share a batch)", async () => {
    expect(detected).toBeDefined();
    const { data, shape } = decodeUint8(detected.crops, "crops", 4);
    const maxWidth = shape[2]!;
    const lines = detected.widths.map((w, i) => {
      const line = new Uint8Array(48 * w * 3);
      for (let y = 0; y < 48; y++) line.set(data.subarray(((i * 48 + y) * maxWidth) * 3, ((i * 48 + y) * maxWidth + w) * 3), y * w * 3);
      return { data: line, width: w, height: 48 };
    });
    // One line per request, all padded to one width so the batcher may join them.
    const width = Math.max(320, ...detected.widths);
    const padded = (line: (typeof lines)[number]) => {
      const t = recognitionTensor([line, { data: new Uint8Array(48 * width * 3).fill(128), width, height: 48 }]);
      return (t.data as Float32Array).subarray(0, 3 * 48 * width);
    };
    const inputs = lines.map(padded);
    const call = async (x: Float32Array) => {
      const header = new TextEncoder().encode(JSON.stringify({ inputs: [{ name: "x", datatype: "FP32", shape: [1, 3, 48, width], parameters: { binary_data_size: x.byteLength } }] }));
      const res = await fetch(`${recognize.url}/v2/models/ocr-recognize/infer`, {
        method: "POST",
        headers: { "content-type": "application/octet-stream", "inference-header-content-length": String(header.byteLength) },
        body: Buffer.concat([header, new Uint8Array(x.buffer, x.byteOffset, x.byteLength)]),
      });
      expect(res.status).toBe(200);
      const body = (await res.json()) as { outputs: { name: string; data: unknown[] }[] };
      return body.outputs.find((o) => o.name === "text")!.data[0] as string;
    };
    const meta = (await (await fetch(`${recognize.url}/v2/models/ocr-recognize`)).json()) as Record<string, unknown>;
    expect(meta.inputs).toEqual([{ name: "x", datatype: "FP32", shape: [-1, 3, 48, -1] }]);
    const texts = await Promise.all([...inputs, ...inputs, ...inputs, ...inputs].map(call));
    const want = expected.split("\n");
    for (let i = 0; i < texts.length; i++) expect(similarity(texts[i]!, want[i % want.length]!)).toBeGreaterThanOrEqual(0.9);
    const metrics = await (await fetch(`${recognize.url}/_skiff/metrics`)).text();
    const sum = Number(/^skiff_batch_size_sum(?:\{[^}]*\})? (\S+)/m.exec(metrics)?.[1]);
    const count = Number(/^skiff_batch_size_count(?:\{[^}]*\})? (\S+)/m.exec(metrics)?.[1]);
    console.log(`ocr-recognize OIP: ${JSON.stringify(texts.slice(0, 2))}; ${sum} rows in ${count} model calls`);
    expect(sum).toBe(texts.length);
  });
});
