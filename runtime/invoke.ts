// The per-request pipeline: admission, deadline, dispatch to the user's http or event hook,
// and mapping of every outcome to a response. Errors map to statuses only in errors.ts.
import { limitRequestBody, readBodyLimited, unwrapBodyError } from "./body-limit.ts";
import { detectEventMode, makeBinaryResponse, makeReplyEvent, parseHttpEvent } from "./cloudevents-http.ts";
import {
  BadHandlerResultError,
  BodyTooLargeError,
  errorResponse,
  HandlerTimeoutError,
  InvalidEventError,
  statusOf,
  UnavailableError,
} from "./errors.ts";
import type { AdmissionRefusal } from "./limiter.ts";
import type { ReplicaState } from "./replica-state.ts";
import { Deadline, RequestContextImpl } from "./request-context.ts";
import type { FunctionSpec, InitContext, Logger, RequestContext, SkiffFunction } from "./types.ts";

/** Everything the pipeline needs, fixed for the life of the replica. */
export interface InvokeDeps {
  fn: SkiffFunction<unknown>;
  spec: FunctionSpec;
  state: ReplicaState;
  logger: Logger;
  /** Context shared by all requests; per-request fields are layered on top. */
  baseContext: InitContext;
  initState: () => unknown;
}

/** Reads one request header (lowercase name). */
export type HeaderReader = (name: string) => string | undefined;

let requestCounter = 0;
const requestPrefix = `${process.pid.toString(36)}-${Date.now().toString(36)}`;

/** A request id: the caller's x-request-id, else one made from the process and a counter. */
function makeRequestId(header: HeaderReader): string {
  return header("x-request-id") ?? `${requestPrefix}-${(++requestCounter).toString(36)}`;
}

/**
 * Handles one request end to end; never throws. `header` reads the raw Node headers: building
 * the Web Headers object on every request costs more than the rest of the pipeline. A
 * synchronous handler is answered synchronously (no timer, no promise hop), since nothing
 * could interrupt it anyway.
 */
export function invoke(deps: InvokeDeps, request: Request, header: HeaderReader): Response | Promise<Response> {
  const started = performance.now();
  const { limiter } = deps.state;
  if (limiter.inFlight < limiter.concurrency) return handle(deps, request, header, limiter.acquire() as () => void, started);
  return admitQueued(deps, request).then(
    (release) => handle(deps, request, header, release, started),
    (refusal: unknown) => finish(deps, started, "http", failure(deps, refusal, makeRequestId(header), "http")),
  );
}

/** Runs the hook holding a slot; `release` is called exactly once when the answer is known. */
function handle(deps: InvokeDeps, request: Request, header: HeaderReader, release: () => void, started: number): Response | Promise<Response> {
  const mode = deps.fn.event ? detectEventMode(header) : "none";
  const kind = mode === "none" ? "http" : "event";
  const deadline = new Deadline(deps.spec.timeoutMs);
  // The client's signal is read lazily: touching request.signal costs an AbortController per request.
  const ctx = new RequestContextImpl(deps.baseContext, deps.initState(), () => makeRequestId(header), deadline, () => request.signal);
  const fail = (error: unknown) => failure(deps, error, ctx.requestId, kind);
  let result: unknown;
  try {
    result = mode === "none" ? callHttp(deps, request, ctx, header) : runEvent(deps, request, ctx, mode);
  } catch (error) {
    release();
    return finish(deps, started, kind, fail(error));
  }
  if (!isThenable(result)) {
    release();
    let response: Response;
    try {
      response = toResponse(result);
    } catch (error) {
      response = fail(error);
    }
    return finish(deps, started, kind, response);
  }
  // The timeout is the handler's own budget: it starts when the handler does, not on arrival.
  deadline.start();
  return deadline
    .race(Promise.resolve(result))
    .then(toResponse)
    .catch(fail)
    .then((response) => {
      deadline.clear();
      release();
      return finish(deps, started, kind, response);
    });
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return typeof value === "object" && value !== null && typeof (value as { then?: unknown }).then === "function";
}

