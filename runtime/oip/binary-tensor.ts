// The binary tensor data extension: little-endian, row-major, no padding; BOOL one byte per
// element; a BYTES element is a 4-byte little-endian length then its bytes. Typed arrays are
// read and written in host order, which is little-endian on every platform Node supports.
import { elementCount, FIXED_DATATYPES, formatShape } from "./datatypes.ts";
import { InvalidInferRequestError } from "./errors.ts";
import type { OipDatatype, TypedArray } from "./types.ts";

const encoder = new TextEncoder();

/** Decodes an input's binary bytes into the array type of its datatype; `what` names it in errors. */
export function parseBinaryData(what: string, datatype: OipDatatype, shape: readonly number[], bytes: Uint8Array): TypedArray | Uint8Array[] {
  const count = elementCount(shape);
  if (datatype === "BYTES") return parseBinaryStrings(what, shape, count, bytes);
  const type = FIXED_DATATYPES[datatype];
  const expected = count * type.size;
  if (bytes.byteLength !== expected) {
    throw new InvalidInferRequestError(
      `${what}: binary_data_size ${bytes.byteLength} does not match shape ${formatShape(shape)} of ${datatype} (${expected} bytes)`,
    );
  }
  // A copy: the body's offsets need not be aligned for the typed array.
  return new type.array(bytes.slice().buffer, 0, count);
}

/** Splits BYTES elements out of length-prefixed binary data (views into `bytes`, no copies). */
function parseBinaryStrings(what: string, shape: readonly number[], count: number, bytes: Uint8Array): Uint8Array[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const elements: Uint8Array[] = [];
  let offset = 0;
  while (offset < bytes.byteLength) {
    if (offset + 4 > bytes.byteLength) {
      throw new InvalidInferRequestError(`${what}: BYTES element ${elements.length} has a truncated length prefix at byte ${offset}`);
    }
    const length = view.getUint32(offset, true);
    offset += 4;
    if (offset + length > bytes.byteLength) {
      throw new InvalidInferRequestError(
        `${what}: BYTES element ${elements.length} declares ${length} bytes but only ${bytes.byteLength - offset} remain`,
      );
    }
    elements.push(bytes.subarray(offset, offset + length));
    offset += length;
  }
  if (elements.length !== count) {
    throw new InvalidInferRequestError(
      `${what}: binary data holds ${elements.length} BYTES elements but shape ${formatShape(shape)} needs ${count}`,
    );
  }
  return elements;
}

/** Encodes tensor data (in its canonical array type) as binary-extension bytes; typed arrays are not copied. */
export function makeBinaryData(datatype: OipDatatype, data: TypedArray | Array<string | Uint8Array>): Uint8Array {
  if (datatype !== "BYTES") {
    const typed = data as TypedArray;
    return new Uint8Array(typed.buffer, typed.byteOffset, typed.byteLength);
  }
  const elements = (data as Array<string | Uint8Array>).map((e) => (typeof e === "string" ? encoder.encode(e) : e));
  let total = 0;
  for (const e of elements) total += 4 + e.byteLength;
  const out = new Uint8Array(total);
  const view = new DataView(out.buffer);
  let offset = 0;
  for (const e of elements) {
    view.setUint32(offset, e.byteLength, true);
    out.set(e, offset + 4);
    offset += 4 + e.byteLength;
  }
  return out;
}
