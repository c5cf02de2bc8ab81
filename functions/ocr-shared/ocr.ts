// PP-OCRv4 text detection + recognition over onnxruntime-node and sharp, shared by the ocr*
// functions (the runtime itself never depends on onnxruntime). Pure TypeScript pre- and
// post-processing, following PaddleOCR's defaults:
//
// - detection (DB): image resized so its long side is <= 960 (never enlarged), both sides a
//   multiple of 32; BGR, ImageNet mean/std, CHW float32. Output: a [1, 1, H, W] probability map.
// - DB postprocess, axis-aligned: threshold 0.3 -> 8-connected components -> each component's
//   bounding box; box score = mean probability inside the box (PaddleOCR's "fast" score), kept
//   if >= 0.6; unclipped by d = area * ratio / perimeter on every side (PaddleOCR offsets the
//   min-area-rect polygon by the same distance; ratio 2.0 here, see DET_UNCLIP_RATIO). Axis-aligned boxes are exact for horizontal
//   text; rotated text gets its bounding box (documented limitation).
// - recognition (SVTR-LCNet CTC): each box cropped from the original image, resized to height
//   48 keeping its ratio, normalized (x/255 - 0.5) / 0.5, BGR CHW; the batch width is
//   max(320, widest line) and shorter lines are zero-padded on the right (as PaddleOCR does
//   with max_wh_ratio, so long lines are not squeezed). Output [N, T, C]: CTC greedy decode,
//   class 0 = blank, 1..K = ppocr_keys_v1.txt, K+1 = " " (use_space_char).
import { readFile } from "node:fs/promises";
import ort from "onnxruntime-node";
import sharp from "sharp";
import { BadImageError, decodeImage, detectionSize, resizeRgb, type RgbImage } from "./image.ts";

export { BadImageError, DET_LIMIT_SIDE, decodeImage, detectionSize, resizeRgb, type RgbImage } from "./image.ts";

export type Point = [number, number];

/** One recognized line: its text, mean character confidence and box (clockwise from top-left). */
export interface OcrLine {
  text: string;
  score: number;
  box: [Point, Point, Point, Point];
}

export interface OcrResult {
  /** Lines joined by "\n", top to bottom. */
  text: string;
  lines: OcrLine[];
}

/** The loaded models: detection and recognition sessions and the recognition dictionary. */
export interface OcrModels {
  det: ort.InferenceSession;
  rec: ort.InferenceSession;
  /** Class i (1-based) of the recognizer is keys[i - 1]; the last class is " ". */
  keys: string[];
}

/** An axis-aligned box in original image pixels. */
export interface Box {
  x0: number;
  y0: number;
  x1: number;
  y1: number;
  score: number;
}

export const DET_THRESH = 0.3;
export const DET_BOX_THRESH = 0.6;
/**
 * PaddleOCR's default is 1.5; with axis-aligned boxes and the v4 "ch" recognizer, crops that
 * tight drop the spaces between English words (measured on test/fixtures/ocr: 1.5 reads
 * "SKIFFSERVESMODELS", 2.0 reads "SKIFF SERVES MODELS"; letters are right either way).
 */
export const DET_UNCLIP_RATIO = 2.0;
export const DET_MIN_SIZE = 3;
export const REC_HEIGHT = 48;
export const REC_MIN_WIDTH = 320;
/** Widest recognition input: lines longer than this (at height 48) are squeezed. */
export const REC_MAX_WIDTH = 2048;

/** Threads for each session: the replica's CPU share (millicores, rounded up to whole cores), at least 1. */
export function threadsFor(cpuMillis: string | undefined): number {
  const millis = Number(cpuMillis);
  return Number.isFinite(millis) && millis > 0 ? Math.max(1, Math.ceil(millis / 1000)) : 1;
}

/** One CPU session; `threads` intra-op threads (the replica's CPU share). */
export function loadSession(path: string, threads = 1): Promise<ort.InferenceSession> {
  return ort.InferenceSession.create(path, {
    executionProviders: ["cpu"],
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
    graphOptimizationLevel: "all",
  });
}

/** The recognizer's dictionary: one character per line (ppocr_keys_v1.txt). */
export async function loadKeys(path: string): Promise<string[]> {
  const keys = (await readFile(path, "utf8")).split(/\r?\n/);
  if (keys[keys.length - 1] === "") keys.pop();
  return keys;
}

/** Creates both sessions (CPU) and reads the dictionary. */
export async function loadOcrModels(paths: { det: string; rec: string; keys: string }, threads = 1): Promise<OcrModels> {
  const [det, rec, keys] = await Promise.all([loadSession(paths.det, threads), loadSession(paths.rec, threads), loadKeys(paths.keys)]);
  return { det, rec, keys };
}

