// Image decoding and resizing for the OCR functions: sharp only (no onnxruntime), so a stage
// that only prepares images (ocr-preprocess) does not carry the ORT binaries in its build.
import sharp from "sharp";

/** Longest side the detector sees (PaddleOCR's det_limit_side_len, limit type "max"). */
export const DET_LIMIT_SIDE = 960;

/** An RGB image, interleaved 8-bit. */
export interface RgbImage {
  data: Uint8Array;
  width: number;
  height: number;
}

/** Raised for input that is not a decodable image; the functions answer 400. */
export class BadImageError extends Error {
  override name = "BadImageError";
}

/** Decodes PNG/JPEG/WebP/... bytes to RGB (EXIF orientation applied, alpha flattened on white). */
export async function decodeImage(bytes: Uint8Array): Promise<RgbImage> {
  if (bytes.byteLength === 0) throw new BadImageError("empty body: POST the image bytes (PNG or JPEG)");
  try {
    const { data, info } = await sharp(bytes, { failOn: "error" })
      .rotate()
      .flatten({ background: "#ffffff" })
      .toColourspace("srgb")
      .raw()
      .toBuffer({ resolveWithObject: true });
    if (info.channels !== 3) throw new Error(`expected 3 channels after decoding, got ${info.channels}`);
    return { data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength), width: info.width, height: info.height };
  } catch (error) {
    throw new BadImageError(`body is not a supported image (PNG, JPEG, WebP, ...): ${(error as Error).message}`, { cause: error });
  }
}

/** Size the detector sees: long side <= limit (never enlarged), each side a multiple of 32 (>= 32). */
export function detectionSize(width: number, height: number, limit = DET_LIMIT_SIDE): { width: number; height: number } {
  const ratio = Math.max(width, height) > limit ? limit / Math.max(width, height) : 1;
  const round32 = (v: number) => Math.max(32, Math.round((v * ratio) / 32) * 32);
  return { width: round32(width), height: round32(height) };
}

export async function resizeRgb(image: RgbImage, width: number, height: number): Promise<Uint8Array> {
  const out = await sharp(image.data, { raw: { width: image.width, height: image.height, channels: 3 } })
    .resize(width, height, { fit: "fill", kernel: "linear" })
    .raw()
    .toBuffer();
  return new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
}

