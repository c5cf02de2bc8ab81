// One request through the gateway, in phases: route (pure checks), admit (a replica slot, maybe
// after queueing), forward (at most two attempts), answer errors (JSON, via errors.ts).
import { randomUUID } from "node:crypto";
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from "node:http";
import { ClientWatch, type ClientGone } from "./client-watch.ts";
import type { GatewayCore, RevisionEntry } from "./core.ts";
import {
  BodyTooLargeError,
  EventOnlyFunctionError,
  GatewayStoppingError,
  httpErrorOf,
  InvalidFunctionNameError,
  NoRouteError,
  NoTrafficTargetError,
  QueueFullError,
  QueueTimeoutError,
  ReplicaFailedError,
  ReplicaTimeoutError,
  RequestAbortedError,
  UnknownFunctionError,
} from "./errors.ts";
import { declaredLength, hasRequestBody, makeUpstreamHeaders } from "./headers.ts";
import { describeFailure, exchange, forward, isConnectFailure, isResetFailure, isRetryable, type AgentLease, type ForwardResult } from "./proxy.ts";
import type { Slot } from "./revision-queue.ts";
import { parseGatewayPath, pickTarget, type ParsedPath } from "./router.ts";
import type { InternalRequest, InternalResponse, Route } from "./types.ts";

/** Status recorded when the client went away before its answer (nginx's convention). */
export const CLIENT_CLOSED = 499;
/** How long a replica that refused or reset a connection gets no new requests (the platform's view lags its death). */
export const SUSPEND_AFTER_REFUSAL_MS = 1000;
/** Extra time past the replica's own deadline before the gateway gives up on a silent replica. */
const RESPONSE_BACKSTOP_SLACK_MS = 1000;

/** A request matched to a function and one of its revisions. */
interface Routed {
  route: Route;
  revision: string;
  /** Path and query as the replica sees them. */
  path: string;
}

/**
 * Everything the admit, forward and retry phases share about one request, whether it came in
 * over HTTP (handleRequest) or from the platform in process (deliverInternal).
 */
interface Exchange {
  requestId: string;
  routed: Routed;
  method: string;
  hasBody: boolean;
  /** Whether the client is still there. */
  client: ClientGone;
  /** One attempt on the leased replica's agent. */
  send(lease: AgentLease): Promise<ForwardResult>;
  /** Answers an error the gateway decided on (503, 502, 504) and returns its status. */
  fail(error: unknown): number;
}

/** Handles one request end to end; never rejects (a bug becomes a logged 500, not a hung client). */
export async function handleRequest(core: GatewayCore, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const requestId = firstHeader(req.headers["x-request-id"]) ?? randomUUID();
  try {
    await routeAndProxy(core, req, res, requestId);
  } catch (error) {
    core.logger.error("request handling failed", { requestId, error: String(error) });
    core.recordUnrouted(reply(res, error, requestId, true));
  }
}

async function routeAndProxy(core: GatewayCore, req: IncomingMessage, res: ServerResponse, requestId: string): Promise<void> {
  if (core.stopping) {
    core.recordUnrouted(reply(res, new GatewayStoppingError(), requestId, true));
    return;
  }
  const parsed = parseGatewayPath(req.url ?? "/");
  if (parsed.kind === "platform") return servePlatform(core, req, res, parsed.path);
  let routed: Routed;
  try {
    routed = routeRequest(core, req, parsed);
  } catch (error) {
    // Expected refusals (404, 413, ...) are answered here; anything else is a bug, handled above.
    if (httpErrorOf(error).status === 500) throw error;
    // A refused body is not read: close the connection rather than drain it.
    core.recordUnrouted(reply(res, error, requestId, error instanceof BodyTooLargeError));
    return;
  }
  const entry = core.entryFor(routed.route, routed.revision);
  entry.stats.recordRequest(await proxyRequest(core, entry, req, res, routed, requestId));
}

/** Resolves the function and revision, or throws the error to answer with. */
function routeRequest(core: GatewayCore, req: IncomingMessage, parsed: ParsedPath): Routed {
  if (parsed.kind !== "function") throw new NoRouteError(stripQuery(parsed.path));
  if (!parsed.valid) throw new InvalidFunctionNameError(parsed.name);
  return routeTo(core, parsed.name, parsed.path, declaredLength(req.headers), () => core.options.allowEventOnly?.(req) ?? false);
}

/** The route checks shared by both entries: known function, event-only rule, body size, traffic split. */
function routeTo(core: GatewayCore, name: string, path: string, length: number | undefined, eventOnlyAllowed: () => boolean): Routed {
  const route = core.options.routes.resolve(name);
  if (!route) throw new UnknownFunctionError(name);
  if (!route.spec.http && !eventOnlyAllowed()) throw new EventOnlyFunctionError(route.fn);
  if (length !== undefined && length > route.spec.maxBodyBytes) throw new BodyTooLargeError(route.fn, length, route.spec.maxBodyBytes);
  const revision = pickTarget(route.targets, core.random);
  if (revision === undefined) throw new NoTrafficTargetError(route.fn);
  return { route, revision, path };
}

