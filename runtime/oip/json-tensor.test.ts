import { describe, expect, it } from "vitest";
import { fromHalfBits, toHalfBits } from "./datatypes.ts";
import { makeJsonData, parseJsonData } from "./json-tensor.ts";
import type { OipDatatype } from "./types.ts";

const what = 'input "x"';

describe("parseJsonData", () => {
  // [datatype, shape, JSON data (nested), expected array]
  const table: Array<[OipDatatype, number[], unknown, ArrayLike<unknown>]> = [
    ["BOOL", [2, 2], [[true, false], [false, true]], new Uint8Array([1, 0, 0, 1])],
    ["UINT8", [3], [0, 128, 255], new Uint8Array([0, 128, 255])],
    ["UINT16", [2], [0, 65535], new Uint16Array([0, 65535])],
    ["UINT32", [2, 2], [[1, 2], [3, 4]], new Uint32Array([1, 2, 3, 4])],
    ["UINT64", [2], [0, 2 ** 53], new BigUint64Array([0n, 2n ** 53n])],
    ["INT8", [2], [-128, 127], new Int8Array([-128, 127])],
    ["INT16", [2], [-32768, 32767], new Int16Array([-32768, 32767])],
    ["INT32", [1, 2], [[-2147483648, 2147483647]], new Int32Array([-2147483648, 2147483647])],
    ["INT64", [2], [-(2 ** 53), 42], new BigInt64Array([-(2n ** 53n), 42n])],
    ["FP16", [3], [1, -2.5, 65504], new Uint16Array([0x3c00, 0xc100, 0x7bff])],
    ["FP32", [2, 1], [[1.5], [-0.25]], new Float32Array([1.5, -0.25])],
    ["FP64", [2], [0.1, 1e300], new Float64Array([0.1, 1e300])],
  ];
  it.each(table)("decodes %s %j (nested) into its typed array", (datatype, shape, data, expected) => {
    const out = parseJsonData(what, datatype, shape, data);
    expect(out.constructor).toBe(expected.constructor);
    expect(Array.from(out as ArrayLike<unknown>)).toEqual(Array.from(expected));
    // The same data flat gives the same result.
    expect(parseJsonData(what, datatype, shape, (data as unknown[]).flat(Infinity))).toEqual(out);
  });

  it("decodes BYTES strings to UTF-8 bytes, one Uint8Array per element", () => {
    const out = parseJsonData(what, "BYTES", [1, 2], [["héllo", ""]]) as Uint8Array[];
    expect(out.map((b) => new TextDecoder().decode(b))).toEqual(["héllo", ""]);
    expect(out[0]).toBeInstanceOf(Uint8Array);
  });

  it("rounds FP16 to nearest even, keeps signs, saturates to Infinity", () => {
    const bits = [0, -0, 1 / 3, 2 ** -24, 2 ** -25 * 1.5, 70000, Infinity, NaN].map(toHalfBits);
    expect(bits).toEqual([0x0000, 0x8000, 0x3555, 0x0001, 0x0001, 0x7c00, 0x7c00, 0x7e00]);
    expect([0x3555, 0x0001, 0x8000, 0xfc00, 0x7bff].map(fromHalfBits)).toEqual([0.333251953125, 2 ** -24, -0, -Infinity, 65504]);
  });

  const errors: Array<[OipDatatype, number[], unknown, string]> = [
    ["FP32", [2, 2], [1, 2, 3], 'input "x": data has 3 elements but shape [2,2] needs 4'],
    ["FP32", [2], "12", 'input "x": data must be an array (flat or nested row-major)'],
    ["FP32", [2], [1, "a"], 'input "x": element 1 is "a", expected a number'],
    ["UINT8", [2], [1, 256], 'input "x": element 1 is 256, expected an integer in [0, 255] (UINT8)'],
    ["INT32", [1], [1.5], 'input "x": element 0 is 1.5, expected an integer in [-2147483648, 2147483647] (INT32)'],
    ["UINT64", [1], [-1], 'input "x": element 0 is -1, expected an integer in the UINT64 range'],
    ["BOOL", [2], [true, 1], 'input "x": element 1 is 1, expected a boolean'],
    ["BYTES", [1], [7], 'input "x": element 0 is 7, expected a string'],
    ["FP64", [1], [null], 'input "x": element 0 is null, expected a number'],
  ];
  it.each(errors)("refuses %s %j %j: %s", (datatype, shape, data, message) => {
    expect(() => parseJsonData(what, datatype, shape, data)).toThrow(message);
  });
});

describe("makeJsonData", () => {
  const table: Array<[OipDatatype, Parameters<typeof makeJsonData>[2], string]> = [
    ["BOOL", new Uint8Array([1, 0]), "[true,false]"],
    ["UINT8", new Uint8Array([0, 255]), "[0,255]"],
    ["INT16", new Int16Array([-3, 3]), "[-3,3]"],
    ["UINT64", new BigUint64Array([2n ** 64n - 1n]), "[18446744073709551615]"],
    ["INT64", new BigInt64Array([-(2n ** 63n), 5n]), "[-9223372036854775808,5]"],
    ["FP16", new Uint16Array([0x3c00, 0xc100]), "[1,-2.5]"],
    ["FP32", new Float32Array([0.5, NaN]), "[0.5,null]"],
    ["FP64", new Float64Array([0.1, -Infinity]), "[0.1,null]"],
    ["BYTES", ["a\"b", new TextEncoder().encode("ü")], '["a\\"b","ü"]'],
  ];
  it.each(table)("encodes %s as %s", (datatype, data, text) => {
    expect(makeJsonData('output "y"', datatype, data)).toBe(text);
  });

  it("refuses BYTES that are not UTF-8, pointing at binary_data", () => {
    expect(() => makeJsonData('output "y"', "BYTES", [new Uint8Array([0xff])])).toThrow(
      'output "y": element 0 is not UTF-8 text; request this output with parameters.binary_data',
    );
  });
});
