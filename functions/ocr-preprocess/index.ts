// Stage 1 of ocr-preprocess -> ocr-detect -> ocr-recognize: decodes an image and resizes it for
// the detector. Event in: the image bytes as data (any image content type; or JSON
// { image: base64 }). Reply: skiff.ocr.preprocessed. A plain HTTP POST of the bytes answers
// the same data as JSON (handy to start the chain by hand).
import { defineFunction, HttpError } from "skiff/runtime";
import { BadEventDataError, PREPROCESSED, preprocess } from "../ocr-shared/event-data.ts";
import { BadImageError } from "../ocr-shared/image.ts";

function imageBytes(data: unknown): Uint8Array {
  if (data instanceof Uint8Array) return data;
  if (data && typeof data === "object" && typeof (data as { image?: unknown }).image === "string") {
    return new Uint8Array(Buffer.from((data as { image: string }).image, "base64"));
  }
  if (typeof data === "string") return new Uint8Array(Buffer.from(data, "base64"));
  throw new BadEventDataError("event data must be the image bytes, or JSON { image: <base64> }");
}

async function run(bytes: Uint8Array, id: string) {
  try {
    return await preprocess(bytes, id);
  } catch (error) {
    if (error instanceof BadImageError || error instanceof BadEventDataError) throw new HttpError(400, error.message);
    throw error;
  }
}

export default defineFunction({
  async http(req, ctx) {
    if (req.method !== "POST") throw new HttpError(405, "POST the image bytes (PNG or JPEG)");
    return { ...(await run(new Uint8Array(await req.arrayBuffer()), ctx.requestId)) };
  },
  async event(ev) {
    let bytes: Uint8Array;
    try {
      bytes = imageBytes(ev.data);
    } catch (error) {
      throw new HttpError(400, (error as Error).message);
    }
    return { type: PREPROCESSED, subject: ev.subject, data: await run(bytes, ev.id) };
  },
});
