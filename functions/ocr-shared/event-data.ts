// The OCR pipeline as three event-driven stages (data formats and stage 1; stages 2 and 3
// are in chain.ts, which needs onnxruntime), ocr-preprocess -> ocr-detect -> ocr-recognize,
// passing CloudEvents whose JSON data carries tensors.
//
// A tensor in event data is `{ datatype, shape, b64 }`: the row-major little-endian bytes in
// base64 (OIP's JSON `data` arrays would be ~4x larger). Images travel as UINT8 HWC, not as
// normalized FP32, to stay small: NATS' default max_payload is 1 MB, which bounds the
// preprocessed image to ~750 KB of pixels (960 x 256 x 3, i.e. a wide text strip); larger
// images would need a claim check (store the bytes, send a reference), not done here.
//
//   skiff.ocr.preprocessed  { id, width, height, image: UINT8 [H, W, 3] }           (H, W: detector size)
//   skiff.ocr.detected      { id, width, height, lines: [{ box, score }], widths: number[],
//                             crops: UINT8 [N, 48, maxWidth, 3] }                    (boxes in original pixels)
//   skiff.ocr.recognized    { id, text, lines: [{ text, score, box }] }              (same as the ocr function)
//
// Line crops are taken from the detector-sized image (at most 960 on the long side), so very
// large images lose some resolution compared with the one-shot `ocr` function.
import { decodeImage, detectionSize, resizeRgb } from "./image.ts";
import type { OcrLine, OcrResult } from "./ocr.ts";

export const PREPROCESSED = "skiff.ocr.preprocessed";
export const DETECTED = "skiff.ocr.detected";
export const RECOGNIZED = "skiff.ocr.recognized";

/** A tensor inside JSON event data. */
export interface EventTensor {
  datatype: "UINT8" | "FP32";
  shape: number[];
  /** Row-major little-endian bytes, base64. */
  b64: string;
}

export interface PreprocessedData {
  id: string;
  /** Original image size. */
  width: number;
  height: number;
  /** The image at detector size, RGB: UINT8 [H, W, 3]. */
  image: EventTensor;
}

export interface DetectedData {
  id: string;
  width: number;
  height: number;
  lines: { box: OcrLine["box"]; score: number }[];
  /** Width of each crop before right padding. */
  widths: number[];
  /** Line crops at height 48, RGB, right-padded: UINT8 [N, 48, max(widths), 3]. */
  crops: EventTensor;
}

export interface RecognizedData extends OcrResult {
  id: string;
}

/** Invalid event data; the functions answer 400 (the event is not retried into success). */
export class BadEventDataError extends Error {
  override name = "BadEventDataError";
}

export function encodeTensor(datatype: EventTensor["datatype"], shape: number[], data: Uint8Array | Float32Array): EventTensor {
  return { datatype, shape, b64: Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString("base64") };
}

/** The UINT8 bytes of `tensor`, checked against its shape and `rank`. */
export function decodeUint8(tensor: unknown, what: string, rank: number): { data: Uint8Array; shape: number[] } {
  const t = tensor as Partial<EventTensor> | undefined;
  if (!t || t.datatype !== "UINT8" || !Array.isArray(t.shape) || typeof t.b64 !== "string") {
    throw new BadEventDataError(`${what} must be a UINT8 tensor { datatype, shape, b64 }`);
  }
  if (t.shape.length !== rank || t.shape.some((d) => !Number.isInteger(d) || d < 0)) {
    throw new BadEventDataError(`${what} must have ${rank} non-negative dimensions, got [${t.shape.join(", ")}]`);
  }
  const data = new Uint8Array(Buffer.from(t.b64, "base64"));
  const expected = t.shape.reduce((a, b) => a * b, 1);
  if (data.length !== expected) throw new BadEventDataError(`${what} holds ${data.length} bytes, its shape [${t.shape.join(", ")}] needs ${expected}`);
  return { data, shape: t.shape };
}

/** Event data as an object (JSON text and bytes are parsed). */
export function dataObject(data: unknown): Record<string, unknown> {
  if (typeof data === "string" || data instanceof Uint8Array) {
    try {
      data = JSON.parse(typeof data === "string" ? data : new TextDecoder().decode(data));
    } catch {
      throw new BadEventDataError("event data must be a JSON object");
    }
  }
  if (typeof data !== "object" || data === null || Array.isArray(data)) throw new BadEventDataError("event data must be a JSON object");
  return data as Record<string, unknown>;
}

/** Stage 1: image bytes -> the image at detector size. */
export async function preprocess(bytes: Uint8Array, id: string): Promise<PreprocessedData> {
  const original = await decodeImage(bytes);
  const size = detectionSize(original.width, original.height);
  const resized = await resizeRgb(original, size.width, size.height);
  return { id, width: original.width, height: original.height, image: encodeTensor("UINT8", [size.height, size.width, 3], resized) };
}

