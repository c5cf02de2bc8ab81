// JSON tensor data: `data` arrays (flat or nested, row-major) to typed arrays and back.
import { elementCount, FIXED_DATATYPES, formatShape, fromHalfBits, toHalfBits, type FixedDatatype } from "./datatypes.ts";
import { InvalidInferRequestError } from "./errors.ts";
import type { OipDatatype, TypedArray } from "./types.ts";

const encoder = new TextEncoder();
const strictDecoder = new TextDecoder("utf-8", { fatal: true });

/**
 * Decodes an input's JSON `data` into the array type of its datatype. `what` names the tensor
 * in errors (`input "x"`); the element count must equal the product of `shape`.
 */
export function parseJsonData(what: string, datatype: OipDatatype, shape: readonly number[], data: unknown): TypedArray | Uint8Array[] {
  if (!Array.isArray(data)) throw new InvalidInferRequestError(`${what}: data must be an array (flat or nested row-major)`);
  const flat: unknown[] = data.flat(Infinity);
  const count = elementCount(shape);
  if (flat.length !== count) {
    throw new InvalidInferRequestError(`${what}: data has ${flat.length} elements but shape ${formatShape(shape)} needs ${count}`);
  }
  if (datatype === "BYTES") return flat.map((value, i) => (typeof value === "string" ? encoder.encode(value) : badElement(what, i, value, "a string")));
  const type = FIXED_DATATYPES[datatype];
  const out = new type.array(count);
  const convert = converterFor(what, datatype, type);
  for (let i = 0; i < count; i++) out[i] = convert(flat[i], i);
  return out;
}

type Converter = (value: unknown, index: number) => number & bigint;

/** One element's check and conversion for a fixed-size datatype. */
function converterFor(what: string, datatype: OipDatatype, type: FixedDatatype): Converter {
  const range = type.kind === "bigint" ? `an integer in the ${datatype} range` : `an integer in [${type.min}, ${type.max}]`;
  const inRange = (v: unknown): v is number => typeof v === "number" && Number.isInteger(v) && v >= type.min! && v <= type.max!;
  const convert = {
    float: (v: unknown, i: number) => (typeof v === "number" ? v : badElement(what, i, v, "a number")),
    half: (v: unknown, i: number) => (typeof v === "number" ? toHalfBits(v) : badElement(what, i, v, "a number")),
    bool: (v: unknown, i: number) => (typeof v === "boolean" ? (v ? 1 : 0) : badElement(what, i, v, "a boolean")),
    int: (v: unknown, i: number) => (inRange(v) ? v : badElement(what, i, v, `${range} (${datatype})`)),
    bigint: (v: unknown, i: number) => (inRange(v) ? BigInt(v) : badElement(what, i, v, range)),
  }[type.kind];
  return convert as Converter;
}

function badElement(what: string, index: number, value: unknown, expected: string): never {
  let shown = JSON.stringify(value) ?? String(value);
  if (shown.length > 40) shown = `${shown.slice(0, 37)}...`;
  throw new InvalidInferRequestError(`${what}: element ${index} is ${shown}, expected ${expected}`);
}

/**
 * Encodes tensor data (in its canonical array type) as a JSON array text. 64-bit integers are
 * written exactly; non-finite floats become null (JSON has no NaN or Infinity: use binary).
 */
export function makeJsonData(what: string, datatype: OipDatatype, data: TypedArray | Array<string | Uint8Array>): string {
  switch (datatype) {
    case "BYTES":
      return `[${(data as Array<string | Uint8Array>).map((e, i) => JSON.stringify(typeof e === "string" ? e : utf8(what, e, i))).join(",")}]`;
    case "BOOL":
      return JSON.stringify(Array.from(data as Uint8Array, (v) => v !== 0));
    case "FP16":
      return JSON.stringify(Array.from(data as Uint16Array, fromHalfBits));
    case "UINT64":
    case "INT64":
      return `[${(data as BigInt64Array).join(",")}]`;
    default:
      return JSON.stringify(Array.from(data as Float64Array));
  }
}

/** A BYTES element as text; bytes that are not UTF-8 cannot go in JSON. */
function utf8(what: string, bytes: Uint8Array, index: number): string {
  try {
    return strictDecoder.decode(bytes);
  } catch {
    throw new InvalidInferRequestError(`${what}: element ${index} is not UTF-8 text; request this output with parameters.binary_data`);
  }
}