/** Admits and forwards a client's request, retrying once elsewhere when that is safe; returns the status to record. */
async function proxyRequest(core: GatewayCore, entry: RevisionEntry, req: IncomingMessage, res: ServerResponse, routed: Routed, requestId: string): Promise<number> {
  const client = new ClientWatch();
  // 'close' also fires after a normal finish. writableEnded (we called end()) rather than
  // writableFinished: the latter stays false while the socket still flushes the last bytes, and
  // aborting then would destroy a healthy upstream socket instead of returning it to the pool.
  const onClose = () => res.writableEnded || client.markGone();
  res.once("close", onClose);
  const headers = makeUpstreamHeaders(req.headers, { remoteAddress: req.socket.remoteAddress, requestId });
  const hasBody = hasRequestBody(req.headers);
  const responseTimeoutMs = responseBackstopMs(routed.route);
  const ex: Exchange = {
    requestId,
    routed,
    method: req.method ?? "GET",
    hasBody,
    client,
    send: (lease) => forward({ req, res, lease, path: routed.path, headers, hasBody, responseTimeoutMs, client }),
    fail: (error) => reply(res, error, requestId, false),
  };
  try {
    return await admitAndForward(core, entry, ex);
  } finally {
    res.off("close", onClose);
  }
}

/**
 * The platform's in-process entry (Gateway.deliverInternal): the same routing, queue, balancer,
 * metrics and retry rules as an HTTP request, minus the client-side HTTP hop. Event-only
 * functions are allowed: only the platform holds a reference to this. Resolves with the
 * replica's whole answer or the gateway's own error answer; rejects when the signal aborts
 * or the replica's answer is cut mid-body.
 */
export async function deliverInternal(core: GatewayCore, fnName: string, request: InternalRequest): Promise<InternalResponse> {
  const incoming = lowerCase(request.headers);
  const requestId = firstHeader(incoming["x-request-id"]) ?? randomUUID();
  const answer: { response?: InternalResponse; cut?: boolean } = {};
  const failWith = (error: unknown): number => {
    const { status, headers, body } = httpErrorOf(error, requestId);
    answer.response = { status, headers: { "content-type": "application/json; charset=utf-8", "x-request-id": requestId, ...headers }, body: encoder.encode(JSON.stringify(body)) };
    return status;
  };
  let routed: Routed | undefined;
  try {
    if (core.stopping) throw new GatewayStoppingError();
    routed = routeTo(core, fnName, request.path ?? "/", request.body?.byteLength, () => true);
  } catch (error) {
    if (httpErrorOf(error).status === 500) throw error;
    core.recordUnrouted(failWith(error));
    return answer.response!;
  }
  const entry = core.entryFor(routed.route, routed.revision);
  const client = new ClientWatch();
  const signal = request.signal;
  const onAbort = () => client.markGone();
  if (signal?.aborted) client.markGone();
  else signal?.addEventListener("abort", onAbort, { once: true });
  const headers = makeUpstreamHeaders(incoming, { remoteAddress: undefined, requestId });
  const method = request.method ?? "POST";
  const hasBody = (request.body?.byteLength ?? 0) > 0;
  const responseTimeoutMs = responseBackstopMs(routed.route);
  const ex: Exchange = {
    requestId,
    routed,
    method,
    hasBody,
    client,
    send: async (lease) => {
      const result = await exchange({ lease, method, path: routed.path, headers, body: request.body, responseTimeoutMs, client });
      if (result.kind === "responded") {
        if (result.response) answer.response = { status: result.status, headers: result.response.headers, body: result.response.body };
        else answer.cut = true;
      }
      return result;
    },
    fail: failWith,
  };
  try {
    const status = await admitAndForward(core, entry, ex);
    entry.stats.recordRequest(status);
  } finally {
    signal?.removeEventListener("abort", onAbort);
  }
  if (answer.response) return answer.response;
  if (client.gone) throw signal?.reason instanceof Error ? signal.reason : new RequestAbortedError();
  throw new Error(answer.cut ? `the replica's answer to ${fnName} was cut before its end` : `no answer from ${fnName}`);
}

/** The admit -> forward -> maybe retry loop shared by both entries; returns the status to record. */
async function admitAndForward(core: GatewayCore, entry: RevisionEntry, ex: Exchange): Promise<number> {
  let exclude: string | undefined;
  for (let attempt = 1; ; attempt++) {
    const slot = await admit(core, entry, ex, exclude);
    if (typeof slot === "number") return slot;
    const result = await forwardOnce(core, ex, slot);
    if (result.kind === "responded") return result.status;
    if (result.kind === "client-gone") return CLIENT_CLOSED;
    if (!shouldRetry(core, entry, ex, slot, result, attempt)) return answerFailure(ex, slot, result);
    entry.stats.retries++;
    exclude = slot.replica.id;
  }
}

