// The datatype table: element sizes, the typed array of each, integer ranges for JSON input.
import type { OipDatatype, TypedArray } from "./types.ts";

/** A typed array constructor, as the table stores it. */
export type TypedArrayClass = {
  new (length: number): TypedArray;
  new (buffer: ArrayBufferLike, byteOffset: number, length: number): TypedArray;
  readonly BYTES_PER_ELEMENT: number;
};

/** How one fixed-size datatype is stored; BYTES has none (variable length elements). */
export interface FixedDatatype {
  /** Bytes per element in the binary extension. */
  readonly size: number;
  /** The array inputs are decoded into. */
  readonly array: TypedArrayClass;
  /** "int" (integers in [min, max]), "bigint" (64-bit), "float", "half" (FP16 bits) or "bool". */
  readonly kind: "int" | "bigint" | "float" | "half" | "bool";
  readonly min?: number;
  readonly max?: number;
}

const int = (array: TypedArrayClass, size: number, min: number, max: number): FixedDatatype => ({ size, array, kind: "int", min, max });

/** Every fixed-size datatype; BYTES is handled apart. */
export const FIXED_DATATYPES: Readonly<Record<Exclude<OipDatatype, "BYTES">, FixedDatatype>> = {
  BOOL: { size: 1, array: Uint8Array, kind: "bool" },
  UINT8: int(Uint8Array, 1, 0, 0xff),
  UINT16: int(Uint16Array, 2, 0, 0xffff),
  UINT32: int(Uint32Array, 4, 0, 0xffffffff),
  // 64-bit bounds are the extreme doubles inside the range (JSON numbers are doubles).
  UINT64: { size: 8, array: BigUint64Array as unknown as TypedArrayClass, kind: "bigint", min: 0, max: 2 ** 64 - 2048 },
  INT8: int(Int8Array, 1, -0x80, 0x7f),
  INT16: int(Int16Array, 2, -0x8000, 0x7fff),
  INT32: int(Int32Array, 4, -0x80000000, 0x7fffffff),
  INT64: { size: 8, array: BigInt64Array as unknown as TypedArrayClass, kind: "bigint", min: -(2 ** 63), max: 2 ** 63 - 1024 },
  FP16: { size: 2, array: Uint16Array, kind: "half" },
  FP32: { size: 4, array: Float32Array, kind: "float" },
  FP64: { size: 8, array: Float64Array, kind: "float" },
};

/** All datatype names, in the protocol's order. */
export const DATATYPE_NAMES: readonly OipDatatype[] = [...Object.keys(FIXED_DATATYPES), "BYTES"] as OipDatatype[];

/** True for a datatype name the protocol defines. */
export function isDatatype(value: unknown): value is OipDatatype {
  return typeof value === "string" && (value === "BYTES" || Object.hasOwn(FIXED_DATATYPES, value));
}

/** The fixed-size description of a datatype, undefined for BYTES. */
export function fixedDatatype(datatype: OipDatatype): FixedDatatype | undefined {
  return datatype === "BYTES" ? undefined : FIXED_DATATYPES[datatype];
}

/** Elements in a tensor of this shape (1 for a scalar, 0 when any dimension is 0). */
export function elementCount(shape: readonly number[]): number {
  let count = 1;
  for (const dim of shape) count *= dim;
  return count;
}

/** `[2,3]` as the messages print shapes. */
export function formatShape(shape: readonly number[]): string {
  return `[${shape.join(",")}]`;
}

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** IEEE half-precision bits of a number (via float32, rounding to nearest even; overflow is ±Inf). */
export function toHalfBits(value: number): number {
  f32[0] = value;
  const bits = u32[0]!;
  const sign = (bits >>> 16) & 0x8000;
  const exponent = (bits >>> 23) & 0xff;
  let mantissa = bits & 0x7fffff;
  if (exponent === 0xff) return sign | 0x7c00 | (mantissa ? 0x200 : 0);
  const halfExponent = exponent - 127 + 15;
  if (halfExponent >= 0x1f) return sign | 0x7c00;
  if (halfExponent <= 0) {
    // Subnormal half (or zero): shift the implicit leading 1 into the mantissa.
    if (halfExponent < -10) return sign;
    mantissa |= 0x800000;
    const shift = 14 - halfExponent;
    return sign | roundShift(mantissa, shift);
  }
  // A carry out of the mantissa correctly bumps the exponent (up to Inf).
  return sign | ((halfExponent << 10) + roundShift(mantissa, 13));
}

/** mantissa >> shift, rounded to nearest, ties to even. */
function roundShift(mantissa: number, shift: number): number {
  const kept = mantissa >>> shift;
  const rest = mantissa & ((1 << shift) - 1);
  const half = 1 << (shift - 1);
  return rest > half || (rest === half && (kept & 1) === 1) ? kept + 1 : kept;
}

/** The number an IEEE half-precision bit pattern stands for. */
export function fromHalfBits(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exponent = (bits >>> 10) & 0x1f;
  const mantissa = bits & 0x3ff;
  if (exponent === 0) return sign * mantissa * 2 ** -24;
  if (exponent === 0x1f) return mantissa ? NaN : sign * Infinity;
  return sign * (1 + mantissa / 1024) * 2 ** (exponent - 15);
}
