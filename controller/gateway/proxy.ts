// The proxy hop over node:http: one keep-alive agent per replica, request and response bodies
// streamed (never buffered), and failures reported with enough detail to decide on a retry.
import { Agent, request as httpRequest, type ClientRequest, type IncomingMessage, type OutgoingHttpHeaders, type ServerResponse } from "node:http";
import type { ClientGone } from "./client-watch.ts";
import { makeResponseHeaders } from "./headers.ts";
import type { Endpoint } from "./types.ts";

/** A borrowed agent for one replica; release it when the request is done. */
export interface AgentLease {
  readonly agent: Agent;
  readonly host: string;
  readonly port: number;
  release(): void;
}

interface PooledAgent {
  agent: Agent;
  host: string;
  port: number;
  users: number;
  /** The replica left every ready list; destroy the agent once its last request ends. */
  retired: boolean;
}

/** Keep-alive agents keyed by replica URL, retired when their replica stops being ready. */
export class AgentPool {
  private readonly agents = new Map<string, PooledAgent>();

  /** The agent for `endpoint`'s URL, created on first use. */
  lease(endpoint: Endpoint): AgentLease {
    let entry = this.agents.get(endpoint.url);
    if (!entry) {
      const url = new URL(endpoint.url);
      entry = {
        // No socket cap: the gateway already bounds each replica to spec.scale.concurrency. LIFO
        // reuse (Node's default) lets surplus sockets idle out; Node honours the replica's
        // `Keep-Alive: timeout=5` hint, so a socket is not reused just as the replica closes it.
        agent: new Agent({ keepAlive: true, maxSockets: Infinity, noDelay: true }),
        host: url.hostname.replace(/^\[(.*)\]$/, "$1"),
        port: Number(url.port || 80),
        users: 0,
        retired: false,
      };
      this.agents.set(endpoint.url, entry);
    }
    const used = entry;
    used.users++;
    used.retired = false;
    let released = false;
    return {
      agent: used.agent,
      host: used.host,
      port: used.port,
      release: () => {
        if (released) return;
        released = true;
        used.users--;
        if (used.retired && used.users === 0) this.drop(endpoint.url, used);
      },
    };
  }

  /** Retires agents of URLs not in `liveUrls`: closed now if idle, else after their last request. */
  retainOnly(liveUrls: ReadonlySet<string>): void {
    for (const [url, entry] of this.agents) {
      if (liveUrls.has(url)) continue;
      entry.retired = true;
      // Destroying a busy agent would cut a draining replica's in-flight requests.
      if (entry.users === 0) this.drop(url, entry);
    }
  }

  /** Closes every agent and its sockets (the gateway is stopping). */
  destroyAll(): void {
    for (const entry of this.agents.values()) entry.agent.destroy();
    this.agents.clear();
  }

  private drop(url: string, entry: PooledAgent): void {
    entry.agent.destroy();
    if (this.agents.get(url) === entry) this.agents.delete(url);
  }
}

/** Where and how one attempt goes, whatever the body's source. */
interface UpstreamInput {
  lease: AgentLease;
  method: string | undefined;
  /** Path and query as the replica sees them. */
  path: string;
  headers: OutgoingHttpHeaders;
  /** Backstop for a replica that never starts answering. */
  responseTimeoutMs: number;
  /** Reports the client going away: the upstream request is cut then. */
  client: ClientGone;
}

/** One attempt to forward a client's request to a replica, relaying the answer as it streams. */
export interface ForwardInput extends Omit<UpstreamInput, "method"> {
  req: IncomingMessage;
  res: ServerResponse;
  hasBody: boolean;
}

/** One attempt to send an in-memory request to a replica and read its whole answer. */
export interface ExchangeInput extends UpstreamInput {
  /** Sent with a content-length; undefined or empty: no body. */
  body: Uint8Array | undefined;
}

/** A replica's whole answer (exchange()); headers minus hop-by-hop ones. */
export interface BufferedResponse {
  headers: OutgoingHttpHeaders;
  body: Uint8Array;
}

