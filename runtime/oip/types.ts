// The model-function API: tensors, model metadata and the `model` hook of defineFunction.
import type { InitContext, RequestContext } from "../types.ts";

/**
 * Open Inference Protocol v2 tensor datatypes. Each maps 1:1 to an onnxruntime-node Tensor
 * type, and inputs arrive in the array type ort takes for it:
 *
 * | OIP    | ort       | input `data`     | OIP    | ort     | input `data`                |
 * |--------|-----------|------------------|--------|---------|-----------------------------|
 * | BOOL   | bool      | Uint8Array (0/1) | INT8   | int8    | Int8Array                   |
 * | UINT8  | uint8     | Uint8Array       | INT16  | int16   | Int16Array                  |
 * | UINT16 | uint16    | Uint16Array      | INT32  | int32   | Int32Array                  |
 * | UINT32 | uint32    | Uint32Array      | INT64  | int64   | BigInt64Array               |
 * | UINT64 | uint64    | BigUint64Array   | FP16   | float16 | Uint16Array (IEEE half bits) |
 * | FP32   | float32   | Float32Array     | FP64   | float64 | Float64Array                |
 * | BYTES  | string    | Uint8Array[] (one per element; ort wants string[]: decode them) |
 */
export type OipDatatype =
  | "BOOL"
  | "UINT8"
  | "UINT16"
  | "UINT32"
  | "UINT64"
  | "INT8"
  | "INT16"
  | "INT32"
  | "INT64"
  | "FP16"
  | "FP32"
  | "FP64"
  | "BYTES";

/** Every typed array a tensor may hold. */
export type TypedArray =
  | Uint8Array
  | Uint16Array
  | Uint32Array
  | BigUint64Array
  | Int8Array
  | Int16Array
  | Int32Array
  | BigInt64Array
  | Float32Array
  | Float64Array;

/**
 * Flat row-major tensor data. Inputs always hold the array type of the table above; outputs
 * may also use number[] (numeric types), bigint[] (64-bit), boolean[] (BOOL) and strings
 * (BYTES, sent as UTF-8).
 */
export type TensorData = TypedArray | number[] | bigint[] | boolean[] | Array<string | Uint8Array>;

/** A `parameters` value in the protocol. */
export type InferParameter = string | number | boolean;

/** A tensor: datatype, shape (batch dimension first) and flat row-major data. */
export interface Tensor {
  datatype: OipDatatype;
  shape: number[];
  data: TensorData;
  /** The tensor's protocol `parameters` (binary-extension keys removed). */
  parameters?: Record<string, InferParameter>;
}

/** Tensors by name. */
export type Tensors = Record<string, Tensor>;

/** One input or output as the model metadata declares it; -1 marks a variable dimension. */
export interface TensorMetadata {
  name: string;
  datatype: OipDatatype;
  /** Dimensions, the batch dimension first; -1 for a variable one. */
  shape: number[];
}

/** What `model.metadata()` returns; served at /v2/models/<name> and used to validate requests. */
export interface ModelMetadata {
  inputs: TensorMetadata[];
  outputs: TensorMetadata[];
  /** `<project>_<format>`, e.g. "onnx_onnxv1"; defaults to "skiff". */
  platform?: string;
  /** Versions served; absent means only unversioned paths. */
  versions?: string[];
}

/** Context of `model.metadata()`: the replica's context plus what init returned. */
export interface ModelContext<S> extends InitContext {
  readonly state: S;
}

/** Context of `model.infer()`: the request's context plus the protocol fields infer may use. */
export interface InferContext<S> extends RequestContext<S> {
  /** Version named in the path (/versions/<v>/infer), if any. */
  readonly version: string | undefined;
  /** The request-level `parameters` (binary-extension keys removed). */
  readonly parameters: Readonly<Record<string, InferParameter>>;
  /** Names of the outputs the caller wants (all of the metadata's when it named none). */
  readonly outputs: readonly string[];
}

/** The `model` hook of defineFunction: served over OIP v2 REST, batched when function.yaml has `batch`. */
export interface ModelDefinition<S> {
  /** Model name in /v2/models/<name>; defaults to the function's name. */
  name?: string;
  /** Declares inputs and outputs; called once after init, before the replica turns ready. */
  metadata(ctx: ModelContext<S>): ModelMetadata | Promise<ModelMetadata>;
  /** Runs the model; inputs are validated against the metadata (batched: rows of many requests). */
  infer(inputs: Tensors, ctx: InferContext<S>): Tensors | Promise<Tensors>;
}
