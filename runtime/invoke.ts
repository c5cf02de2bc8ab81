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

let requestCounter = 0;
const requestPrefix = `${process.pid.toString(36)}-${Date.now().toString(36)}`;

/** Handles one request end to end; never throws. */
export async function invoke(deps: InvokeDeps, request: Request): Promise<Response> {
  const started = performance.now();
  const requestId = request.headers.get("x-request-id") ?? `${requestPrefix}-${(++requestCounter).toString(36)}`;
  let release: (() => void) | undefined;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let kind = "http";
  let response: Response;
  try {
    release = await admit(deps, request);
    // The timeout is the handler's own budget: it starts when the handler does, not on arrival.
    const deadline = new AbortController();
    timer = setTimeout(() => deadline.abort(new HandlerTimeoutError(deps.spec.timeoutMs)), deps.spec.timeoutMs);
    const mode = deps.fn.event ? detectEventMode(request.headers) : "none";
    kind = mode === "none" ? "http" : "event";
    const ctx = makeRequestContext(deps, requestId, deadline.signal, request.signal);
    const work = mode === "none" ? runHttp(deps, request, ctx) : runEvent(deps, request, ctx, mode);
    response = await raceDeadline(work, deadline.signal);
  } catch (error) {
    response = failure(deps, error, requestId, kind);
  } finally {
    clearTimeout(timer);
    release?.();
  }
  deps.state.metrics.requests.inc({ kind, code: String(response.status) });
  deps.state.metrics.duration.observe((performance.now() - started) / 1000);
  deps.state.notifySettled();
  return response;
}

/**
 * Waits for a concurrency slot. The fast path (a free slot) allocates nothing; a queued
 * request waits at most one timeout, and leaves the queue if its client goes away.
 */
async function admit(deps: InvokeDeps, request: Request): Promise<() => void> {
  const { limiter } = deps.state;
  if (limiter.inFlight < limiter.concurrency) return limiter.acquire() as () => void;
  return limiter.acquire(AbortSignal.any([AbortSignal.timeout(deps.spec.timeoutMs), request.signal]));
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

/** Settles with the work, or rejects with the deadline's reason the moment it fires. */
function raceDeadline<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener("abort", onAbort, { once: true });
    work.then(resolve, reject).finally(() => signal.removeEventListener("abort", onAbort));
  });
}

/** A per-request context on top of the shared one; its signal fires on timeout or client disconnect. */
function makeRequestContext(
  deps: InvokeDeps,
  requestId: string,
  deadline: AbortSignal,
  client: AbortSignal,
): RequestContext<unknown> {
  let signal: AbortSignal | undefined;
  return Object.create(deps.baseContext, {
    state: { value: deps.initState(), enumerable: true },
    requestId: { value: requestId, enumerable: true },
    logger: { get: () => deps.logger.child({ requestId }) },
    // Built on first use: most handlers never look at it, and AbortSignal.any is not free.
    signal: { get: () => (signal ??= AbortSignal.any([deadline, client])), enumerable: true },
  }) as RequestContext<unknown>;
}

async function runHttp(deps: InvokeDeps, request: Request, ctx: RequestContext<unknown>): Promise<Response> {
  if (!deps.fn.http) {
    throw new InvalidEventError(
      `function "${deps.spec.name}" only handles CloudEvents: send ce-* headers (binary mode) or content-type application/cloudevents+json`,
    );
  }
  const result = await deps.fn.http(limitRequestBody(request, deps.spec.maxBodyBytes), ctx);
  return toResponse(result);
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
