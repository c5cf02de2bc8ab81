// Parses an infer request body (JSON, JSON + binary tensors, or raw binary) and validates it
// against the model's metadata. Every failure is a 400 naming the tensor and what is wrong.
import { parseBinaryData } from "./binary-tensor.ts";
import { elementCount, FIXED_DATATYPES, formatShape, isDatatype } from "./datatypes.ts";
import { InvalidInferRequestError } from "./errors.ts";
import { parseJsonData } from "./json-tensor.ts";
import type { InferParameter, ModelMetadata, Tensor } from "./types.ts";
import { checkInput, checkNoMissingInputs, isShape } from "./validate.ts";

/** One output the caller wants, and whether it goes back as binary. */
export interface RequestedOutput {
  name: string;
  binary: boolean;
  /** The output's request parameters, binary-extension keys removed. */
  parameters: Record<string, InferParameter>;
}

/** A parsed, validated infer request; input data is in each datatype's canonical array type. */
export interface InferRequest {
  id: string | undefined;
  parameters: Record<string, InferParameter>;
  inputs: Record<string, Tensor>;
  outputs: RequestedOutput[];
}

/** Where binary input data is read from, in the order inputs appear in the JSON. */
interface BinaryCursor {
  readonly bytes: Uint8Array;
  readonly present: boolean;
  offset: number;
}

const decoder = new TextDecoder();

/**
 * Parses a request body. `headerLength` is the Inference-Header-Content-Length header: absent,
 * the body is all JSON; N, the first N bytes are JSON and the rest binary tensor data; 0, the
 * body is one raw input tensor (batch of one) and every output goes back as binary.
 */
export function parseInferRequest(body: Uint8Array, headerLength: string | undefined, meta: ModelMetadata): InferRequest {
  if (headerLength === undefined) return parseJsonRequest(body, { bytes: body.subarray(0, 0), present: false, offset: 0 }, meta);
  const jsonLength = /^\d+$/.test(headerLength.trim()) ? Number(headerLength) : NaN;
  if (!(jsonLength <= body.byteLength)) {
    throw new InvalidInferRequestError(
      `Inference-Header-Content-Length ${JSON.stringify(headerLength)} is not a byte count within the ${body.byteLength}-byte body`,
    );
  }
  if (jsonLength === 0) return parseRawRequest(body, meta);
  return parseJsonRequest(body.subarray(0, jsonLength), { bytes: body.subarray(jsonLength), present: true, offset: 0 }, meta);
}

function parseJsonRequest(json: Uint8Array, binary: BinaryCursor, meta: ModelMetadata): InferRequest {
  let doc: Record<string, unknown>;
  try {
    doc = JSON.parse(decoder.decode(json)) as Record<string, unknown>;
  } catch (error) {
    throw new InvalidInferRequestError(`request body is not valid JSON: ${(error as Error).message}`);
  }
  if (typeof doc !== "object" || doc === null || Array.isArray(doc)) throw new InvalidInferRequestError("request body must be a JSON object");
  if (doc.id !== undefined && typeof doc.id !== "string") throw new InvalidInferRequestError("id must be a string");
  const { binary_data_output: binaryOutput, ...parameters } = parseParameters("parameters", doc.parameters);
  if (binaryOutput !== undefined && typeof binaryOutput !== "boolean") {
    throw new InvalidInferRequestError("parameters.binary_data_output must be a boolean");
  }
  if (!Array.isArray(doc.inputs) || doc.inputs.length === 0) throw new InvalidInferRequestError("inputs must be a non-empty array");
  const inputs: Record<string, Tensor> = {};
  doc.inputs.forEach((raw: unknown, index) => {
    const [name, tensor] = parseInput(raw, index, binary, meta);
    if (Object.hasOwn(inputs, name)) throw new InvalidInferRequestError(`duplicate input "${name}"`);
    inputs[name] = tensor;
  });
  checkNoMissingInputs(meta, inputs);
  if (binary.offset !== binary.bytes.byteLength) {
    throw new InvalidInferRequestError(
      `binary data has ${binary.bytes.byteLength - binary.offset} bytes beyond the inputs' binary_data_size total (${binary.offset})`,
    );
  }
  return { id: doc.id, parameters, inputs, outputs: parseOutputs(doc.outputs, binaryOutput === true, meta) };
}