/** How an attempt ended. */
export type ForwardResult =
  /**
   * The replica answered; its status and headers went to the client (`complete`: the body too).
   * exchange() sets `response` when the body was read to its end.
   */
  | { kind: "responded"; status: number; complete: boolean; response?: BufferedResponse }
  /** Nothing reached the client: the caller may retry or answer 502/504. */
  | { kind: "failed"; error: NodeJS.ErrnoException; bodySent: boolean; timedOut: boolean }
  | { kind: "client-gone" };

/** Error code used when the response-start backstop fires. */
export const RESPONSE_TIMEOUT_CODE = "ESKIFFRESPONSETIMEOUT";

/** Sends the request to the replica and relays its answer; never rejects. */
export function forward(input: ForwardInput): Promise<ForwardResult> {
  return sendUpstream(
    { ...input, method: input.req.method },
    input.hasBody ? (upstream, onSend) => sendBodyWhenConnected(input.req, upstream, onSend) : undefined,
    (upRes, resolve) => relayResponse(upRes, input.res, resolve),
  );
}

/**
 * Sends an in-memory request to the replica and reads its whole answer (the platform's own
 * deliveries: no client connection to relay to); never rejects. The body stays in memory, so
 * a connection failure never leaves it half-consumed (bodySent is always false).
 */
export function exchange(input: ExchangeInput): Promise<ForwardResult> {
  const body = input.body && input.body.byteLength > 0 ? input.body : undefined;
  const headers = { ...input.headers, "content-length": String(body?.byteLength ?? 0) };
  delete headers["transfer-encoding"];
  return sendUpstream({ ...input, headers }, body ? (upstream) => upstream.end(body) : undefined, collectResponse);
}

/**
 * The attempt common to forward() and exchange(): the request on the replica's agent, the
 * client-gone cut, the response-start backstop, and failures before a response.
 */
function sendUpstream(
  input: UpstreamInput,
  sendBody: ((upstream: ClientRequest, onSend: () => void) => void) | undefined,
  onResponse: (upRes: IncomingMessage, resolve: (r: ForwardResult) => void) => void,
): Promise<ForwardResult> {
  return new Promise((resolve) => {
    const { lease, client } = input;
    // Gone between admission and now: no listener would ever fire for it, so stop here.
    if (client.gone) return resolve({ kind: "client-gone" });
    let responded = false;
    let bodySent = false;
    const upstream = httpRequest({
      host: lease.host,
      port: lease.port,
      agent: lease.agent,
      method: input.method,
      path: input.path,
      headers: input.headers,
    });
    const stopWatching = client.onGone(() => upstream.destroy());
    upstream.once("close", stopWatching);
    const timer = setTimeout(() => upstream.destroy(responseTimeoutError(input.responseTimeoutMs)), input.responseTimeoutMs);
    upstream.once("response", (upRes) => {
      responded = true;
      clearTimeout(timer);
      onResponse(upRes, resolve);
    });
    upstream.on("error", (error: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      // After the response started, onResponse reports the outcome.
      if (responded) return;
      resolve(client.gone ? { kind: "client-gone" } : { kind: "failed", error, bodySent, timedOut: error.code === RESPONSE_TIMEOUT_CODE });
    });
    if (!sendBody) upstream.end();
    else sendBody(upstream, () => (bodySent = true));
  });
}

/** Reads the replica's whole answer into memory; a cut body is reported as incomplete. */
function collectResponse(upRes: IncomingMessage, resolve: (r: ForwardResult) => void): void {
  const status = upRes.statusCode ?? 502;
  const chunks: Buffer[] = [];
  let settled = false;
  upRes.on("data", (chunk: Buffer) => chunks.push(chunk));
  upRes.once("end", () => {
    settled = true;
    const body = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
    resolve({ kind: "responded", status, complete: true, response: { headers: makeResponseHeaders(upRes.headers), body } });
  });
  upRes.once("close", () => {
    if (settled) return;
    settled = true;
    resolve({ kind: "responded", status, complete: false });
  });
  upRes.on("error", () => undefined); // reported through 'close' (incomplete) above
}

