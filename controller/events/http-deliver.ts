// A Deliver that POSTs the event to a URL in CloudEvents HTTP binary mode (what the platform
// does through the gateway, so scale-from-zero and the autoscaler see event load) and reads a
// returned event from the response, binary or structured.
import { HTTP, type CloudEvent } from "cloudevents";
import { decodeHeaderValue, encodeBinaryHeaders } from "../../runtime/index.ts";
import { decodeBinaryEvent } from "./nats-binding.ts";
import type { Deliver, DeliveryResult } from "./types.ts";

/** Response or request headers as fetch or node:http give them. */
export type HeaderSource = Headers | Record<string, string | string[] | number | undefined>;

/** An event as an HTTP binary-mode request: ce-* headers (percent-encoded), content-type, data bytes. */
export interface BinaryRequest {
  headers: Record<string, string>;
  body: Uint8Array | undefined;
}

/** Options of httpDeliver. */
export interface HttpDeliverOptions {
  /** Where a function's events go, e.g. fn => `${gatewayUrl}/fn/${fn}/`. */
  url: (fn: string) => string;
  /** Per-delivery deadline, e.g. the function's timeout plus the gateway's cold-start wait (default none). */
  timeoutMs?: (fn: string) => number | undefined;
  fetch?: typeof fetch;
}

/** Longest error text kept from a failed response body. */
const MAX_ERROR_CHARS = 1_024;

/** A Deliver over HTTP; connection errors and timeouts come back as status 0 (retried). */
export function httpDeliver(options: HttpDeliverOptions): Deliver {
  const doFetch = options.fetch ?? fetch;
  return async (event, context): Promise<DeliveryResult> => {
    const url = options.url(context.fn);
    const message = encodeBinaryRequest(event);
    const timeoutMs = options.timeoutMs?.(context.fn);
    const signal = timeoutMs ? AbortSignal.any([context.signal, AbortSignal.timeout(timeoutMs)]) : context.signal;
    let response: Response;
    try {
      response = await doFetch(url, { method: "POST", headers: message.headers, body: message.body as BodyInit | undefined, signal });
    } catch (error) {
      const cause = (error as Error).cause instanceof Error ? ` (${((error as Error).cause as Error).message})` : "";
      return { status: 0, error: `POST ${url} failed: ${(error as Error).message}${cause}` };
    }
    return readDeliveryAnswer(response.status, response.headers, new Uint8Array(await response.arrayBuffer()));
  };
}

/** The event as an HTTP binary-mode request (what httpDeliver POSTs, and the platform's in-process delivery). */
export function encodeBinaryRequest(event: CloudEvent<unknown>): BinaryRequest {
  const message = HTTP.binary(event);
  const raw = message.body;
  const body =
    raw === undefined || raw === null ? undefined
    : typeof raw === "string" ? Buffer.from(raw, "utf8")
    : ArrayBuffer.isView(raw) ? new Uint8Array(raw.buffer, raw.byteOffset, raw.byteLength)
    : Buffer.from(JSON.stringify(raw), "utf8");
  return { headers: encodeBinaryHeaders(message.headers), body };
}

/**
 * A function's answer as a DeliveryResult: non-2xx is an error with its body's text (and any
 * Retry-After), 2xx may carry a reply event; a malformed reply is Knative's failed delivery (502).
 */
export function readDeliveryAnswer(status: number, headers: HeaderSource, body: Uint8Array): DeliveryResult {
  if (status < 200 || status > 299) {
    const retryAfterMs = parseRetryAfter(headerOf(headers, "retry-after") ?? null, Date.now());
    return { status, error: errorText(body), ...(retryAfterMs !== undefined ? { retryAfterMs } : {}) };
  }
  try {
    const reply = parseReply(headers, body);
    return { status, ...(reply ? { reply } : {}) };
  } catch (error) {
    // Knative's rule: a malformed reply is a failed delivery (retried, then dead-lettered).
    return { status: 502, error: `the function's reply is not a valid CloudEvent: ${(error as Error).message}` };
  }
}

/**
 * The CloudEvent in a response, or undefined when it carries none (202, plain body). Binary mode
 * is read with the NATS binding's decoder (same header rules, and no throwaway Errors per parse
 * as in the SDK's HTTP parser); structured mode with the SDK.
 */
export function parseReply(headers: HeaderSource, body: Uint8Array): CloudEvent<unknown> | undefined {
  const plain = plainHeaders(headers);
  const contentType = (plain["content-type"] ?? "").toLowerCase();
  const structured = contentType.startsWith("application/cloudevents");
  if (!structured && plain["ce-specversion"] === undefined && plain["ce-id"] === undefined) return undefined;
  if (!structured) return decodeBinaryEvent<unknown>(plain, body);
  for (const key of Object.keys(plain)) if (key.startsWith("ce-")) plain[key] = decodeHeaderValue(plain[key]!);
  const parsed = HTTP.toEvent({ headers: plain, body: new TextDecoder().decode(body) });
  return (Array.isArray(parsed) ? parsed[0] : parsed) as CloudEvent<unknown>;
}

/** Lower-case names to the first value of each header. */
function plainHeaders(headers: HeaderSource): Record<string, string> {
  const plain: Record<string, string> = {};
  if (headers instanceof Headers) {
    headers.forEach((value, key) => (plain[key] = value));
    return plain;
  }
  for (const [key, value] of Object.entries(headers)) {
    if (value === undefined) continue;
    plain[key.toLowerCase()] ??= String(Array.isArray(value) ? value[0] : value);
  }
  return plain;
}

function headerOf(headers: HeaderSource, name: string): string | undefined {
  if (headers instanceof Headers) return headers.get(name) ?? undefined;
  const value = headers[name];
  return value === undefined ? undefined : String(Array.isArray(value) ? value[0] : value);
}

/** Retry-After as milliseconds: delta-seconds or an HTTP date; undefined when absent or malformed. */
export function parseRetryAfter(value: string | null, nowMs: number): number | undefined {
  if (!value) return undefined;
  if (/^\d+$/.test(value.trim())) return Number(value.trim()) * 1_000;
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - nowMs);
}

function errorText(body: Uint8Array): string {
  const text = new TextDecoder().decode(body);
  try {
    // The runtime answers {error, requestId}; keep both, they find the log line.
    const json = JSON.parse(text) as { error?: unknown; requestId?: unknown };
    if (typeof json.error === "string") return truncate(json.requestId ? `${json.error} (request ${String(json.requestId)})` : json.error);
  } catch {
    // not JSON: the text itself
  }
  return truncate(text);
}

function truncate(text: string): string {
  return text.length > MAX_ERROR_CHARS ? `${text.slice(0, MAX_ERROR_CHARS)}...` : text;
}
