// The PP-OCRv4 recognizer (SVTR-LCNet, CTC) two ways:
// - a model over OIP v2: input x FP32 [N, 3, 48, W] (BGR, (x/255 - 0.5) / 0.5; send one width,
//   e.g. 320 zero-padded, so requests batch together: the batcher joins same-shape rows only),
//   outputs text BYTES [N] (CTC greedy decode) and score FP32 [N] (mean character probability);
// - stage 3 of ocr-preprocess -> ocr-detect -> ocr-recognize: skiff.ocr.detected in,
//   skiff.ocr.recognized out (see ../ocr-shared/chain.ts).
import { defineFunction, HttpError, type Tensors } from "skiff/runtime";
import ort from "onnxruntime-node";
import { BadEventDataError, dataObject, RECOGNIZED, recognizeStage } from "../ocr-shared/chain.ts";
import { loadKeys, loadSession, REC_HEIGHT, runRecognizer, threadsFor } from "../ocr-shared/ocr.ts";

export default defineFunction({
  async init(ctx) {
    const threads = threadsFor(ctx.env.SKIFF_CPU_MILLIS ?? process.env.SKIFF_CPU_MILLIS);
    const [rec, keys] = await Promise.all([loadSession(ctx.assetPath("models/rec.onnx"), threads), loadKeys(ctx.assetPath("models/ppocr_keys_v1.txt"))]);
    return { rec, keys };
  },
  model: {
    metadata: () => ({
      platform: "onnxruntime_onnx",
      versions: ["4"],
      inputs: [{ name: "x", datatype: "FP32", shape: [-1, 3, REC_HEIGHT, -1] }],
      outputs: [
        { name: "text", datatype: "BYTES", shape: [-1] },
        { name: "score", datatype: "FP32", shape: [-1] },
      ],
    }),
    async infer(inputs, ctx): Promise<Tensors> {
      const x = inputs.x!;
      const width = x.shape[3]!;
      if (width < 1) throw new HttpError(400, "input x needs a width of at least 1: [N, 3, 48, W]");
      const rows = x.shape[0]!;
      const results = rows === 0 ? [] : await runRecognizer(ctx.state, new ort.Tensor("float32", x.data as Float32Array, x.shape));
      return {
        text: { datatype: "BYTES", shape: [rows], data: results.map((r) => r.text) },
        score: { datatype: "FP32", shape: [rows], data: new Float32Array(results.map((r) => r.score)) },
      };
    },
  },
  async event(ev, ctx) {
    try {
      return { type: RECOGNIZED, subject: ev.subject, data: await recognizeStage(ctx.state, dataObject(ev.data)) };
    } catch (error) {
      if (error instanceof BadEventDataError) throw new HttpError(400, error.message);
      throw error;
    }
  },
});