/**
 * Status line and headers, then the body as it streams; a cut upstream body cuts the client's
 * connection too, so the client never takes a truncated body for a whole one. Plain pipe() with
 * explicit listeners rather than stream.pipeline, which costs an AbortController and a
 * DOMException per response on this hot path.
 */
function relayResponse(upRes: IncomingMessage, res: ServerResponse, resolve: (r: ForwardResult) => void): void {
  const status = upRes.statusCode ?? 502;
  res.writeHead(status, upRes.statusMessage, makeResponseHeaders(upRes.headers));
  // A streamed answer (no length) gets its headers now, not with the first chunk, so the client
  // sees the response start; a sized one goes out headers and body together in one write.
  if (upRes.headers["content-length"] === undefined) res.flushHeaders();
  let settled = false;
  const settle = (complete: boolean) => {
    if (settled) return;
    settled = true;
    resolve({ kind: "responded", status, complete });
  };
  res.once("finish", () => settle(true));
  // The client went away mid-body: stop reading the replica's answer.
  res.once("close", () => {
    if (!res.writableFinished) upRes.destroy();
    settle(res.writableFinished);
  });
  upRes.once("close", () => {
    if (upRes.complete) return;
    res.destroy();
    settle(false);
  });
  upRes.on("error", () => undefined); // reported through 'close' (incomplete) above
  upRes.pipe(res);
}

/**
 * Starts reading the client's body only once the replica's connection is up: a refused
 * connection then leaves the body unread, so any request (POST included) can go elsewhere.
 */
function sendBodyWhenConnected(req: IncomingMessage, upstream: ClientRequest, onSend: () => void): void {
  upstream.once("socket", (socket) => {
    const send = () => {
      onSend();
      req.pipe(upstream);
    };
    if (socket.connecting) socket.once("connect", send);
    else send();
  });
}

function responseTimeoutError(ms: number): NodeJS.ErrnoException {
  return Object.assign(new Error(`no response within ${ms}ms`), { code: RESPONSE_TIMEOUT_CODE });
}

// Failures while connecting: the replica never saw a byte of the request.
const CONNECT_FAILURES = new Set(["ECONNREFUSED", "EHOSTUNREACH", "ENETUNREACH", "EADDRNOTAVAIL"]);
// Failures on an established connection before any response byte: the replica may have acted.
const RESET_FAILURES = new Set(["ECONNRESET", "EPIPE", "ECONNABORTED"]);
const IDEMPOTENT = new Set(["GET", "HEAD", "OPTIONS"]);

/** What a retry decision looks at. */
export interface FailureFacts {
  code: string | undefined;
  method: string;
  hasBody: boolean;
  bodySent: boolean;
}

/**
 * True when another replica may safely get the request: the connection never came up (and the
 * body is unread), or it broke before an answer on a bodiless idempotent request.
 */
export function isRetryable(f: FailureFacts): boolean {
  if (f.code !== undefined && CONNECT_FAILURES.has(f.code)) return !f.bodySent;
  return f.code !== undefined && RESET_FAILURES.has(f.code) && IDEMPOTENT.has(f.method) && !f.hasBody;
}

/** True for connections that broke before any answer: the replica is likely dying. */
export function isResetFailure(code: string | undefined): boolean {
  return code !== undefined && RESET_FAILURES.has(code);
}

/** True for failures meaning nothing listens at the replica's address. */
export function isConnectFailure(code: string | undefined): boolean {
  return code !== undefined && CONNECT_FAILURES.has(code);
}

/** A short human reason for a failed attempt, for the 502 body. */
export function describeFailure(error: NodeJS.ErrnoException): string {
  switch (error.code) {
    case "ECONNREFUSED":
      return "connection refused (ECONNREFUSED)";
    case "ECONNRESET":
      return "connection reset before a response (ECONNRESET)";
    case "EPIPE":
      return "connection closed while sending the request (EPIPE)";
    default:
      return error.code ? `${error.message} (${error.code})` : error.message;
  }
}
