import { describe, expect, it } from "vitest";
import type { RequestedOutput } from "./request.ts";
import { makeInferResponse } from "./response.ts";
import type { ModelMetadata, Tensor, Tensors } from "./types.ts";
import { validateMetadata } from "./validate.ts";

const META: ModelMetadata = {
  inputs: [{ name: "input0", datatype: "UINT32", shape: [-1, 2] }],
  outputs: [
    { name: "output0", datatype: "FP32", shape: [-1, 2] },
    { name: "output1", datatype: "UINT32", shape: [2, 2] },
    { name: "ids", datatype: "INT64", shape: [-1] },
  ],
};
const OUTPUTS: Tensors = {
  output0: { datatype: "FP32", shape: [3, 2], data: new Float32Array([1, 1.5, 2, 2.5, 3, 3.5]) },
  output1: { datatype: "UINT32", shape: [2, 2], data: [0, 1, 2, 3] },
  ids: { datatype: "INT64", shape: [1], data: [2n ** 62n + 1n], parameters: { sorted: true } },
};
const want = (name: string, binary = false): RequestedOutput => ({ name, binary, parameters: {} });

describe("makeInferResponse", () => {
  it("writes the spec's JSON response, with the id echoed and 64-bit integers exact", async () => {
    const res = makeInferResponse({ model_name: "m", id: "42" }, [want("output0"), want("ids")], OUTPUTS, META);
    expect(res.headers.get("content-type")).toBe("application/json");
    expect(res.headers.get("inference-header-content-length")).toBeNull();
    const text = await res.text();
    expect(text).toContain('"data":[4611686018427387905]');
    expect(JSON.parse(text)).toEqual({
      model_name: "m",
      id: "42",
      outputs: [
        { name: "output0", datatype: "FP32", shape: [3, 2], data: [1, 1.5, 2, 2.5, 3, 3.5] },
        { name: "ids", datatype: "INT64", shape: [1], parameters: { sorted: true }, data: [4611686018427387904] },
      ],
    });
  });

  it("writes binary outputs after the JSON header (the extension doc's example)", async () => {
    const res = makeInferResponse({ model_name: "m", model_version: "1" }, [want("output0", true), want("output1")], OUTPUTS, META);
    expect(res.headers.get("content-type")).toBe("application/octet-stream");
    const bytes = new Uint8Array(await res.arrayBuffer());
    const headerLength = Number(res.headers.get("inference-header-content-length"));
    expect(JSON.parse(new TextDecoder().decode(bytes.subarray(0, headerLength)))).toEqual({
      model_name: "m",
      model_version: "1",
      outputs: [
        { name: "output0", shape: [3, 2], datatype: "FP32", parameters: { binary_data_size: 24 } },
        { name: "output1", shape: [2, 2], datatype: "UINT32", data: [0, 1, 2, 3] },
      ],
    });
    expect(bytes.byteLength).toBe(headerLength + 24);
    expect(new Float32Array(bytes.slice(headerLength).buffer)).toEqual(OUTPUTS.output0!.data);
  });

  const broken: Array<[string, Partial<Tensor> | undefined, string]> = [
    ["missing", undefined, 'the model returned no output "output0"'],
    ["of another datatype", { datatype: "FP64" }, 'model output "output0" has datatype FP64 but the metadata declares FP32'],
    ["of another shape", { shape: [3] }, 'model output "output0" has shape [3] but the metadata declares [-1,2]'],
    ["short of data", { data: new Float32Array(5) }, 'model output "output0" has 5 elements but shape [3,2] needs 6'],
    ["in the wrong array", { data: new Float64Array(6) }, 'model output "output0" (FP32) must hold a Float32Array or an array'],
    ["holding strings", { data: ["a", "b", "c", "d", "e", "f"] }, 'model output "output0" (FP32) holds elements that are not numbers'],
  ];
  it.each(broken)("answers 500 for an output %s", (_, change, message) => {
    const outputs = { output0: change && { ...OUTPUTS.output0!, ...change } } as Tensors;
    expect(() => makeInferResponse({ model_name: "m" }, [want("output0")], outputs, META)).toThrow(expect.objectContaining({ status: 500, message }));
  });

  it("accepts plain arrays for outputs (numbers, bigints, booleans, FP16 values)", async () => {
    const meta: ModelMetadata = {
      inputs: META.inputs,
      outputs: [
        { name: "b", datatype: "BOOL", shape: [2] },
        { name: "h", datatype: "FP16", shape: [1] },
        { name: "u", datatype: "UINT64", shape: [2] },
      ],
    };
    const outputs: Tensors = {
      b: { datatype: "BOOL", shape: [2], data: [true, false] },
      h: { datatype: "FP16", shape: [1], data: [0.5] },
      u: { datatype: "UINT64", shape: [2], data: [1n, 2n] },
    };
    const res = makeInferResponse({ model_name: "m" }, meta.outputs.map((o) => want(o.name)), outputs, meta);
    expect((await res.json()).outputs.map((o: { data: unknown }) => o.data)).toEqual([[true, false], [0.5], [1, 2]]);
  });
});

describe("validateMetadata", () => {
  const io = { inputs: [{ name: "x", datatype: "FP32", shape: [-1, 4] }], outputs: [{ name: "y", datatype: "FP32", shape: [-1] }] };
  it.each([
    [null, "model metadata must be an object with inputs and outputs"],
    [{ ...io, inputs: [] }, "model metadata: inputs must be a non-empty array"],
    [{ ...io, outputs: [{ name: "y", datatype: "FLOAT", shape: [1] }] }, 'model metadata: outputs[0].datatype "FLOAT" is not one of BOOL, UINT8'],
    [{ ...io, inputs: [io.inputs[0], io.inputs[0]] }, 'model metadata: inputs[1]: duplicate name "x"'],
    [{ ...io, inputs: [{ name: "x", datatype: "FP32", shape: [-2] }] }, "model metadata: inputs[0].shape must be an array of integers >= -1"],
    [{ ...io, versions: [1] }, "model metadata: versions must be an array of non-empty strings"],
  ])("refuses %j", (meta, message) => {
    expect(() => validateMetadata(meta)).toThrow(message);
  });
  it("accepts valid metadata as is", () => {
    expect(validateMetadata({ ...io, versions: ["1"], platform: "onnx_onnxv1" })).toEqual({ ...io, versions: ["1"], platform: "onnx_onnxv1" });
  });
});