/** The detector's input tensor [1, 3, H, W]: BGR, (x/255 - mean) / std with ImageNet statistics. */
export async function detectionInput(image: RgbImage): Promise<{ tensor: ort.Tensor; width: number; height: number }> {
  const size = detectionSize(image.width, image.height);
  const rgb = await resizeRgb(image, size.width, size.height);
  const mean = [0.485, 0.456, 0.406];
  const std = [0.229, 0.224, 0.225];
  const plane = size.width * size.height;
  const data = new Float32Array(3 * plane);
  for (let i = 0; i < plane; i++) {
    for (let c = 0; c < 3; c++) {
      // Channel c of the tensor is BGR order: B = rgb[2], G = rgb[1], R = rgb[0].
      data[c * plane + i] = (rgb[i * 3 + (2 - c)]! / 255 - mean[c]!) / std[c]!;
    }
  }
  return { tensor: new ort.Tensor("float32", data, [1, 3, size.height, size.width]), ...size };
}

/**
 * DB postprocess over a probability map (axis-aligned; see the file comment). Boxes are
 * scaled to a `scaleX`/`scaleY` target (the original image) and clamped to it.
 */
export function boxesFromProbabilities(
  prob: Float32Array,
  width: number,
  height: number,
  target: { width: number; height: number },
): Box[] {
  const labels = new Int32Array(width * height);
  const boxes: Box[] = [];
  const stack: number[] = [];
  let next = 0;
  for (let start = 0; start < prob.length; start++) {
    if (labels[start] !== 0 || prob[start]! <= DET_THRESH) continue;
    next++;
    let x0 = width, y0 = height, x1 = -1, y1 = -1;
    labels[start] = next;
    stack.push(start);
    while (stack.length > 0) {
      const p = stack.pop()!;
      const x = p % width;
      const y = (p - x) / width;
      if (x < x0) x0 = x;
      if (x > x1) x1 = x;
      if (y < y0) y0 = y;
      if (y > y1) y1 = y;
      for (let dy = -1; dy <= 1; dy++) {
        const ny = y + dy;
        if (ny < 0 || ny >= height) continue;
        for (let dx = -1; dx <= 1; dx++) {
          const nx = x + dx;
          if (nx < 0 || nx >= width) continue;
          const q = ny * width + nx;
          if (labels[q] === 0 && prob[q]! > DET_THRESH) {
            labels[q] = next;
            stack.push(q);
          }
        }
      }
    }
    const w = x1 - x0 + 1;
    const h = y1 - y0 + 1;
    if (Math.min(w, h) < DET_MIN_SIZE) continue;
    let sum = 0;
    for (let y = y0; y <= y1; y++) for (let x = x0; x <= x1; x++) sum += prob[y * width + x]!;
    const score = sum / (w * h);
    if (score < DET_BOX_THRESH) continue;
    // Unclip: offset the rectangle outwards by d = area * ratio / perimeter.
    const d = (w * h * DET_UNCLIP_RATIO) / (2 * (w + h));
    const ux0 = x0 - d, uy0 = y0 - d, ux1 = x1 + 1 + d, uy1 = y1 + 1 + d;
    if (Math.min(ux1 - ux0, uy1 - uy0) < DET_MIN_SIZE + 2) continue;
    const sx = target.width / width;
    const sy = target.height / height;
    const clampX = (v: number) => Math.min(target.width, Math.max(0, Math.round(v * sx)));
    const clampY = (v: number) => Math.min(target.height, Math.max(0, Math.round(v * sy)));
    const box = { x0: clampX(ux0), y0: clampY(uy0), x1: clampX(ux1), y1: clampY(uy1), score };
    if (box.x1 - box.x0 >= 2 && box.y1 - box.y0 >= 2) boxes.push(box);
  }
  return sortBoxes(boxes);
}

/** Top to bottom; boxes whose tops are within 10 px are ordered left to right (as PaddleOCR). */
export function sortBoxes(boxes: Box[]): Box[] {
  const sorted = [...boxes].sort((a, b) => a.y0 - b.y0 || a.x0 - b.x0);
  for (let i = 0; i < sorted.length - 1; i++) {
    for (let j = i; j >= 0; j--) {
      const a = sorted[j]!, b = sorted[j + 1]!;
      if (Math.abs(b.y0 - a.y0) < 10 && b.x0 < a.x0) {
        sorted[j] = b;
        sorted[j + 1] = a;
      } else break;
    }
  }
  return sorted;
}

/** Runs the detector on a decoded image: text boxes in original pixels, top to bottom. */
export async function detect(models: Pick<OcrModels, "det">, image: RgbImage): Promise<Box[]> {
  const input = await detectionInput(image);
  const out = await models.det.run({ [models.det.inputNames[0]!]: input.tensor });
  const prob = out[models.det.outputNames[0]!]!;
  const [, , h, w] = prob.dims as number[];
  return boxesFromProbabilities(prob.data as Float32Array, w!, h!, image);
}

