// Reading a deploy request: the bundle streams through the incremental decoder as it
// arrives (limits are enforced before the whole upload is in), then its header is
// validated into a DeployInput.
import { validateFunctionSpec } from "../../spec/index.ts";
import { parseTraffic } from "../store/index.ts";
import { BUNDLE_CONTENT_TYPE, type BundleLimits, DEFAULT_BUNDLE_LIMITS, makeBundleDecoder } from "./bundle-format.ts";
import { BadRequestError, BundleLimitError, UnsupportedMediaTypeError } from "./errors.ts";
import { readChunks } from "./read-stream.ts";
import type { DeployInput } from "./types.ts";

/** Decodes and validates the deploy upload for function `name`. */
export async function readDeployRequest(request: Request, name: string, limits: Partial<BundleLimits> = {}): Promise<DeployInput> {
  const type = (request.headers.get("content-type") ?? "").split(";")[0]!.trim().toLowerCase();
  if (type !== BUNDLE_CONTENT_TYPE) {
    throw new UnsupportedMediaTypeError(`deploy expects Content-Type: ${BUNDLE_CONTENT_TYPE}, got ${JSON.stringify(type || "none")}`);
  }
  const maxTotalBytes = limits.maxTotalBytes ?? DEFAULT_BUNDLE_LIMITS.maxTotalBytes;
  const declared = Number(request.headers.get("content-length") ?? Number.NaN);
  // Refuse a too large upload from its header, before reading any of it.
  if (declared > maxTotalBytes) throw new BundleLimitError(`bundle is ${declared} bytes, more than the limit of ${maxTotalBytes}`);
  if (!request.body) throw new BadRequestError("deploy request has no body; expected a skiff bundle");
  const decoder = makeBundleDecoder(limits);
  for await (const chunk of readChunks(request.body)) decoder.push(chunk);
  const { meta, files } = decoder.end();
  const { spec: specInput, traffic, isolation, ...rest } = meta;
  const extra = Object.keys(rest)[0];
  if (extra !== undefined) throw new BadRequestError(`bundle header has an unknown key ${JSON.stringify(extra)}`);
  if (specInput === undefined) throw new BadRequestError("bundle header has no spec");
  if (isolation !== undefined && isolation !== "process" && isolation !== "container") {
    throw new BadRequestError(`bundle header has isolation ${JSON.stringify(isolation)}; expected "process" or "container"`);
  }
  // Spec errors reach the user verbatim: they name the field and what was expected.
  const spec = validateFunctionSpec(specInput, { file: "function.yaml" });
  if (spec.name !== name) {
    throw new BadRequestError(`function.yaml names function "${spec.name}", but the request deploys "${name}"`);
  }
  return {
    name,
    spec,
    files,
    ...(traffic === undefined ? {} : { traffic: parseTraffic(traffic) }),
    ...(isolation === "container" ? { isolation } : {}),
  };
}
