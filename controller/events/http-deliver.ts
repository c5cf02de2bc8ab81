// A Deliver that POSTs the event to a URL in CloudEvents HTTP binary mode (what the platform
// does through the gateway, so scale-from-zero and the autoscaler see event load) and reads a
// returned event from the response, binary or structured.
import { HTTP, type CloudEvent } from "cloudevents";
import { decodeHeaderValue, encodeBinaryHeaders } from "../../runtime/index.ts";
import type { Deliver, DeliveryResult } from "./types.ts";

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
    const message = HTTP.binary(event);
    const timeoutMs = options.timeoutMs?.(context.fn);
    const signal = timeoutMs ? AbortSignal.any([context.signal, AbortSignal.timeout(timeoutMs)]) : context.signal;
    let response: Response;
    try {
      const body = message.body === undefined || message.body === null ? undefined : (message.body as BodyInit);
      response = await doFetch(url, { method: "POST", headers: encodeBinaryHeaders(message.headers), body, signal });
    } catch (error) {
      const cause = (error as Error).cause instanceof Error ? ` (${((error as Error).cause as Error).message})` : "";
      return { status: 0, error: `POST ${url} failed: ${(error as Error).message}${cause}` };
    }
    const body = new Uint8Array(await response.arrayBuffer());
    if (response.status < 200 || response.status > 299) {
      const retryAfterMs = parseRetryAfter(response.headers.get("retry-after"), Date.now());
      return { status: response.status, error: errorText(body), ...(retryAfterMs !== undefined ? { retryAfterMs } : {}) };
    }
    try {
      const reply = parseReply(response.headers, body);
      return { status: response.status, ...(reply ? { reply } : {}) };
    } catch (error) {
      // Knative's rule: a malformed reply is a failed delivery (retried, then dead-lettered).
      return { status: 502, error: `the function's reply is not a valid CloudEvent: ${(error as Error).message}` };
    }
  };
}

/** The CloudEvent in a response, or undefined when it carries none (202, plain body). */
export function parseReply(headers: Headers, body: Uint8Array): CloudEvent<unknown> | undefined {
  const plain: Record<string, string> = {};
  headers.forEach((value, key) => (plain[key] = key.startsWith("ce-") ? decodeHeaderValue(value) : value));
  const contentType = (plain["content-type"] ?? "").toLowerCase();
  const structured = contentType.startsWith("application/cloudevents");
  if (!structured && plain["ce-specversion"] === undefined && plain["ce-id"] === undefined) return undefined;
  const textual = structured || contentType === "" || /json|^text\/|xml/.test(contentType);
  const parsed = HTTP.toEvent({ headers: plain, body: textual ? new TextDecoder().decode(body) : Buffer.from(body) });
  return (Array.isArray(parsed) ? parsed[0] : parsed) as CloudEvent<unknown>;
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
