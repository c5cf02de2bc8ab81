// OCR over HTTP: POST image bytes (PNG, JPEG, WebP, ...) -> { text, lines: [{ text, score, box }] }.
// PP-OCRv4 detection + recognition on onnxruntime-node (CPU); see ../ocr-shared/ocr.ts for the
// pipeline. The models are assets (models/), loaded once in init: the replica is ready only
// once both sessions exist.
import { defineFunction, HttpError } from "skiff/runtime";
import { BadImageError, loadOcrModels, runOcr, threadsFor } from "../ocr-shared/ocr.ts";

export default defineFunction({
  async init(ctx) {
    const delay = Number(ctx.env.OCR_INIT_DELAY_MS);
    if (delay > 0) await new Promise((resolve) => setTimeout(resolve, delay));
    const started = performance.now();
    // The replica's CPU share (spec resources.cpu) when the platform passes it, else 1 thread.
    const threads = threadsFor(ctx.env.SKIFF_CPU_MILLIS ?? process.env.SKIFF_CPU_MILLIS);
    const models = await loadOcrModels(
      { det: ctx.assetPath("models/det.onnx"), rec: ctx.assetPath("models/rec.onnx"), keys: ctx.assetPath("models/ppocr_keys_v1.txt") },
      threads,
    );
    ctx.logger.info("ocr models loaded", { ms: Math.round(performance.now() - started), threads, classes: models.keys.length + 2 });
    return models;
  },
  async http(req, ctx) {
    if (req.method !== "POST") throw new HttpError(405, "POST the image bytes (PNG or JPEG) to get its text");
    const bytes = new Uint8Array(await req.arrayBuffer());
    try {
      return { ...(await runOcr(ctx.state, bytes)) };
    } catch (error) {
      if (error instanceof BadImageError) throw new HttpError(400, error.message);
      throw error;
    }
  },
});
