// Encodes an infer response: all JSON, or (when any output is asked for as binary) a JSON
// header followed by the binary outputs in JSON order, its length in Inference-Header-Content-Length.
import { makeBinaryData } from "./binary-tensor.ts";
import { makeJsonData } from "./json-tensor.ts";
import type { RequestedOutput } from "./request.ts";
import type { ModelMetadata, Tensors } from "./types.ts";
import { normalizeOutput } from "./validate.ts";

/** The response fields besides `outputs`. */
export interface InferResponseHead {
  model_name: string;
  model_version?: string | undefined;
  id?: string | undefined;
}

/** The header the binary tensor extension uses for the JSON part's byte length. */
export const HEADER_LENGTH = "inference-header-content-length";

const encoder = new TextEncoder();

/** Builds the body and headers for the requested outputs; checks each against the metadata first (500). */
export function makeInferResponse(head: InferResponseHead, requested: RequestedOutput[], outputs: Tensors, meta: ModelMetadata): Response {
  const entries: string[] = [];
  const binaries: Uint8Array[] = [];
  for (const want of requested) {
    const declared = meta.outputs.find((o) => o.name === want.name)!;
    const tensor = normalizeOutput(declared, Object.hasOwn(outputs, want.name) ? outputs[want.name] : undefined);
    const parameters = { ...tensor.parameters };
    const entry = { name: want.name, datatype: tensor.datatype, shape: tensor.shape, parameters };
    if (want.binary) {
      const bytes = makeBinaryData(tensor.datatype, tensor.data);
      parameters.binary_data_size = bytes.byteLength;
      binaries.push(bytes);
      entries.push(JSON.stringify(entry));
    } else {
      const withoutData = JSON.stringify(Object.keys(parameters).length > 0 ? entry : { ...entry, parameters: undefined });
      entries.push(`${withoutData.slice(0, -1)},"data":${makeJsonData(`output "${want.name}"`, tensor.datatype, tensor.data)}}`);
    }
  }
  // Spliced by hand so 64-bit integers keep every digit (JSON.stringify cannot write a bigint).
  const json = `${JSON.stringify(head).slice(0, -1)},"outputs":[${entries.join(",")}]}`;
  if (binaries.length === 0) return new Response(json, { headers: { "content-type": "application/json" } });
  const header = encoder.encode(json);
  return new Response(concatBytes([header, ...binaries]), {
    headers: { "content-type": "application/octet-stream", [HEADER_LENGTH]: String(header.byteLength) },
  });
}

/** One buffer holding every part in order. */
export function concatBytes(parts: Uint8Array[]): Uint8Array<ArrayBuffer> {
  let total = 0;
  for (const part of parts) total += part.byteLength;
  const out = new Uint8Array(total);
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.byteLength;
  }
  return out;
}
