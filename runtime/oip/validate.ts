// Checks against the model's metadata: the metadata itself (at start), each request input
// (400, naming the tensor) and each output the model returned (500: the function's bug).
import { DATATYPE_NAMES, elementCount, FIXED_DATATYPES, formatShape, isDatatype, toHalfBits } from "./datatypes.ts";
import { InvalidInferRequestError, ModelMetadataError, ModelOutputError } from "./errors.ts";
import type { InferParameter, ModelMetadata, OipDatatype, Tensor, TensorMetadata, TypedArray } from "./types.ts";

/** A tensor whose data is in its datatype's canonical array type (what the codecs take). */
export interface WireTensor {
  datatype: OipDatatype;
  shape: number[];
  data: TypedArray | Array<string | Uint8Array>;
  parameters?: Record<string, InferParameter>;
}

/** True when `shape` is an array of integers >= `min`. */
export function isShape(shape: unknown, min: number): shape is number[] {
  return Array.isArray(shape) && shape.every((d) => Number.isInteger(d) && d >= min);
}

/** Validates what `model.metadata()` returned; throws ModelMetadataError naming the field. */
export function validateMetadata(value: unknown): ModelMetadata {
  const meta = value as ModelMetadata;
  if (typeof meta !== "object" || meta === null) throw new ModelMetadataError("model metadata must be an object with inputs and outputs");
  for (const list of ["inputs", "outputs"] as const) {
    const tensors = meta[list] as unknown;
    if (!Array.isArray(tensors) || tensors.length === 0) throw new ModelMetadataError(`model metadata: ${list} must be a non-empty array`);
    const seen = new Set<string>();
    tensors.forEach((t: TensorMetadata, i) => {
      const where = `model metadata: ${list}[${i}]`;
      if (typeof t?.name !== "string" || t.name === "") throw new ModelMetadataError(`${where}.name must be a non-empty string`);
      if (seen.has(t.name)) throw new ModelMetadataError(`${where}: duplicate name "${t.name}"`);
      seen.add(t.name);
      if (!isDatatype(t.datatype)) {
        throw new ModelMetadataError(`${where}.datatype ${JSON.stringify(t.datatype)} is not one of ${DATATYPE_NAMES.join(", ")}`);
      }
      if (!isShape(t.shape, -1)) throw new ModelMetadataError(`${where}.shape must be an array of integers >= -1`);
    });
  }
  if (meta.platform !== undefined && typeof meta.platform !== "string") throw new ModelMetadataError("model metadata: platform must be a string");
  if (meta.versions !== undefined && !(Array.isArray(meta.versions) && meta.versions.every((v) => typeof v === "string" && v !== ""))) {
    throw new ModelMetadataError("model metadata: versions must be an array of non-empty strings");
  }
  return meta;
}

/** True when a concrete shape fits a declared one (same rank; -1 matches any size). */
export function shapeFits(shape: readonly number[], declared: readonly number[]): boolean {
  return shape.length === declared.length && shape.every((d, i) => declared[i] === -1 || declared[i] === d);
}

/** Checks one request input's name, datatype and shape against the metadata; returns its declaration. */
export function checkInput(meta: ModelMetadata, name: string, datatype: OipDatatype, shape: number[]): TensorMetadata {
  const declared = meta.inputs.find((t) => t.name === name);
  if (!declared) {
    throw new InvalidInferRequestError(`unknown input "${name}" (the model takes ${meta.inputs.map((t) => `"${t.name}"`).join(", ")})`);
  }
  if (datatype !== declared.datatype) {
    throw new InvalidInferRequestError(`input "${name}": datatype ${datatype} does not match the model's ${declared.datatype}`);
  }
  if (!shapeFits(shape, declared.shape)) {
    throw new InvalidInferRequestError(`input "${name}": shape ${formatShape(shape)} does not match the model's ${formatShape(declared.shape)}`);
  }
  return declared;
}

/** Throws when an input the metadata declares is absent. */
export function checkNoMissingInputs(meta: ModelMetadata, given: Record<string, unknown>): void {
  const missing = meta.inputs.filter((t) => !Object.hasOwn(given, t.name));
  if (missing.length > 0) throw new InvalidInferRequestError(`missing input "${missing[0]!.name}" (the model takes ${meta.inputs.map((t) => `"${t.name}"`).join(", ")})`);
}

/**
 * Checks one output the model returned against its declaration and brings its data to the
 * canonical array type (number[] -> typed array, boolean[] -> Uint8Array, FP16 numbers -> bits).
 */
export function normalizeOutput(declared: TensorMetadata, tensor: Tensor | undefined): WireTensor {
  const what = `model output "${declared.name}"`;
  if (typeof tensor !== "object" || tensor === null) throw new ModelOutputError(`the model returned no output "${declared.name}"`);
  if (tensor.datatype !== declared.datatype) {
    throw new ModelOutputError(`${what} has datatype ${String(tensor.datatype)} but the metadata declares ${declared.datatype}`);
  }
  if (!isShape(tensor.shape, 0) || !shapeFits(tensor.shape, declared.shape)) {
    throw new ModelOutputError(`${what} has shape ${JSON.stringify(tensor.shape)} but the metadata declares ${formatShape(declared.shape)}`);
  }
  const data = canonicalData(what, tensor);
  const count = elementCount(tensor.shape);
  if (data.length !== count) throw new ModelOutputError(`${what} has ${data.length} elements but shape ${formatShape(tensor.shape)} needs ${count}`);
  return { datatype: tensor.datatype, shape: tensor.shape, data, ...(tensor.parameters ? { parameters: tensor.parameters } : {}) };
}

function canonicalData(what: string, { datatype, data }: Tensor): WireTensor["data"] {
  if (datatype === "BYTES") {
    if (Array.isArray(data) && data.every((e) => typeof e === "string" || e instanceof Uint8Array)) return data as Array<string | Uint8Array>;
    throw new ModelOutputError(`${what} (BYTES) must hold an array of strings or Uint8Arrays`);
  }
  const type = FIXED_DATATYPES[datatype];
  if (data instanceof type.array) return data;
  if (!Array.isArray(data)) throw new ModelOutputError(`${what} (${datatype}) must hold a ${type.array.name} or an array`);
  const values = data as unknown[];
  const ok = (check: (v: unknown) => boolean, expected: string) => {
    if (!values.every(check)) throw new ModelOutputError(`${what} (${datatype}) holds elements that are not ${expected}`);
  };
  const out = new type.array(values.length);
  if (type.kind === "bool") {
    ok((v) => typeof v === "boolean", "booleans");
    values.forEach((v, i) => (out[i] = v ? 1 : 0));
  } else if (type.kind === "bigint") {
    ok((v) => typeof v === "bigint" || Number.isInteger(v), "integers");
    values.forEach((v, i) => (out[i] = BigInt(v as number) as never));
  } else {
    ok((v) => typeof v === "number", "numbers");
    values.forEach((v, i) => (out[i] = type.kind === "half" ? toHalfBits(v as number) : (v as number)));
  }
  return out;
}
