import type { CloudEvent } from "cloudevents";
import type { FunctionSpec } from "../spec/types.ts";
import type { ModelDefinition } from "./oip/types.ts";

export type { CloudEvent } from "cloudevents";
export type { FunctionSpec } from "../spec/types.ts";

/** Leveled logger handed to user code; lines are tagged with the function and request. */
export interface Logger {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
  /** A logger that adds these fields to every line. */
  child(fields: Record<string, unknown>): Logger;
}

/** What every hook sees: the replica's identity, declared env, logger and assets. */
export interface InitContext {
  /** The function's name from function.yaml. */
  readonly name: string;
  /** Only the env declared in function.yaml (values may be overridden by the platform). */
  readonly env: Readonly<Record<string, string>>;
  readonly logger: Logger;
  /** Absolute path of an asset declared in function.yaml, e.g. assetPath("models/x.onnx"). */
  assetPath(relativePath: string): string;
  /** Fires when the replica starts shutting down. */
  readonly signal: AbortSignal;
}

/** Per-request context: the init result as `state`, and a signal that fires on timeout or disconnect. */
export interface RequestContext<S> extends InitContext {
  readonly state: S;
  readonly requestId: string;
  /** Fires when the request times out or the client goes away. */
  readonly signal: AbortSignal;
}

/** An event a handler returns: sent back to the caller (and, on NATS, to the trigger's reply subject). */
export type EventReply =
  | CloudEvent<unknown>
  | {
      type: string;
      data?: unknown;
      source?: string;
      id?: string;
      subject?: string;
      datacontenttype?: string;
      dataschema?: string;
      /** Extension attributes (lowercase alphanumeric names). */
      extensions?: Record<string, string | number | boolean>;
    };

/** What a plain `http` handler may return: a Response, or a value sent as JSON (objects) or text (strings). */
export type HttpResult = Response | string | Record<string, unknown> | unknown[];

/** The hooks a user function may define; every one is optional but at least one of http, event or model is needed. */
export interface FunctionDefinition<S> {
  /** Runs once per replica before it turns ready; its result is `ctx.state`. */
  init?(ctx: InitContext): S | Promise<S>;
  /** Handles any HTTP method and path under the function's URL. */
  http?(req: Request, ctx: RequestContext<S>): HttpResult | Promise<HttpResult>;
  /** Handles a CloudEvent; a returned event is the reply. */
  event?(
    event: CloudEvent<unknown>,
    ctx: RequestContext<S>,
  ): EventReply | undefined | void | Promise<EventReply | undefined | void>;
  /** A model served over Open Inference Protocol v2 REST at /v2/* (those paths then take precedence over http). */
  model?: ModelDefinition<S>;
  /** Runs once when the replica stops, after in-flight requests finished. */
  shutdown?(ctx: RequestContext<S>): void | Promise<void>;
}

/** A defined function, as default-exported by a user's entry module. */
export interface SkiffFunction<S = unknown> extends FunctionDefinition<S> {
  readonly __skiffFunction: 1;
}

/** Options the generated entry passes to startReplica. */
export interface ReplicaOptions {
  spec: FunctionSpec;
  /** Directory of the bundle; assets are resolved from it. */
  baseDir: string;
  /** Port to listen on; defaults to $PORT, then 8080. */
  port?: number;
  /** Host to bind; defaults to $HOST, then 0.0.0.0 (containers) . */
  hostname?: string;
}