/** Parses one `inputs[i]` entry: header fields first (checked against the metadata), then its data. */
function parseInput(raw: unknown, index: number, binary: BinaryCursor, meta: ModelMetadata): [string, Tensor] {
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) throw new InvalidInferRequestError(`inputs[${index}] must be an object`);
  const { name, datatype, shape, data } = raw as Record<string, unknown>;
  if (typeof name !== "string" || name === "") throw new InvalidInferRequestError(`inputs[${index}].name must be a non-empty string`);
  const what = `input "${name}"`;
  if (!isDatatype(datatype)) throw new InvalidInferRequestError(`${what}: unknown datatype ${JSON.stringify(datatype) ?? "(none)"}`);
  if (!isShape(shape, 0)) throw new InvalidInferRequestError(`${what}: shape must be an array of non-negative integers`);
  checkInput(meta, name, datatype, shape);
  const { binary_data_size: size, ...parameters } = parseParameters(`${what}: parameters`, (raw as { parameters?: unknown }).parameters);
  const tensor: Tensor = { datatype, shape, data: [] };
  if (Object.keys(parameters).length > 0) tensor.parameters = parameters;
  if (size === undefined) {
    if (data === undefined) throw new InvalidInferRequestError(`${what}: data is missing (or give parameters.binary_data_size)`);
    tensor.data = parseJsonData(what, datatype, shape, data);
    return [name, tensor];
  }
  if (data !== undefined) throw new InvalidInferRequestError(`${what}: has both data and parameters.binary_data_size`);
  if (!binary.present) throw new InvalidInferRequestError(`${what}: parameters.binary_data_size needs the Inference-Header-Content-Length header`);
  if (typeof size !== "number" || !Number.isInteger(size) || size < 0) {
    throw new InvalidInferRequestError(`${what}: parameters.binary_data_size must be a non-negative integer`);
  }
  const left = binary.bytes.byteLength - binary.offset;
  if (size > left) throw new InvalidInferRequestError(`${what}: binary_data_size ${size} runs past the end of the body (${left} binary bytes left)`);
  tensor.data = parseBinaryData(what, datatype, shape, binary.bytes.subarray(binary.offset, binary.offset + size));
  binary.offset += size;
  return [name, tensor];
}

/** The `outputs` list: every declared output when absent or empty, else the named ones in order. */
function parseOutputs(raw: unknown, binaryDefault: boolean, meta: ModelMetadata): RequestedOutput[] {
  if (raw === undefined || (Array.isArray(raw) && raw.length === 0)) {
    return meta.outputs.map((o) => ({ name: o.name, binary: binaryDefault, parameters: {} }));
  }
  if (!Array.isArray(raw)) throw new InvalidInferRequestError("outputs must be an array");
  const seen = new Set<string>();
  return raw.map((entry: unknown, index) => {
    const name = (entry as { name?: unknown } | null)?.name;
    if (typeof name !== "string") throw new InvalidInferRequestError(`outputs[${index}].name must be a string`);
    if (!meta.outputs.some((o) => o.name === name)) {
      throw new InvalidInferRequestError(`unknown output "${name}" (the model has ${meta.outputs.map((o) => `"${o.name}"`).join(", ")})`);
    }
    if (seen.has(name)) throw new InvalidInferRequestError(`duplicate output "${name}"`);
    seen.add(name);
    const { binary_data: binary, ...parameters } = parseParameters(`output "${name}": parameters`, (entry as { parameters?: unknown }).parameters);
    if (binary !== undefined && typeof binary !== "boolean") throw new InvalidInferRequestError(`output "${name}": parameters.binary_data must be a boolean`);
    return { name, binary: binary ?? binaryDefault, parameters };
  });
}

/** A `parameters` object: values must be strings, numbers or booleans. */
function parseParameters(where: string, raw: unknown): Record<string, InferParameter> {
  if (raw === undefined) return {};
  const ok = typeof raw === "object" && raw !== null && !Array.isArray(raw);
  if (!ok || !Object.values(raw).every((v) => ["string", "number", "boolean"].includes(typeof v))) {
    throw new InvalidInferRequestError(`${where} must be an object of string, number or boolean values`);
  }
  return { ...(raw as Record<string, InferParameter>) };
}

/**
 * A raw binary request (Inference-Header-Content-Length: 0): the body is the single input's
 * data, a batch of one; one other variable dimension is inferred from the byte count. For
 * BYTES the whole body is the one element.
 */
function parseRawRequest(body: Uint8Array, meta: ModelMetadata): InferRequest {
  const outputs = meta.outputs.map((o) => ({ name: o.name, binary: true, parameters: {} }));
  if (meta.inputs.length !== 1) {
    throw new InvalidInferRequestError(`a raw binary request (Inference-Header-Content-Length: 0) needs a model with one input; this one takes ${meta.inputs.length}`);
  }
  const declared = meta.inputs[0]!;
  const what = `input "${declared.name}"`;
  const shape = declared.shape.map((d, i) => (i === 0 && d === -1 ? 1 : d));
  const variable = shape.filter((d) => d === -1).length;
  if (declared.datatype === "BYTES") {
    if (variable > 0 || elementCount(shape) !== 1) throw new InvalidInferRequestError(`${what}: a raw binary BYTES input must have shape [1]`);
    return { id: undefined, parameters: {}, inputs: { [declared.name]: { datatype: "BYTES", shape, data: [body] } }, outputs };
  }
  if (variable > 1) {
    throw new InvalidInferRequestError(`${what}: a raw binary request cannot fill more than one variable dimension of ${formatShape(declared.shape)}`);
  }
  if (variable === 1) {
    const rowBytes = -elementCount(shape) * FIXED_DATATYPES[declared.datatype].size;
    if (rowBytes === 0 || body.byteLength % rowBytes !== 0) {
      throw new InvalidInferRequestError(`${what}: ${body.byteLength} raw bytes do not fill shape ${formatShape(shape)} of ${declared.datatype}`);
    }
    shape[shape.indexOf(-1)] = body.byteLength / rowBytes;
  }
  const data = parseBinaryData(what, declared.datatype, shape, body);
  return { id: undefined, parameters: {}, inputs: { [declared.name]: { datatype: declared.datatype, shape, data } }, outputs };
}
