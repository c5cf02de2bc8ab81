// Stage 2 of ocr-preprocess -> ocr-detect -> ocr-recognize: skiff.ocr.preprocessed in,
// skiff.ocr.detected out (boxes and height-48 line crops; see ../ocr-shared/chain.ts).
import { defineFunction, HttpError } from "skiff/runtime";
import { BadEventDataError, dataObject, DETECTED, detectStage } from "../ocr-shared/chain.ts";
import { loadSession, threadsFor } from "../ocr-shared/ocr.ts";

export default defineFunction({
  async init(ctx) {
    const det = await loadSession(ctx.assetPath("models/det.onnx"), threadsFor(ctx.env.SKIFF_CPU_MILLIS ?? process.env.SKIFF_CPU_MILLIS));
    return { det };
  },
  async event(ev, ctx) {
    try {
      return { type: DETECTED, subject: ev.subject, data: await detectStage(ctx.state.det, dataObject(ev.data)) };
    } catch (error) {
      if (error instanceof BadEventDataError) throw new HttpError(400, error.message);
      throw error;
    }
  },
});