/** Waits for a replica slot; on refusal answers 503 (or nothing, if the client left) and returns its status. */
async function admit(core: GatewayCore, entry: RevisionEntry, ex: Exchange, exclude: string | undefined): Promise<Slot | number> {
  const timeoutMs = core.options.queue?.timeoutMs ?? ex.routed.route.spec.timeoutMs;
  try {
    const slot = await entry.dispatcher.acquire({ timeoutMs, client: ex.client, exclude, retry: exclude !== undefined });
    // A retry's wait is not a cold start: the first attempt already counted the request.
    if (slot.coldStart && exclude === undefined) entry.stats.recordColdStart(slot.waitedMs);
    return slot;
  } catch (error) {
    if (error instanceof QueueFullError) entry.stats.queueFull++;
    if (error instanceof QueueTimeoutError) entry.stats.queueTimeout++;
    if (error instanceof RequestAbortedError) return CLIENT_CLOSED;
    return ex.fail(error);
  }
}

/** One attempt on one replica; the slot and agent are given back when the answer is fully relayed. */
async function forwardOnce(core: GatewayCore, ex: Exchange, slot: Slot): Promise<ForwardResult> {
  const lease = core.pool.lease(slot.replica);
  try {
    return await ex.send(lease);
  } finally {
    lease.release();
    slot.release();
  }
}

/** Counts and logs a failed attempt, and decides whether another replica should get the request. */
function shouldRetry(core: GatewayCore, entry: RevisionEntry, ex: Exchange, slot: Slot, result: Extract<ForwardResult, { kind: "failed" }>, attempt: number): boolean {
  entry.stats.replicaFailures++;
  const { code } = result.error;
  // A refused connection, or one reset before any answer (what a SIGKILLed replica's sockets
  // do): stop sending it new requests until the backend's view of its death catches up.
  if (isConnectFailure(code) || isResetFailure(code)) entry.dispatcher.suspend(slot.replica.id, SUSPEND_AFTER_REFUSAL_MS);
  const retry =
    attempt === 1 &&
    !result.timedOut &&
    !ex.client.gone &&
    isRetryable({ code, method: ex.method, hasBody: ex.hasBody, bodySent: result.bodySent }) &&
    entry.dispatcher.hasOtherReplica(slot.replica.id);
  core.logger.warn(`replica ${slot.replica.id} failed: ${describeFailure(result.error)}`, {
    fn: entry.fn,
    revision: entry.revision,
    requestId: ex.requestId,
    retry,
  });
  return retry;
}

/** Answers 502 (or 504 for a silent replica) right away. */
function answerFailure(ex: Exchange, slot: Slot, result: Extract<ForwardResult, { kind: "failed" }>): number {
  const error = result.timedOut
    ? new ReplicaTimeoutError(slot.replica.id, responseBackstopMs(ex.routed.route))
    : new ReplicaFailedError(slot.replica.id, describeFailure(result.error), { cause: result.error });
  return ex.fail(error);
}

/** The gateway's own endpoints: liveness and metrics. */
function servePlatform(core: GatewayCore, req: IncomingMessage, res: ServerResponse, path: string): void {
  const bare = stripQuery(path);
  if (bare === "/_skiff/live" && (req.method === "GET" || req.method === "HEAD")) {
    res.writeHead(200, { "content-type": "text/plain; charset=utf-8", "content-length": "2" }).end("ok");
  } else if (bare === "/_skiff/metrics" && (req.method === "GET" || req.method === "HEAD")) {
    const text = core.metricsText();
    res.writeHead(200, { "content-type": "text/plain; version=0.0.4; charset=utf-8", "content-length": Buffer.byteLength(text) }).end(text);
  } else {
    core.recordUnrouted(reply(res, new NoRouteError(bare), undefined, false));
  }
}

/** Writes an error as JSON (errors.ts picks the status) and returns the status; a started response is cut instead. */
function reply(res: ServerResponse, error: unknown, requestId: string | undefined, closeConnection: boolean): number {
  const { status, headers, body } = httpErrorOf(error, requestId);
  if (res.headersSent || res.destroyed) {
    res.destroy();
    return status;
  }
  const text = JSON.stringify(body);
  res.writeHead(status, {
    "content-type": "application/json; charset=utf-8",
    "content-length": Buffer.byteLength(text),
    ...(requestId ? { "x-request-id": requestId } : {}),
    ...(closeConnection ? { connection: "close" } : {}),
    ...headers,
  });
  res.end(text);
  return status;
}

/**
 * The replica answers 504 itself at timeoutMs after its handler starts, and may first queue up to
 * timeoutMs more when another caller filled it: past both (and a little slack), it is hung.
 */
function responseBackstopMs(route: Route): number {
  return 2 * route.spec.timeoutMs + RESPONSE_BACKSTOP_SLACK_MS;
}

const encoder = new TextEncoder();

/** Header names in lower case, as node:http hands them to the HTTP entry. */
function lowerCase(headers: Record<string, string> | undefined): IncomingHttpHeaders {
  const out: IncomingHttpHeaders = {};
  for (const [name, value] of Object.entries(headers ?? {})) out[name.toLowerCase()] = value;
  return out;
}

function firstHeader(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

function stripQuery(path: string): string {
  const query = path.indexOf("?");
  return query < 0 ? path : path.slice(0, query);
}
