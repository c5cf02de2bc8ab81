// Load for the batching suite: one real text-line crop from the OCR fixture as an OIP v2 binary
// infer request, and a closed loop of clients sending it (throughput and latency percentiles).
import { readFile } from "node:fs/promises";
import ort from "onnxruntime-node";
import { Agent, request } from "node:http";
import { fileURLToPath } from "node:url";
import { cropLine, decodeImage, detect, loadSession, recognitionTensor } from "../functions/ocr-shared/ocr.ts";

const SAMPLE = fileURLToPath(new URL("../test/fixtures/ocr/sample.png", import.meta.url));
const DET_MODEL = fileURLToPath(new URL("../functions/ocr-detect/models/det.onnx", import.meta.url));

/** A ready-to-send infer request: the body (JSON header + binary tensor) and its header length. */
export interface InferBody {
  body: Buffer;
  headerLength: number;
  /** The crop's tensor shape, [1, 3, 48, W]. */
  shape: number[];
}

/**
 * Runs the detector on the fixture (in this process) and turns its first text line into the
 * recognizer's [1, 3, 48, W] FP32 input, W = max(320, line width), as an OIP binary request.
 */
export async function makeCropRequest(): Promise<InferBody> {
  const image = await decodeImage(await readFile(SAMPLE));
  const det = await loadSession(DET_MODEL, 1);
  try {
    const boxes = await detect({ det }, image);
    if (boxes.length === 0) throw new Error("the detector found no text line in the fixture");
    const tensor = recognitionTensor([await cropLine(image, boxes[0]!)]);
    const x = tensor.data as Float32Array;
    const shape = [...tensor.dims];
    const header = Buffer.from(JSON.stringify({ inputs: [{ name: "x", datatype: "FP32", shape, parameters: { binary_data_size: x.byteLength } }] }));
    return { body: Buffer.concat([header, new Uint8Array(x.buffer, x.byteOffset, x.byteLength)]), headerLength: header.byteLength, shape };
  } finally {
    await det.release();
  }
}

/** What one closed-loop run measured. */
export interface LoadResult {
  /** Completed requests per second. */
  rps: number;
  /** Every request's latency, in completion order. */
  latenciesMs: number[];
}

/** POSTs `infer` to `url` once; resolves with the status and body text. */
export function postInfer(url: string, infer: InferBody, agent?: Agent): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        method: "POST",
        agent,
        headers: { "content-type": "application/octet-stream", "inference-header-content-length": String(infer.headerLength), "content-length": String(infer.body.byteLength) },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString("utf8") }));
        res.on("error", reject);
      },
    );
    req.on("error", reject);
    req.end(infer.body);
  });
}

/**
 * `clients` closed-loop clients (each sends its next request when its previous one answered),
 * on kept-alive connections, for `durationMs`. Requests in flight at the end are awaited and not
 * counted. Any non-200 fails the run.
 */
export async function closedLoop(url: string, infer: InferBody, options: { clients: number; durationMs: number }): Promise<LoadResult> {
  const agent = new Agent({ keepAlive: true, maxSockets: options.clients });
  const latenciesMs: number[] = [];
  const started = performance.now();
  const deadline = started + options.durationMs;
  const client = async () => {
    while (performance.now() < deadline) {
      const sent = performance.now();
      const { status, text } = await postInfer(url, infer, agent);
      if (status !== 200) throw new Error(`infer answered ${status}: ${text.slice(0, 200)}`);
      const done = performance.now();
      if (done <= deadline) latenciesMs.push(done - sent);
    }
  };
  try {
    await Promise.all(Array.from({ length: options.clients }, client));
  } finally {
    agent.destroy();
  }
  return { rps: (latenciesMs.length * 1000) / options.durationMs, latenciesMs };
}

/** The q-quantile (0..1) of a list, nearest rank. */
export function quantile(values: number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
}

const REC_MODEL = fileURLToPath(new URL("../functions/ocr-recognize/models/rec.onnx", import.meta.url));

/** Batch sizes at which the bare session's per-row cost is measured. */
export const MODEL_BATCH_SIZES = [1, 2, 4, 8, 16] as const;

/**
 * The model's own batching ceiling, in this process with one onnxruntime thread, no HTTP: mean
 * milliseconds per row of session.run at each of MODEL_BATCH_SIZES rows of the crop's shape.
 */
export async function modelRowCosts(shape: number[], budgetMs = 3_000): Promise<Record<number, number>> {
  const rec = await loadSession(REC_MODEL, 1);
  try {
    const rowMs = async (rows: number) => {
      const x = new ort.Tensor("float32", new Float32Array(rows * 3 * 48 * shape[3]!).fill(0.1), [rows, 3, 48, shape[3]!]);
      const feeds = { [rec.inputNames[0]!]: x };
      await rec.run(feeds); // first run of a shape allocates
      const started = performance.now();
      let calls = 0;
      while (calls < 2 || performance.now() - started < budgetMs / MODEL_BATCH_SIZES.length) {
        await rec.run(feeds);
        calls++;
      }
      return (performance.now() - started) / calls / rows;
    };
    const costs: Record<number, number> = {};
    for (const rows of MODEL_BATCH_SIZES) costs[rows] = await rowMs(rows);
    return costs;
  } finally {
    await rec.release();
  }
}
