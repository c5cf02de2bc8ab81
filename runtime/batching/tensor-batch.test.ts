import { describe, expect, it } from "vitest";
import type { Tensors } from "../oip/types.ts";
import { batchKey, batchRows, concatInputs, splitOutputs } from "./tensor-batch.ts";

const ctx = { version: undefined, parameters: {}, outputs: ["y"] };
const fp32 = (shape: number[], values: number[]) => ({ datatype: "FP32" as const, shape, data: new Float32Array(values) });

describe("batching tensors", () => {
  it("finds the rows of the batch dimension, or none when inputs disagree or are scalars", () => {
    expect(batchRows({ a: fp32([3, 2], Array(6).fill(0)), b: fp32([3], [0, 0, 0]) })).toBe(3);
    expect(batchRows({ a: fp32([3, 2], Array(6).fill(0)), b: fp32([2], [0, 0]) })).toBeUndefined();
    expect(batchRows({ a: fp32([], [1]) })).toBeUndefined();
    expect(batchRows({ a: fp32([0, 2], []) })).toBeUndefined();
  });

  it("keys on datatypes, non-batch dims, parameters, version and outputs, but not on rows", () => {
    const key = batchKey({ x: fp32([1, 4], [1, 2, 3, 4]) }, ctx);
    expect(batchKey({ x: fp32([5, 4], Array(20).fill(0)) }, ctx)).toBe(key);
    expect(batchKey({ x: fp32([1, 3], [1, 2, 3]) }, ctx)).not.toBe(key);
    expect(batchKey({ x: { ...fp32([1, 4], [1, 2, 3, 4]), datatype: "FP64", data: new Float64Array(4) } }, ctx)).not.toBe(key);
    expect(batchKey({ x: { ...fp32([1, 4], [1, 2, 3, 4]), parameters: { p: 1 } } }, ctx)).not.toBe(key);
    expect(batchKey({ x: fp32([1, 4], [1, 2, 3, 4]) }, { ...ctx, outputs: ["z"] })).not.toBe(key);
    expect(batchKey({ x: fp32([1, 4], [1, 2, 3, 4]) }, { ...ctx, version: "2" })).not.toBe(key);
    expect(batchKey({ x: fp32([1, 4], [1, 2, 3, 4]) }, { ...ctx, parameters: { t: 0.5 } })).not.toBe(key);
  });

  it("joins inputs along the first dimension, typed arrays and BYTES alike", () => {
    const bytes = (...s: string[]) => s.map((v) => new TextEncoder().encode(v));
    const joined = concatInputs([
      { x: fp32([1, 2], [1, 2]), s: { datatype: "BYTES", shape: [1], data: bytes("a") } },
      { x: fp32([2, 2], [3, 4, 5, 6]), s: { datatype: "BYTES", shape: [2], data: bytes("b", "c") } },
    ]);
    expect(joined.x).toEqual(fp32([3, 2], [1, 2, 3, 4, 5, 6]));
    expect(joined.s).toEqual({ datatype: "BYTES", shape: [3], data: bytes("a", "b", "c") });
  });

  it("splits outputs back by each request's rows", () => {
    const outputs: Tensors = { y: fp32([3, 2], [1, 2, 3, 4, 5, 6]), extra: fp32([1], [0]) };
    const parts = splitOutputs(outputs, [{ name: "y", datatype: "FP32", shape: [-1, 2] }], [1, 2]);
    expect(parts).toEqual([{ y: fp32([1, 2], [1, 2]) }, { y: fp32([2, 2], [3, 4, 5, 6]) }]);
  });

  it("refuses to split an output that does not have the batch's rows first", () => {
    const outputs: Tensors = { y: fp32([2], [1, 2]) };
    expect(() => splitOutputs(outputs, [{ name: "y", datatype: "FP32", shape: [-1] }], [1, 2])).toThrow(
      'batched output "y" has first dimension 2, not the batch\'s 3 rows',
    );
  });
});