/** Crops one box and resizes it to height 48 keeping its ratio (RGB, interleaved). */
export async function cropLine(image: RgbImage, box: Box): Promise<RgbImage> {
  const w = box.x1 - box.x0;
  const h = box.y1 - box.y0;
  const width = Math.min(REC_MAX_WIDTH, Math.max(1, Math.ceil((REC_HEIGHT * w) / h)));
  const rgb = await sharp(image.data, { raw: { width: image.width, height: image.height, channels: 3 } })
    .extract({ left: box.x0, top: box.y0, width: w, height: h })
    .resize(width, REC_HEIGHT, { fit: "fill", kernel: "linear" })
    .raw()
    .toBuffer();
  return { data: new Uint8Array(rgb.buffer, rgb.byteOffset, rgb.byteLength), width, height: REC_HEIGHT };
}

/**
 * Recognizer input [N, 3, 48, W] from line crops (height 48, RGB): BGR, (x/255 - 0.5) / 0.5,
 * W = max(320, widest line), zero (mid-grey) padding on the right.
 */
export function recognitionTensor(lines: readonly RgbImage[]): ort.Tensor {
  const width = Math.max(REC_MIN_WIDTH, ...lines.map((l) => l.width));
  const plane = REC_HEIGHT * width;
  const data = new Float32Array(lines.length * 3 * plane);
  lines.forEach((line, n) => {
    for (let y = 0; y < REC_HEIGHT; y++) {
      for (let x = 0; x < line.width; x++) {
        const src = (y * line.width + x) * 3;
        const dst = n * 3 * plane + y * width + x;
        for (let c = 0; c < 3; c++) data[dst + c * plane] = (line.data[src + (2 - c)]! / 255 - 0.5) / 0.5;
      }
    }
  });
  return new ort.Tensor("float32", data, [lines.length, 3, REC_HEIGHT, width]);
}

/** The recognizer's input for boxes of one image (see recognitionTensor). */
export async function recognitionInput(image: RgbImage, boxes: readonly Box[]): Promise<ort.Tensor> {
  return recognitionTensor(await Promise.all(boxes.map((box) => cropLine(image, box))));
}

/** CTC greedy decode of [N, T, C] probabilities: text and mean confidence of the kept characters. */
export function ctcDecode(probs: Float32Array, dims: readonly number[], keys: readonly string[]): { text: string; score: number }[] {
  const [n, t, c] = dims as [number, number, number];
  const results: { text: string; score: number }[] = [];
  for (let i = 0; i < n; i++) {
    let text = "";
    let sum = 0;
    let count = 0;
    let previous = -1;
    for (let step = 0; step < t; step++) {
      const base = (i * t + step) * c;
      let best = 0;
      let bestP = probs[base]!;
      for (let k = 1; k < c; k++) {
        const p = probs[base + k]!;
        if (p > bestP) {
          bestP = p;
          best = k;
        }
      }
      if (best !== 0 && best !== previous) {
        text += best - 1 < keys.length ? keys[best - 1]! : " ";
        sum += bestP;
        count++;
      }
      previous = best;
    }
    results.push({ text, score: count === 0 ? 0 : sum / count });
  }
  return results;
}

/** Recognizes the text of each box (one batched run). */
export async function recognize(models: Pick<OcrModels, "rec" | "keys">, image: RgbImage, boxes: readonly Box[]): Promise<{ text: string; score: number }[]> {
  if (boxes.length === 0) return [];
  return runRecognizer(models, await recognitionInput(image, boxes));
}

/** Runs the recognizer on a [N, 3, 48, W] tensor and CTC-decodes each row. */
export async function runRecognizer(models: Pick<OcrModels, "rec" | "keys">, input: ort.Tensor): Promise<{ text: string; score: number }[]> {
  const out = await models.rec.run({ [models.rec.inputNames[0]!]: input });
  const probs = out[models.rec.outputNames[0]!]!;
  return ctcDecode(probs.data as Float32Array, probs.dims, models.keys);
}

/** The whole pipeline on image bytes. */
export async function runOcr(models: OcrModels, bytes: Uint8Array): Promise<OcrResult> {
  const image = await decodeImage(bytes);
  const boxes = await detect(models, image);
  const texts = await recognize(models, image, boxes);
  const lines: OcrLine[] = boxes
    .map((box, i) => ({
      text: texts[i]!.text.trim(),
      score: round(texts[i]!.score),
      box: [
        [box.x0, box.y0],
        [box.x1, box.y0],
        [box.x1, box.y1],
        [box.x0, box.y1],
      ] as OcrLine["box"],
    }))
    .filter((line) => line.text !== "");
  return { text: lines.map((l) => l.text).join("\n"), lines };
}

const round = (v: number) => Math.round(v * 1e4) / 1e4;
