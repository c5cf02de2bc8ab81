import { describe, expect, it } from "vitest";
import { parseInferRequest } from "./request.ts";
import type { ModelMetadata } from "./types.ts";

// The model of the protocol's examples (OIP inference_rest.md, Triton's binary extension doc).
const META: ModelMetadata = {
  inputs: [
    { name: "input0", datatype: "UINT32", shape: [-1, 2] },
    { name: "input1", datatype: "BOOL", shape: [3] },
  ],
  outputs: [
    { name: "output0", datatype: "FP32", shape: [-1, 2] },
    { name: "output1", datatype: "UINT32", shape: [2, 2] },
  ],
};
const encode = (value: unknown) => new TextEncoder().encode(typeof value === "string" ? value : JSON.stringify(value));
const input0 = { name: "input0", shape: [2, 2], datatype: "UINT32", data: [1, 2, 3, 4] };
const input1 = { name: "input1", shape: [3], datatype: "BOOL", data: [true, false, true] };

describe("parseInferRequest (JSON)", () => {
  it("parses the spec's request: id, parameters, inputs and the selected outputs", () => {
    const body = { id: "42", parameters: { priority: 2 }, inputs: [input0, { ...input1, parameters: { note: "x" } }], outputs: [{ name: "output0" }] };
    const request = parseInferRequest(encode(body), undefined, META);
    expect(request.id).toBe("42");
    expect(request.parameters).toEqual({ priority: 2 });
    expect(request.inputs.input0).toEqual({ datatype: "UINT32", shape: [2, 2], data: new Uint32Array([1, 2, 3, 4]) });
    expect(request.inputs.input1).toEqual({ datatype: "BOOL", shape: [3], data: new Uint8Array([1, 0, 1]), parameters: { note: "x" } });
    expect(request.outputs).toEqual([{ name: "output0", binary: false, parameters: {} }]);
  });

  it("wants every declared output when none are named, binary when binary_data_output says so", () => {
    const request = parseInferRequest(encode({ inputs: [input0, input1], parameters: { binary_data_output: true } }), undefined, META);
    expect(request.parameters).toEqual({});
    expect(request.outputs.map((o) => [o.name, o.binary])).toEqual([["output0", true], ["output1", true]]);
    const mixed = parseInferRequest(
      encode({ inputs: [input0, input1], parameters: { binary_data_output: true }, outputs: [{ name: "output1", parameters: { binary_data: false } }, { name: "output0" }] }),
      undefined,
      META,
    );
    expect(mixed.outputs.map((o) => [o.name, o.binary])).toEqual([["output1", false], ["output0", true]]);
  });

  const errors: Array<[string, unknown, string]> = [
    ["not JSON", "{", "request body is not valid JSON: "],
    ["not an object", [1], "request body must be a JSON object"],
    ["a numeric id", { id: 42, inputs: [input0, input1] }, "id must be a string"],
    ["no inputs", { inputs: [] }, "inputs must be a non-empty array"],
    ["an unnamed input", { inputs: [{ ...input0, name: "" }] }, "inputs[0].name must be a non-empty string"],
    ["an unknown input", { inputs: [{ ...input0, name: "img" }] }, 'unknown input "img" (the model takes "input0", "input1")'],
    ["a missing input", { inputs: [input0] }, 'missing input "input1" (the model takes "input0", "input1")'],
    ["a duplicate input", { inputs: [input0, input0, input1] }, 'duplicate input "input0"'],
    ["an unknown datatype", { inputs: [{ ...input0, datatype: "FLOAT" }] }, 'input "input0": unknown datatype "FLOAT"'],
    ["the wrong datatype", { inputs: [{ ...input0, datatype: "INT32" }] }, 'input "input0": datatype INT32 does not match the model\'s UINT32'],
    ["a negative dim", { inputs: [{ ...input0, shape: [-1, 2] }] }, 'input "input0": shape must be an array of non-negative integers'],
    ["the wrong rank", { inputs: [{ ...input0, shape: [4] }] }, 'input "input0": shape [4] does not match the model\'s [-1,2]'],
    ["a wrong fixed dim", { inputs: [input0, { ...input1, shape: [2] }] }, 'input "input1": shape [2] does not match the model\'s [3]'],
    ["too little data", { inputs: [{ ...input0, shape: [3, 2] }] }, 'input "input0": data has 4 elements but shape [3,2] needs 6'],
    ["no data", { inputs: [{ ...input0, data: undefined }] }, 'input "input0": data is missing (or give parameters.binary_data_size)'],
    ["a bad element", { inputs: [{ ...input0, data: [1, 2, -3, 4] }] }, 'input "input0": element 2 is -3, expected an integer in [0, 4294967295] (UINT32)'],
    ["binary size without the header", { inputs: [{ ...input0, data: undefined, parameters: { binary_data_size: 16 } }] }, 'input "input0": parameters.binary_data_size needs the Inference-Header-Content-Length header'],
    ["nested parameters", { inputs: [input0, input1], parameters: { a: { b: 1 } } }, "parameters must be an object of string, number or boolean values"],
    ["a non-boolean binary_data_output", { inputs: [input0, input1], parameters: { binary_data_output: "yes" } }, "parameters.binary_data_output must be a boolean"],
    ["an unknown output", { inputs: [input0, input1], outputs: [{ name: "probs" }] }, 'unknown output "probs" (the model has "output0", "output1")'],
    ["a duplicate output", { inputs: [input0, input1], outputs: [{ name: "output0" }, { name: "output0" }] }, 'duplicate output "output0"'],
    ["outputs not an array", { inputs: [input0, input1], outputs: { name: "output0" } }, "outputs must be an array"],
  ];
  it.each(errors)("refuses %s with a 400 naming what is wrong", (_, body, message) => {
    let thrown: unknown;
    try {
      parseInferRequest(encode(body), undefined, META);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toMatchObject({ status: 400, name: "InvalidInferRequestError" });
    expect((thrown as Error).message.startsWith(message)).toBe(true);
  });
});

describe("parseInferRequest (binary tensor extension)", () => {
  /** The extension doc's example: input0 16 bytes of UINT32, input1 3 bytes of BOOL. */
  function exampleBody(sizes = [16, 3], extra = 0) {
    const header = encode({
      inputs: [
        { name: "input0", shape: [2, 2], datatype: "UINT32", parameters: { binary_data_size: sizes[0] } },
        { name: "input1", shape: [3], datatype: "BOOL", parameters: { binary_data_size: sizes[1] } },
      ],
      outputs: [{ name: "output0", parameters: { binary_data: true } }, { name: "output1" }],
    });
    const body = new Uint8Array(header.byteLength + 19 + extra);
    body.set(header);
    body.set(new Uint8Array(new Uint32Array([1, 2, 3, 4]).buffer), header.byteLength);
    body.set([1, 0, 1], header.byteLength + 16);
    return { body, headerLength: String(header.byteLength) };
  }

  it("reads each input's bytes in JSON order", () => {
    const { body, headerLength } = exampleBody();
    const request = parseInferRequest(body, headerLength, META);
    expect(request.inputs.input0!.data).toEqual(new Uint32Array([1, 2, 3, 4]));
    expect(request.inputs.input1!.data).toEqual(new Uint8Array([1, 0, 1]));
    expect(request.inputs.input0!.parameters).toBeUndefined();
    expect(request.outputs.map((o) => [o.name, o.binary])).toEqual([["output0", true], ["output1", false]]);
  });

  it.each([
    ["a header length past the body", () => ({ ...exampleBody(), headerLength: "9999" }), /^Inference-Header-Content-Length "9999" is not a byte count within the \d+-byte body$/],
    ["a header length that is no number", () => ({ ...exampleBody(), headerLength: "12abc" }), /^Inference-Header-Content-Length "12abc" is not a byte count/],
    ["sizes past the end", () => exampleBody([16, 4]), /^input "input1": binary_data_size 4 runs past the end of the body \(3 binary bytes left\)$/],
    ["a size that does not fit the shape", () => exampleBody([12, 7]), /^input "input0": binary_data_size 12 does not match shape \[2,2\] of UINT32 \(16 bytes\)$/],
    ["bytes left over", () => exampleBody([16, 3], 5), /^binary data has 5 bytes beyond the inputs' binary_data_size total \(19\)$/],
    ["a negative size", () => exampleBody([-1, 3]), /^input "input0": parameters.binary_data_size must be a non-negative integer$/],
  ])("refuses %s", (_, make, message) => {
    const { body, headerLength } = make();
    expect(() => parseInferRequest(body, headerLength, META)).toThrow(message);
  });

  it("refuses data and binary_data_size on the same input", () => {
    const header = encode({ inputs: [{ ...input0, parameters: { binary_data_size: 16 } }, input1] });
    expect(() => parseInferRequest(header, String(header.byteLength), META)).toThrow('input "input0": has both data and parameters.binary_data_size');
  });

  it("takes a raw binary request (header length 0) as the one input, batch of one, all outputs binary", () => {
    const meta: ModelMetadata = { inputs: [{ name: "img", datatype: "FP32", shape: [-1, -1, 2] }], outputs: META.outputs };
    const request = parseInferRequest(new Uint8Array(new Float32Array([1, 2, 3, 4, 5, 6]).buffer), "0", meta);
    expect(request.inputs.img).toEqual({ datatype: "FP32", shape: [1, 3, 2], data: new Float32Array([1, 2, 3, 4, 5, 6]) });
    expect(request.outputs.every((o) => o.binary)).toBe(true);
    const bytesMeta: ModelMetadata = { inputs: [{ name: "doc", datatype: "BYTES", shape: [-1] }], outputs: META.outputs };
    expect(parseInferRequest(new Uint8Array([9, 8]), "0", bytesMeta).inputs.doc).toEqual({ datatype: "BYTES", shape: [1], data: [new Uint8Array([9, 8])] });
    expect(() => parseInferRequest(new Uint8Array(4), "0", META)).toThrow(
      "a raw binary request (Inference-Header-Content-Length: 0) needs a model with one input; this one takes 2",
    );
    expect(() => parseInferRequest(new Uint8Array(7), "0", meta)).toThrow('input "img": 7 raw bytes do not fill shape [1,-1,2] of FP32');
  });
});
