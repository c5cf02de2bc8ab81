// Pure tensor plumbing for batching: which requests may share a model call (the key), joining
// their inputs along the first dimension, and splitting the outputs back by rows.
import type { TypedArrayClass } from "../oip/datatypes.ts";
import type { InferContext, Tensor, TensorData, TensorMetadata, Tensors, TypedArray } from "../oip/types.ts";
import { normalizeOutput } from "../oip/validate.ts";

/** Rows along the batch dimension, or undefined when the request cannot be batched (a scalar input, or inputs disagreeing on the first dimension). */
export function batchRows(inputs: Tensors): number | undefined {
  let rows: number | undefined;
  for (const tensor of Object.values(inputs)) {
    const first = tensor.shape[0];
    if (first === undefined || first < 1 || (rows !== undefined && first !== rows)) return undefined;
    rows = first;
  }
  return rows;
}

/**
 * Requests with equal keys can be joined: the same inputs with the same datatypes, non-batch
 * dimensions and parameters, and the same version, request parameters and wanted outputs.
 */
export function batchKey(inputs: Tensors, ctx: Pick<InferContext<unknown>, "version" | "parameters" | "outputs">): string {
  const parts: unknown[] = [ctx.version ?? null, ctx.outputs, ctx.parameters];
  for (const name of Object.keys(inputs).sort()) {
    const t = inputs[name]!;
    parts.push(name, t.datatype, t.shape.slice(1), t.parameters ?? null);
  }
  return JSON.stringify(parts);
}

/** Joins requests' inputs (all with one key) along the first dimension, in order. */
export function concatInputs(requests: Tensors[]): Tensors {
  const first = requests[0]!;
  const joined: Tensors = {};
  for (const [name, tensor] of Object.entries(first)) {
    const parts = requests.map((r) => r[name]!);
    const rows = parts.reduce((sum, t) => sum + t.shape[0]!, 0);
    joined[name] = { ...tensor, shape: [rows, ...tensor.shape.slice(1)], data: concatData(parts.map((t) => t.data)) };
  }
  return joined;
}

function concatData(parts: TensorData[]): TensorData {
  const first = parts[0]!;
  if (Array.isArray(first)) return ([] as unknown[]).concat(...parts) as TensorData;
  let total = 0;
  for (const part of parts) total += part.length;
  const out = new (first.constructor as TypedArrayClass)(total);
  let offset = 0;
  for (const part of parts) {
    (out as Uint8Array).set(part as Uint8Array, offset);
    offset += part.length;
  }
  return out;
}

/**
 * Splits a batched call's outputs back per request, by rows. Only the wanted outputs are
 * split, after checking them against the metadata; each must have the batch's rows first.
 */
export function splitOutputs(outputs: Tensors, wanted: readonly TensorMetadata[], rows: readonly number[]): Tensors[] {
  const total = rows.reduce((a, b) => a + b, 0);
  const parts: Tensors[] = rows.map(() => ({}));
  for (const declared of wanted) {
    const tensor = normalizeOutput(declared, Object.hasOwn(outputs, declared.name) ? outputs[declared.name] : undefined);
    if (tensor.shape[0] !== total) {
      throw new Error(`batched output "${declared.name}" has first dimension ${tensor.shape[0]}, not the batch's ${total} rows`);
    }
    const perRow = total === 0 ? 0 : tensor.data.length / total;
    let start = 0;
    rows.forEach((n, i) => {
      const part: Tensor = { ...tensor, shape: [n, ...tensor.shape.slice(1)], data: sliceData(tensor.data, start * perRow, (start + n) * perRow) };
      parts[i]![declared.name] = part;
      start += n;
    });
  }
  return parts;
}

function sliceData(data: TypedArray | Array<string | Uint8Array>, from: number, to: number): TensorData {
  // subarray shares the batch's buffer: the parts are only read, to encode responses.
  return Array.isArray(data) ? data.slice(from, to) : data.subarray(from, to);
}
