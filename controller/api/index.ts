// Public API of the control API: the Hono app over PlatformOps, its client, the bundle
// upload format and the error mapping. Other folders import only from here.
export { HEALTH_PATH, makeControlApi } from "./app.ts";
export { makeBearerAuth, parseBearer, tokensMatch } from "./auth.ts";
export {
  BUNDLE_CONTENT_TYPE, BUNDLE_MAGIC, DEFAULT_BUNDLE_LIMITS, bundleByteLength, checkPath, decodeBundle, encodeBundle,
  encodeBundleChunks, makeBundleDecoder, type Bundle, type BundleDecoder, type BundleLimits,
} from "./bundle-format.ts";
export { makeControlClient, type ControlClient, type ControlClientOptions, type DeployRequest, type LogsRequest } from "./client.ts";
export { DEFAULT_DLQ_LIMIT, MAX_DLQ_LIMIT } from "./dlq-route.ts";
export {
  BadRequestError, BundleFormatError, BundleLimitError, ControlApiError, NotImplementedError, UnauthorizedError, UnsupportedMediaTypeError,
  toErrorResponse, type ApiErrorOptions, type ErrorResponse,
} from "./errors.ts";
export { formatLogLine, parseLogLine, type ParsedLogLine } from "../log-format.ts";
export { MAX_TAIL } from "./logs-route.ts";
export { readFilesFromDir } from "./read-files.ts";
export { makeSpecInput } from "./spec-input.ts";
export type {
  ColdStart, ControlApiOptions, DeadLetterEvent, DeadLetterSummary, DeployInput, DeployMeta, DeployResult, DlqListOptions,
  FunctionDescription, FunctionSummary, LogsOptions, PlatformOps, RedriveResult, ReplicaCounts, RevisionSummary, ScaleEvent,
  TrafficTarget,
} from "./types.ts";
