// CloudEvents over HTTP (binary and structured modes) through the `cloudevents` SDK.
// The SDK is imported lazily: it pulls in a validator that costs boot time, and most
// HTTP-only replicas never see an event.
import type { CloudEvent } from "cloudevents";
import { InvalidEventError } from "./errors.ts";
import type { EventReply } from "./types.ts";

type Sdk = typeof import("cloudevents");
let sdk: Promise<Sdk> | undefined;
// The SDK is CommonJS: depending on how the bundle's chunk interop wraps it, the named exports
// sit on the namespace itself or on its default export.
const loadSdk = (): Promise<Sdk> =>
  (sdk ??= import("cloudevents").then((m) => ((m as Partial<Sdk>).HTTP ? m : (m as unknown as { default: Sdk }).default)));

/** Required context attributes, checked ourselves because the SDK silently invents a missing id. */
const REQUIRED = ["id", "source", "type", "specversion"] as const;

/** How an incoming request carries an event. */
export type EventMode = "binary" | "structured" | "batch" | "none";

/** Detects the CloudEvents HTTP mode from the headers alone (cheap; runs on every request). */
export function detectEventMode(header: (name: string) => string | undefined): EventMode {
  const contentType = header("content-type") ?? "";
  if (contentType.startsWith("application/cloudevents-batch")) return "batch";
  if (contentType.startsWith("application/cloudevents")) return "structured";
  if (header("ce-specversion") !== undefined || header("ce-id") !== undefined || header("ce-type") !== undefined) return "binary";
  return "none";
}

/** Textual media types whose body the SDK should see as a string (so JSON is parsed into data). */
function isTextual(contentType: string): boolean {
  return contentType === "" || /json|^text\/|xml|javascript|x-www-form-urlencoded/.test(contentType);
}

/**
 * Percent-encodes a binary-mode header value as the HTTP and NATS bindings (3.1.3.2) require:
 * printable ASCII U+0021-U+007E passes except '"' and '%'; space and everything else is UTF-8
 * percent-encoded (HTTP stacks and nats.js trim header values, so a raw space at either end
 * would be lost). The SDK does not, and Node refuses non-Latin-1 header values outright.
 */
export function encodeHeaderValue(value: string): string {
  let out = "";
  for (const char of value) {
    const code = char.codePointAt(0)!;
    if (code > 0x20 && code <= 0x7e && char !== '"' && char !== "%") out += char;
    else for (const byte of new TextEncoder().encode(char)) out += `%${byte.toString(16).toUpperCase().padStart(2, "0")}`;
  }
  return out;
}

/** Reverses encodeHeaderValue; a malformed escape is left as written rather than failing the event. */
export function decodeHeaderValue(value: string): string {
  if (!value.includes("%")) return value;
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}

/** Binary-mode headers with every ce-* value percent-encoded (content-type is left as is). */
export function encodeBinaryHeaders(headers: Record<string, unknown>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(headers)) {
    out[key] = key.startsWith("ce-") ? encodeHeaderValue(String(value)) : String(value);
  }
  return out;
}

/** Parses a binary- or structured-mode request into a CloudEvent, naming any missing attribute. */
export async function parseHttpEvent(headers: Headers, body: Uint8Array, mode: EventMode): Promise<CloudEvent<unknown>> {
  if (mode === "batch") {
    throw new InvalidEventError("batched mode (application/cloudevents-batch+json) is not supported; send one event per request");
  }
  const plain: Record<string, string> = {};
  headers.forEach((value, key) => (plain[key] = key.startsWith("ce-") ? decodeHeaderValue(value) : value));
  const contentType = plain["content-type"] ?? "";
  const text = mode === "structured" || isTextual(contentType) ? new TextDecoder().decode(body) : undefined;
  if (mode === "structured") checkStructured(text ?? "");
  else checkBinary(plain);
  const { HTTP } = await loadSdk();
  try {
    const parsed = HTTP.toEvent({ headers: plain, body: text ?? Buffer.from(body) });
    return (Array.isArray(parsed) ? parsed[0] : parsed) as CloudEvent<unknown>;
  } catch (error) {
    throw new InvalidEventError((error as Error).message, { cause: error });
  }
}

function checkBinary(headers: Record<string, string>): void {
  for (const name of REQUIRED) {
    if (!headers[`ce-${name}`]) throw new InvalidEventError(`missing required attribute "${name}" (header ce-${name})`);
  }
}

function checkStructured(text: string): void {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new InvalidEventError(`structured-mode body is not JSON: ${(error as Error).message}`);
  }
  if (typeof json !== "object" || json === null || Array.isArray(json)) {
    throw new InvalidEventError("structured-mode body must be a JSON object");
  }
  for (const name of REQUIRED) {
    const value = (json as Record<string, unknown>)[name];
    if (typeof value !== "string" || value === "") {
      throw new InvalidEventError(`missing required attribute "${name}"`);
    }
  }
}

/** Builds a CloudEvent from a handler's reply, defaulting source to the function and id to a new UUID. */
export async function makeReplyEvent(reply: EventReply, defaultSource: string): Promise<CloudEvent<unknown>> {
  const { CloudEvent: Event } = await loadSdk();
  if (reply instanceof Event) return reply as CloudEvent<unknown>;
  const { extensions, ...attributes } = reply as Exclude<EventReply, CloudEvent<unknown>>;
  if (typeof attributes.type !== "string" || attributes.type === "") {
    throw new TypeError('the returned event needs a non-empty "type"');
  }
  const binary = attributes.data instanceof Uint8Array;
  return new Event({
    source: defaultSource,
    ...(binary && !attributes.datacontenttype ? { datacontenttype: "application/octet-stream" } : {}),
    ...attributes,
    ...extensions,
  }) as CloudEvent<unknown>;
}

/** Encodes an event as an HTTP binary-mode response. */
export async function makeBinaryResponse(event: CloudEvent<unknown>, status = 200): Promise<Response> {
  const { HTTP } = await loadSdk();
  const message = HTTP.binary(event);
  const headers = new Headers(encodeBinaryHeaders(message.headers));
  // The SDK labels Buffer data as JSON; keep the event's own content type.
  if (event.datacontenttype) headers.set("content-type", event.datacontenttype);
  return new Response(message.body as BodyInit | null, { status, headers });
}
