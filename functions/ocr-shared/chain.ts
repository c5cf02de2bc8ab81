// Stages 2 and 3 of ocr-preprocess -> ocr-detect -> ocr-recognize (onnxruntime). The event
// data formats and stage 1 are in event-data.ts (sharp only).
import type ort from "onnxruntime-node";
import { BadEventDataError, decodeUint8, encodeTensor, type DetectedData, type RecognizedData } from "./event-data.ts";
import {
  boxesFromProbabilities,
  cropLine,
  detectionInput,
  REC_HEIGHT,
  recognitionTensor,
  runRecognizer,
  type Box,
  type OcrLine,
  type OcrModels,
  type RgbImage,
} from "./ocr.ts";

export * from "./event-data.ts";

/** Stage 2: detector-sized image -> boxes (original pixels) and height-48 line crops. */
export async function detectStage(det: ort.InferenceSession, input: Record<string, unknown>): Promise<DetectedData> {
  const { data, shape } = decodeUint8(input.image, "data.image", 3);
  const [height, width, channels] = shape as [number, number, number];
  if (channels !== 3) throw new BadEventDataError(`data.image must be RGB [H, W, 3], got ${channels} channels`);
  const image: RgbImage = { data, width, height };
  const original = { width: positive(input.width, "data.width"), height: positive(input.height, "data.height") };
  const tensor = await detectionInput(image);
  const out = await det.run({ [det.inputNames[0]!]: tensor.tensor });
  const prob = out[det.outputNames[0]!]!;
  const [, , ph, pw] = prob.dims as number[];
  const boxes = boxesFromProbabilities(prob.data as Float32Array, pw!, ph!, image);
  const crops = await Promise.all(boxes.map((box) => cropLine(image, box)));
  const maxWidth = Math.max(0, ...crops.map((c) => c.width));
  const packed = new Uint8Array(crops.length * REC_HEIGHT * maxWidth * 3);
  crops.forEach((crop, n) => {
    for (let y = 0; y < REC_HEIGHT; y++) {
      const src = crop.data.subarray(y * crop.width * 3, (y + 1) * crop.width * 3);
      packed.set(src, ((n * REC_HEIGHT + y) * maxWidth) * 3);
    }
  });
  const sx = original.width / width;
  const sy = original.height / height;
  const scaled = (box: Box): OcrLine["box"] => {
    const x0 = Math.round(box.x0 * sx), x1 = Math.round(box.x1 * sx), y0 = Math.round(box.y0 * sy), y1 = Math.round(box.y1 * sy);
    return [[x0, y0], [x1, y0], [x1, y1], [x0, y1]];
  };
  return {
    id: String(input.id ?? ""),
    ...original,
    lines: boxes.map((box) => ({ box: scaled(box), score: Math.round(box.score * 1e4) / 1e4 })),
    widths: crops.map((c) => c.width),
    crops: encodeTensor("UINT8", [crops.length, REC_HEIGHT, maxWidth, 3], packed),
  };
}

/** Stage 3: line crops -> text. */
export async function recognizeStage(models: Pick<OcrModels, "rec" | "keys">, input: Record<string, unknown>): Promise<RecognizedData> {
  const { data, shape } = decodeUint8(input.crops, "data.crops", 4);
  const [n, h, maxWidth, c] = shape as [number, number, number, number];
  if (h !== REC_HEIGHT || c !== 3) throw new BadEventDataError(`data.crops must be [N, ${REC_HEIGHT}, W, 3], got [${shape.join(", ")}]`);
  const widths = input.widths;
  const lines = input.lines;
  if (!Array.isArray(widths) || widths.length !== n || widths.some((w) => !Number.isInteger(w) || w < 1 || w > maxWidth)) {
    throw new BadEventDataError(`data.widths must hold ${n} widths in 1..${maxWidth}`);
  }
  if (!Array.isArray(lines) || lines.length !== n) throw new BadEventDataError(`data.lines must hold ${n} lines`);
  const crops: RgbImage[] = widths.map((w: number, i) => {
    const line = new Uint8Array(REC_HEIGHT * w * 3);
    for (let y = 0; y < REC_HEIGHT; y++) line.set(data.subarray(((i * REC_HEIGHT + y) * maxWidth) * 3, ((i * REC_HEIGHT + y) * maxWidth + w) * 3), y * w * 3);
    return { data: line, width: w, height: REC_HEIGHT };
  });
  const texts = n === 0 ? [] : await runRecognizer(models, recognitionTensor(crops));
  const out: OcrLine[] = texts
    .map((t, i) => ({ text: t.text.trim(), score: Math.round(t.score * 1e4) / 1e4, box: (lines[i] as { box: OcrLine["box"] }).box }))
    .filter((l) => l.text !== "");
  return { id: String(input.id ?? ""), text: out.map((l) => l.text).join("\n"), lines: out };
}

function positive(value: unknown, what: string): number {
  if (typeof value !== "number" || !Number.isInteger(value) || value < 1) throw new BadEventDataError(`${what} must be a positive integer`);
  return value;
}