/** Records the outcome and wakes a drain waiting for the replica to go idle. */
function finish(deps: InvokeDeps, started: number, kind: string, response: Response): Response {
  deps.state.metrics.requests.inc2(kind, response.status);
  deps.state.metrics.duration.observe((performance.now() - started) / 1000);
  deps.state.notifySettled();
  return response;
}

/** Waits in the bounded queue for at most one timeout, leaving it if the client goes away. */
function admitQueued(deps: InvokeDeps, request: Request): Promise<() => void> {
  const slot = deps.state.limiter.acquire(AbortSignal.any([AbortSignal.timeout(deps.spec.timeoutMs), request.signal]));
  return typeof slot === "function" ? Promise.resolve(slot) : slot;
}

/** Turns an admission refusal or a handler failure into the error response, logging 5xx. */
function failure(deps: InvokeDeps, raw: unknown, requestId: string, kind: string): Response {
  const error = typeof raw === "string" ? admissionError(raw as AdmissionRefusal, deps) : unwrapBodyError(raw);
  const status = statusOf(error);
  deps.state.metrics.errors.inc({ reason: reasonOf(error) });
  if (error instanceof HandlerTimeoutError) {
    deps.logger.warn(`${kind} handler timed out`, { requestId, timeoutMs: deps.spec.timeoutMs });
  } else if (status >= 500 && !(error instanceof UnavailableError)) {
    deps.logger.error(`${kind} handler failed`, { requestId, status, error });
  }
  return errorResponse(error, requestId);
}

function admissionError(refusal: AdmissionRefusal, deps: InvokeDeps): Error {
  const { inFlight, queued, concurrency } = deps.state.limiter;
  if (refusal === "queue-full") {
    return new UnavailableError(`replica at capacity: ${inFlight}/${concurrency} in flight and ${queued} queued`);
  }
  if (refusal === "queue-timeout") {
    return new UnavailableError(`no free slot within the timeout (${deps.spec.timeoutMs}ms); ${queued} still queued`);
  }
  return new UnavailableError("client went away while queued");
}

function reasonOf(error: unknown): string {
  if (error instanceof HandlerTimeoutError) return "timeout";
  if (error instanceof BodyTooLargeError) return "body_too_large";
  if (error instanceof InvalidEventError) return "invalid_event";
  if (error instanceof UnavailableError) return "unavailable";
  return "handler";
}

/** Calls the user's http hook; returns whatever it returns (a value, or a promise of one). */
function callHttp(deps: InvokeDeps, request: Request, ctx: RequestContext<unknown>, header: HeaderReader): unknown {
  if (!deps.fn.http) {
    throw new InvalidEventError(
      `function "${deps.spec.name}" only handles CloudEvents: send ce-* headers (binary mode) or content-type application/cloudevents+json`,
    );
  }
  return deps.fn.http(limitRequestBody(request, deps.spec.maxBodyBytes, header), ctx);
}

/** Accepts a Response, or makes one from a string (text) or a plain object/array (JSON). */
function toResponse(result: unknown): Response {
  if (result instanceof Response) return result;
  if (typeof result === "string") return new Response(result, { headers: { "content-type": "text/plain; charset=utf-8" } });
  if (typeof result === "object" && result !== null) return Response.json(result);
  throw new BadHandlerResultError(`http handler returned ${result === undefined ? "nothing" : typeof result}; return a Response, a string or an object`);
}

async function runEvent(
  deps: InvokeDeps,
  request: Request,
  ctx: RequestContext<unknown>,
  mode: ReturnType<typeof detectEventMode>,
): Promise<Response> {
  const body = await readBodyLimited(request, deps.spec.maxBodyBytes);
  const event = await parseHttpEvent(request.headers, body, mode);
  const reply = await deps.fn.event!(event, ctx);
  if (reply === undefined || reply === null) return new Response(null, { status: 202 });
  return makeBinaryResponse(await makeReplyEvent(reply, `/skiff/${deps.spec.name}`));
}
