import { describe, expect, it } from "vitest";
import { makeBinaryData, parseBinaryData } from "./binary-tensor.ts";
import type { OipDatatype, TypedArray } from "./types.ts";

const what = 'input "x"';

/** The little-endian bytes of `data`, read with DataView so the test does not share the codec's assumption. */
function littleEndian(size: number, values: Array<number | bigint>, write: (v: DataView, offset: number, value: never) => void): Uint8Array {
  const out = new Uint8Array(values.length * size);
  const view = new DataView(out.buffer);
  values.forEach((value, i) => write(view, i * size, value as never));
  return out;
}

describe("binary tensor data", () => {
  const table: Array<[OipDatatype, TypedArray, Uint8Array]> = [
    ["BOOL", new Uint8Array([1, 0, 1]), new Uint8Array([1, 0, 1])],
    ["UINT8", new Uint8Array([0, 200]), new Uint8Array([0, 200])],
    ["UINT16", new Uint16Array([1, 0xabcd]), littleEndian(2, [1, 0xabcd], (v, o, x) => v.setUint16(o, x, true))],
    ["UINT32", new Uint32Array([0xdeadbeef]), littleEndian(4, [0xdeadbeef], (v, o, x) => v.setUint32(o, x, true))],
    ["UINT64", new BigUint64Array([2n ** 64n - 2n]), littleEndian(8, [2n ** 64n - 2n], (v, o, x) => v.setBigUint64(o, x, true))],
    ["INT8", new Int8Array([-1, 5]), new Uint8Array([0xff, 5])],
    ["INT16", new Int16Array([-2]), littleEndian(2, [-2], (v, o, x) => v.setInt16(o, x, true))],
    ["INT32", new Int32Array([-70000, 3]), littleEndian(4, [-70000, 3], (v, o, x) => v.setInt32(o, x, true))],
    ["INT64", new BigInt64Array([-(2n ** 62n)]), littleEndian(8, [-(2n ** 62n)], (v, o, x) => v.setBigInt64(o, x, true))],
    ["FP16", new Uint16Array([0x3c00, 0xc100]), new Uint8Array([0x00, 0x3c, 0x00, 0xc1])],
    ["FP32", new Float32Array([1.5, -0.1]), littleEndian(4, [1.5, -0.1], (v, o, x) => v.setFloat32(o, x, true))],
    ["FP64", new Float64Array([Math.PI]), littleEndian(8, [Math.PI], (v, o, x) => v.setFloat64(o, x, true))],
  ];
  it.each(table)("%s round-trips through its little-endian bytes", (datatype, data, bytes) => {
    expect(makeBinaryData(datatype, data)).toEqual(bytes);
    const decoded = parseBinaryData(what, datatype, [data.length], bytes);
    expect(decoded).toEqual(data);
    expect(decoded.constructor).toBe(data.constructor);
  });

  it("reads fixed-size data at an unaligned offset of the body", () => {
    const body = new Uint8Array(1 + 8);
    body.set(new Uint8Array(new Float32Array([2, 3]).buffer), 1);
    expect(parseBinaryData(what, "FP32", [2], body.subarray(1))).toEqual(new Float32Array([2, 3]));
  });

  it("encodes BYTES as a 4-byte little-endian length then the bytes, and decodes it back", () => {
    const bytes = makeBinaryData("BYTES", ["ab", new Uint8Array([0xff]), ""]);
    expect(Array.from(bytes)).toEqual([2, 0, 0, 0, 97, 98, 1, 0, 0, 0, 0xff, 0, 0, 0, 0]);
    const decoded = parseBinaryData(what, "BYTES", [3], bytes) as Uint8Array[];
    expect(decoded.map((b) => Array.from(b))).toEqual([[97, 98], [0xff], []]);
  });

  it("encodes a typed array output without copying it", () => {
    const data = new Float32Array([1, 2, 3, 4]).subarray(1, 3);
    const bytes = makeBinaryData("FP32", data);
    expect(bytes.buffer).toBe(data.buffer);
    expect([bytes.byteOffset, bytes.byteLength]).toEqual([4, 8]);
  });

  const malformed: Array<[OipDatatype, number[], number[], string]> = [
    ["FP32", [2], [0, 0, 0, 0], 'input "x": binary_data_size 4 does not match shape [2] of FP32 (8 bytes)'],
    ["BOOL", [2, 2], [1, 0, 1], 'input "x": binary_data_size 3 does not match shape [2,2] of BOOL (4 bytes)'],
    ["BYTES", [1], [5, 0, 0, 0, 97], 'input "x": BYTES element 0 declares 5 bytes but only 1 remain'],
    ["BYTES", [2], [1, 0, 0, 0, 97, 1, 0], 'input "x": BYTES element 1 has a truncated length prefix at byte 5'],
    ["BYTES", [2], [1, 0, 0, 0, 97], 'input "x": binary data holds 1 BYTES elements but shape [2] needs 2'],
    ["BYTES", [1], [0, 0, 0, 0, 0, 0, 0, 0], 'input "x": binary data holds 2 BYTES elements but shape [1] needs 1'],
  ];
  it.each(malformed)("refuses malformed %s %j: %s", (datatype, shape, bytes, message) => {
    expect(() => parseBinaryData(what, datatype, shape, new Uint8Array(bytes))).toThrow(message);
  });
});
