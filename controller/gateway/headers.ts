// Pure header rewriting for the proxy hop: hop-by-hop headers stay on their own connection,
// forwarding headers tell the replica who asked.
import type { IncomingHttpHeaders, OutgoingHttpHeaders } from "node:http";

/**
 * Headers that describe one connection, not the message (RFC 9110 7.6.1), plus `expect`:
 * Node's server already answered the client's 100-continue, so the replica must not wait for one,
 * `host`, which Node sets from the replica's address, and the platform's internal headers.
 */
const NOT_FORWARDED = new Set([
  "connection",
  "keep-alive",
  "proxy-connection",
  "proxy-authenticate",
  "proxy-authorization",
  "te",
  "trailer",
  "transfer-encoding",
  "upgrade",
  "expect",
  "host",
  // The platform's own delivery credentials: the gateway checks them, the function never sees them.
  "x-skiff-internal",
  "x-skiff-token",
]);

/** Who sent the request, for the forwarding headers. */
export interface ClientInfo {
  /** The peer address of the client connection. */
  remoteAddress: string | undefined;
  requestId: string;
}

/**
 * The headers sent to the replica: the client's minus hop-by-hop ones (including any the
 * client named in Connection), plus x-forwarded-for/-host/-proto and x-request-id if absent.
 */
export function makeUpstreamHeaders(incoming: IncomingHttpHeaders, client: ClientInfo): OutgoingHttpHeaders {
  const out: OutgoingHttpHeaders = copyEndToEnd(incoming);
  const priorFor = incoming["x-forwarded-for"];
  const chain = [priorFor, client.remoteAddress].filter((v): v is string => typeof v === "string" && v.length > 0);
  if (chain.length > 0) out["x-forwarded-for"] = chain.join(", ");
  if (incoming.host !== undefined) out["x-forwarded-host"] = incoming.host;
  // The gateway speaks only plain HTTP; a TLS terminator in front sets its own chain anyway.
  out["x-forwarded-proto"] = "http";
  if (incoming["x-request-id"] === undefined) out["x-request-id"] = client.requestId;
  return out;
}

/** The replica's response headers minus hop-by-hop ones; Node sets its own framing for the client. */
export function makeResponseHeaders(upstream: IncomingHttpHeaders): OutgoingHttpHeaders {
  return copyEndToEnd(upstream);
}

/** True when the request carries a body (declared length > 0, or chunked). */
export function hasRequestBody(headers: IncomingHttpHeaders): boolean {
  if (headers["transfer-encoding"] !== undefined) return true;
  const length = headers["content-length"];
  return length !== undefined && length !== "0";
}

/** The declared Content-Length as a number, or undefined when absent or malformed. */
export function declaredLength(headers: IncomingHttpHeaders): number | undefined {
  const raw = headers["content-length"];
  if (raw === undefined || !/^\d+$/.test(raw)) return undefined;
  return Number(raw);
}

function copyEndToEnd(headers: IncomingHttpHeaders): OutgoingHttpHeaders {
  const named = connectionTokens(headers.connection);
  const out: OutgoingHttpHeaders = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined || NOT_FORWARDED.has(name) || named.has(name)) continue;
    out[name] = value;
  }
  return out;
}

/** Header names listed in Connection are hop-by-hop too. */
function connectionTokens(connection: string | undefined): Set<string> {
  if (!connection) return new Set();
  return new Set(connection.split(",").map((t) => t.trim().toLowerCase()).filter(Boolean));
}
