// Public API of the gateway (activator): routes /fn/<name>/* to ready replicas with least
// outstanding requests, queues at zero or at capacity, and reports concurrency to the autoscaler.
export { startGateway } from "./gateway.ts";
export type {
  ColdStartStats,
  Endpoint,
  EndpointSource,
  Gateway,
  GatewayLogger,
  GatewayOptions,
  GatewayStats,
  InternalRequest,
  InternalResponse,
  QueueOptions,
  Route,
  RouteTable,
  TrafficTarget,
} from "./types.ts";
export { DEFAULT_DRAIN_TIMEOUT_MS, DEFAULT_MAX_QUEUE } from "./core.ts";
export { FUNCTION_PREFIX, isFunctionName, parseGatewayPath, pickTarget } from "./router.ts";
export {
  BodyTooLargeError,
  EventOnlyFunctionError,
  GatewayStoppingError,
  InvalidFunctionNameError,
  NoRouteError,
  NoTrafficTargetError,
  QueueFullError,
  QueueTimeoutError,
  ReplicaFailedError,
  ReplicaTimeoutError,
  UnknownFunctionError,
  httpErrorOf,
} from "./errors.ts";
