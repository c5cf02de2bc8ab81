// One request through the gateway, in phases: route (pure checks), admit (a replica slot, maybe
// after queueing), forward (at most two attempts), answer errors (JSON, via errors.ts).
import { randomUUID } from "node:crypto";
import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from "node:http";
import { ClientWatch } from "./client-watch.ts";
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
import { describeFailure, forward, isConnectFailure, isRetryable, type ForwardResult } from "./proxy.ts";
import type { Slot } from "./revision-queue.ts";
import { parseGatewayPath, pickTarget, type ParsedPath } from "./router.ts";
import type { Route } from "./types.ts";

/** Status recorded when the client went away before its answer (nginx's convention). */
export const CLIENT_CLOSED = 499;
/** How long a replica that refused a connection gets no new requests (the platform's view lags its death). */
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

/** Everything the admit and forward phases share about one request. */
interface Exchange {
  req: IncomingMessage;
  res: ServerResponse;
  requestId: string;
  routed: Routed;
  headers: OutgoingHttpHeaders;
  hasBody: boolean;
  /** Whether the client is still there. */
  client: ClientWatch;
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
  const route = core.options.routes.resolve(parsed.name);
  if (!route) throw new UnknownFunctionError(parsed.name);
  if (!route.spec.http && !(core.options.allowEventOnly?.(req) ?? false)) throw new EventOnlyFunctionError(route.fn);
  const length = declaredLength(req.headers);
  if (length !== undefined && length > route.spec.maxBodyBytes) throw new BodyTooLargeError(route.fn, length, route.spec.maxBodyBytes);
  const revision = pickTarget(route.targets, core.random);
  if (revision === undefined) throw new NoTrafficTargetError(route.fn);
  return { route, revision, path: parsed.path };
}

/** Admits and forwards, retrying once elsewhere when that is safe; returns the status to record. */
async function proxyRequest(core: GatewayCore, entry: RevisionEntry, req: IncomingMessage, res: ServerResponse, routed: Routed, requestId: string): Promise<number> {
  const client = new ClientWatch();
  // 'close' also fires after a normal finish. writableEnded (we called end()) rather than
  // writableFinished: the latter stays false while the socket still flushes the last bytes, and
  // aborting then would destroy a healthy upstream socket instead of returning it to the pool.
  const onClose = () => res.writableEnded || client.markGone();
  res.once("close", onClose);
  const headers = makeUpstreamHeaders(req.headers, { remoteAddress: req.socket.remoteAddress, requestId });
  const exchange: Exchange = { req, res, requestId, routed, headers, hasBody: hasRequestBody(req.headers), client };
  try {
    let exclude: string | undefined;
    for (let attempt = 1; ; attempt++) {
      const slot = await admit(core, entry, exchange, exclude);
      if (typeof slot === "number") return slot;
      const result = await forwardOnce(core, exchange, slot);
      if (result.kind === "responded") return result.status;
      if (result.kind === "client-gone") return CLIENT_CLOSED;
      if (!shouldRetry(core, entry, exchange, slot, result, attempt)) return answerFailure(exchange, slot, result);
      entry.stats.retries++;
      exclude = slot.replica.id;
    }
  } finally {
    res.off("close", onClose);
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
    return reply(ex.res, error, ex.requestId, false);
  }
}

/** One attempt on one replica; the slot and agent are given back when the answer is fully relayed. */
async function forwardOnce(core: GatewayCore, ex: Exchange, slot: Slot): Promise<ForwardResult> {
  const lease = core.pool.lease(slot.replica);
  try {
    return await forward({
      req: ex.req,
      res: ex.res,
      lease,
      path: ex.routed.path,
      headers: ex.headers,
      hasBody: ex.hasBody,
      responseTimeoutMs: responseBackstopMs(ex.routed.route),
      client: ex.client,
    });
  } finally {
    lease.release();
    slot.release();
  }
}

/** Counts and logs a failed attempt, and decides whether another replica should get the request. */
function shouldRetry(core: GatewayCore, entry: RevisionEntry, ex: Exchange, slot: Slot, result: Extract<ForwardResult, { kind: "failed" }>, attempt: number): boolean {
  entry.stats.replicaFailures++;
  const { code } = result.error;
  if (isConnectFailure(code)) entry.dispatcher.suspend(slot.replica.id, SUSPEND_AFTER_REFUSAL_MS);
  const retry =
    attempt === 1 &&
    !result.timedOut &&
    !ex.client.gone &&
    isRetryable({ code, method: ex.req.method ?? "GET", hasBody: ex.hasBody, bodySent: result.bodySent }) &&
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
  return reply(ex.res, error, ex.requestId, false);
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

function firstHeader(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

function stripQuery(path: string): string {
  const query = path.indexOf("?");
  return query < 0 ? path : path.slice(0, query);
}
