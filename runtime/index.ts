// Public API of `skiff/runtime`: what user functions import, and what the generated entry calls.
export { defineFunction, isSkiffFunction } from "./define-function.ts";
export { startReplica, type Replica, type StartOptions } from "./server.ts";
export { HttpError } from "./errors.ts";
export { makeLogger } from "./logger.ts";
export { decodeHeaderValue, encodeBinaryHeaders, encodeHeaderValue } from "./cloudevents-http.ts";
export { PATHS } from "./app.ts";
export type {
  CloudEvent,
  EventReply,
  FunctionDefinition,
  FunctionSpec,
  HttpResult,
  InitContext,
  Logger,
  ReplicaOptions,
  RequestContext,
  SkiffFunction,
} from "./types.ts";
export type {
  InferContext,
  InferParameter,
  ModelContext,
  ModelDefinition,
  ModelMetadata,
  OipDatatype,
  Tensor,
  TensorData,
  TensorMetadata,
  Tensors,
  TypedArray,
} from "./oip/types.ts";
