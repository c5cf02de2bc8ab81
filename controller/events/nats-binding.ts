// CloudEvents NATS Protocol Binding (1.0.3 draft) in the `cloudevents` SDK's Binding shape; the
// SDK ships HTTP, Kafka and MQTT but no NATS. Binary mode (our default) puts every attribute in a
// `ce-<name>` header and the data bytes in the payload; structured mode puts the JSON event format
// in the payload. Pure: the NATS client appears only in the two adapters at the bottom.
import { CloudEvent, type Binding, type CloudEventV1, type Message } from "cloudevents";
import { headers as makeNatsHeaders, type MsgHdrs } from "@nats-io/nats-core";
import { encodeHeaderValue } from "../../runtime/index.ts";
import { InvalidCloudEventError } from "./errors.ts";

/** A NATS message as plain data: lower-case header names to values, and the payload bytes. */
export interface NatsMessage {
  headers: Record<string, string>;
  body: Uint8Array;
}

/** Content type of a structured-mode message (JSON event format). */
export const STRUCTURED_CONTENT_TYPE = "application/cloudevents+json; charset=utf-8";
/** Extension attribute carrying how many replies led to an event, so a reply loop ends. */
export const HOP_COUNT_EXTENSION = "skiffhops";

const REQUIRED = ["id", "source", "type", "specversion"] as const;
// Spec: attribute names MUST be lower-case ASCII letters and digits. It only says they SHOULD NOT
// exceed 20 characters, so longer names are kept. Headers like `ce-foo-bar` are not attributes.
const ATTRIBUTE_NAME = /^[a-z0-9]+$/;
const RFC3339 = /^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/;
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;
// ignoreBOM keeps a leading U+FEFF instead of silently dropping it from values and text data.
const utf8 = new TextDecoder("utf-8", { ignoreBOM: true });
const utf8Strict = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });
const encoder = new TextEncoder();

// ---- serializing ----

/** Encodes an event in binary mode: `ce-*` headers (percent-encoded) and the data bytes as payload. */
function binary<T>(event: CloudEventV1<T>): NatsMessage {
  const { data, data_base64, ...attributes } = event as CloudEventV1<T> & Record<string, unknown>;
  const payload = data ?? (typeof data_base64 === "string" ? Buffer.from(data_base64, "base64") : undefined);
  // The bytes must say how to read them: non-binary data without a content type is sent as JSON,
  // which is also what the JSON event format implies for such an event (and what HTTP.binary does).
  const contentType = attributes.datacontenttype ?? (payload === undefined || isBytes(payload) ? undefined : "application/json");
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries({ ...attributes, datacontenttype: contentType })) {
    if (value !== undefined && value !== null) headers[`ce-${name}`] = encodeHeaderValue(canonicalString(name, value));
  }
  // The binding maps datacontenttype to ce-datacontenttype; Content-Type is added for tools that
  // read it, except when it would make a receiver take the message for structured mode.
  if (typeof contentType === "string" && /^[\x20-\x7e]+$/.test(contentType) && !isCloudEventsMediaType(contentType)) {
    headers["content-type"] = contentType;
  }
  return { headers, body: encodeData(payload, contentType) };
}

/** Encodes an event in structured mode: the JSON event format, binary data as data_base64. */
function structured<T>(event: CloudEventV1<T>): NatsMessage {
  const { data, data_base64, ...attributes } = event as CloudEventV1<T> & Record<string, unknown>;
  const json: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(attributes)) {
    // Written as given, not through CloudEvent#toJSON, which rewrites time as UTC milliseconds.
    if (value !== undefined && value !== null) json[name] = value instanceof Date ? value.toISOString() : value;
  }
  if (isBytes(data)) json.data_base64 = Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString("base64");
  else if (data !== undefined) json.data = data;
  else if (typeof data_base64 === "string") json.data_base64 = data_base64;
  return { headers: { "content-type": STRUCTURED_CONTENT_TYPE }, body: encoder.encode(JSON.stringify(json)) };
}

/** An attribute's canonical string form (CloudEvents type system) for a header. */
function canonicalString(name: string, value: unknown): string {
  if (typeof value === "string") return value;
  if (typeof value === "boolean" || (typeof value === "number" && Number.isInteger(value))) return String(value);
  if (value instanceof Date) return value.toISOString();
  if (isBytes(value)) return Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString("base64");
  throw new InvalidCloudEventError(`attribute "${name}" is a ${typeof value}; attributes are strings, integers, booleans, times or bytes`);
}

function encodeData(data: unknown, contentType: string | undefined): Uint8Array {
  if (data === undefined) return new Uint8Array(0);
  if (isBytes(data)) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  // In memory, data under a JSON content type is the JSON value itself, as in structured mode,
  // so a string is sent as a JSON string and comes back as the same string.
  if (typeof data === "string" && !isJson(contentType)) return encoder.encode(data);
  return encoder.encode(JSON.stringify(data));
}

// ---- deserializing ----

/** Decodes a binary- or structured-mode message; throws InvalidCloudEventError naming the problem. */
function toEvent<T>(message: Message): CloudEvent<T> {
  const headers = lowerCaseHeaders(message.headers);
  const body = bodyBytes(message.body);
  const mode = modeOf(headers);
  const attributes =
    mode === "binary" ? parseBinary(headers, body)
    : mode === "structured" ? parseStructured(body)
    : parseStructured(body, "the message has no ce-* headers, so it was read as structured mode, but ");
  checkAttributes(attributes, mode === "binary" ? "header ce-" : "");
  return makeEvent<T>(attributes);
}

/**
 * Decodes a binary-mode event from lower-case headers (ce-* values as sent: percent-encoded) and
 * data bytes. The rules are the same for the HTTP binding's binary mode (the platform reads
 * functions' binary replies with it). Throws InvalidCloudEventError naming the problem.
 */
export function decodeBinaryEvent<T>(headers: Record<string, string>, body: Uint8Array): CloudEvent<T> {
  const attributes = parseBinary(headers, body);
  checkAttributes(attributes, "header ce-");
  return makeEvent<T>(attributes);
}

function makeEvent<T>(attributes: Record<string, unknown>): CloudEvent<T> {
  try {
    // Not strict: like the SDK's own receivers, accept a source that is not a URI-reference (say,
    // with non-ASCII characters); the attributes a handler relies on were checked above.
    return new CloudEvent<T>(attributes as CloudEventV1<T>, false);
  } catch (error) {
    throw new InvalidCloudEventError((error as Error).message, { cause: error });
  }
}

/** The binding's rule: a Content-Type of application/cloudevents* means structured, else binary. */
function modeOf(headers: Record<string, string>): "binary" | "structured" | "headerless" {
  const mediaType = (headers["content-type"] ?? "").split(";")[0]!.trim().toLowerCase();
  if (mediaType.startsWith("application/cloudevents-batch")) {
    throw new InvalidCloudEventError("batch mode (application/cloudevents-batch+json) is not supported on NATS; publish one event per message");
  }
  if (mediaType.startsWith("application/cloudevents")) {
    if (mediaType === "application/cloudevents+json") return "structured";
    throw new InvalidCloudEventError(`unsupported event format "${mediaType}"; only application/cloudevents+json is read`);
  }
  // No ce- headers and no Content-Type: a structured event from a binding 1.0.2 producer
  // (structured only, from before NATS had headers).
  if (mediaType === "" && !Object.keys(headers).some((name) => name.startsWith("ce-"))) return "headerless";
  return "binary";
}

/** True when toEvent would succeed. */
function isEvent(message: Message): boolean {
  try {
    toEvent(message);
    return true;
  } catch {
    return false;
  }
}

// Header values are all strings on the wire: integer and boolean extensions come back as
// strings ("3", "true") in binary mode. That is the binding (canonical string form), not a bug.
function parseBinary(headers: Record<string, string>, body: Uint8Array): Record<string, unknown> {
  const attributes: Record<string, unknown> = {};
  for (const [header, raw] of Object.entries(headers)) {
    const name = header.slice(3);
    if (header.startsWith("ce-") && ATTRIBUTE_NAME.test(name) && name !== "data") attributes[name] = decodeValue(raw, header);
  }
  // Producers that follow the HTTP binding's mapping send Content-Type instead.
  attributes.datacontenttype ??= headers["content-type"];
  if (attributes.datacontenttype === undefined) delete attributes.datacontenttype;
  const data = decodeData(body, attributes.datacontenttype as string | undefined);
  if (data !== undefined) attributes.data = data;
  return attributes;
}

function parseStructured(body: Uint8Array, context = ""): Record<string, unknown> {
  let json: unknown;
  try {
    json = JSON.parse(utf8Strict.decode(body));
  } catch (error) {
    throw new InvalidCloudEventError(`${context}the structured-mode body is not UTF-8 JSON (${(error as Error).message})`, { cause: error });
  }
  if (Array.isArray(json)) throw new InvalidCloudEventError("the body is a JSON array: batch mode is not supported on NATS");
  if (typeof json !== "object" || json === null) throw new InvalidCloudEventError(`${context}the structured-mode body is not a JSON object`);
  const attributes: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(json)) {
    if (value !== null && (ATTRIBUTE_NAME.test(name) || name === "data_base64")) attributes[name] = value;
  }
  if (attributes.data_base64 !== undefined) {
    const encoded = attributes.data_base64;
    if (attributes.data !== undefined) throw new InvalidCloudEventError("the event has both data and data_base64");
    if (typeof encoded !== "string" || !BASE64.test(encoded)) throw new InvalidCloudEventError("data_base64 is not a base64 string");
    delete attributes.data_base64;
    attributes.data = new Uint8Array(Buffer.from(encoded, "base64"));
  }
  return attributes;
}

function checkAttributes(attributes: Record<string, unknown>, headerPrefix: string): void {
  // Checked here because the SDK's constructor silently invents a missing id (and time).
  for (const name of REQUIRED) {
    const value = attributes[name];
    if (value === undefined) {
      throw new InvalidCloudEventError(`missing required attribute "${name}"${headerPrefix ? ` (${headerPrefix}${name})` : ""}`);
    }
    if (typeof value !== "string" || value === "") throw new InvalidCloudEventError(`attribute "${name}" must be a non-empty string`);
  }
  if (attributes.specversion !== "1.0") {
    throw new InvalidCloudEventError(`unknown specversion "${String(attributes.specversion)}"; this binding reads 1.0`);
  }
  for (const name of ["datacontenttype", "dataschema", "subject", "time"]) {
    const value = attributes[name];
    if (value !== undefined && typeof value !== "string") throw new InvalidCloudEventError(`attribute "${name}" must be a string`);
  }
  const time = attributes.time as string | undefined;
  // A malformed time would make CloudEvent#toJSON throw later, far from the cause.
  if (time !== undefined && (!RFC3339.test(time) || Number.isNaN(Date.parse(time)))) {
    throw new InvalidCloudEventError(`attribute "time" is not an RFC 3339 timestamp: "${time}"`);
  }
  for (const [name, value] of Object.entries(attributes)) {
    if (name !== "data" && typeof value === "object") throw new InvalidCloudEventError(`extension "${name}" is not a string, integer or boolean`);
  }
}

/**
 * Reverses encodeHeaderValue. Not the runtime's lenient decodeHeaderValue: the binding says a value
 * MUST first be unquoted (quoted-string, for older producers) and that percent-encoded bytes that
 * are not valid UTF-8 (say the overlong %C0%A0) MUST be rejected. A stray '%' is left as written.
 */
function decodeValue(raw: string, header: string): string {
  const value = raw.length >= 2 && raw.startsWith('"') && raw.endsWith('"') ? raw.slice(1, -1).replace(/\\(.)/gs, "$1") : raw;
  return value.replace(/(?:%[0-9A-Fa-f]{2})+/g, (run) => {
    try {
      return utf8Strict.decode(Uint8Array.from(run.slice(1).split("%"), (hex) => parseInt(hex, 16)));
    } catch (error) {
      throw new InvalidCloudEventError(`header ${header} holds percent-encoded bytes that are not UTF-8: ${raw}`, { cause: error });
    }
  });
}

function decodeData(body: Uint8Array, contentType: string | undefined): unknown {
  if (body.length === 0) return undefined;
  if (isJson(contentType)) {
    try {
      return JSON.parse(utf8Strict.decode(body));
    } catch (error) {
      throw new InvalidCloudEventError(`data is not JSON although datacontenttype is "${contentType}"`, { cause: error });
    }
  }
  if (contentType?.trim().toLowerCase().startsWith("text/")) return utf8.decode(body);
  return body.slice(); // a copy: the event must not alias a client's receive buffer
}

function lowerCaseHeaders(headers: Message["headers"] | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers ?? {})) {
    const first = Array.isArray(value) ? value[0] : value;
    if (typeof first === "string") out[name.toLowerCase()] ??= first;
  }
  return out;
}

function bodyBytes(body: unknown): Uint8Array {
  if (body === undefined || body === null) return new Uint8Array(0);
  if (typeof body === "string") return encoder.encode(body);
  if (isBytes(body)) return new Uint8Array(body.buffer, body.byteOffset, body.byteLength);
  throw new InvalidCloudEventError(`a NATS message body is bytes, not ${typeof body}`);
}

function isJson(contentType: string | undefined): boolean {
  const media = (contentType ?? "").split(";")[0]!.trim().toLowerCase();
  return media === "application/json" || media === "text/json" || media.endsWith("+json");
}

function isCloudEventsMediaType(contentType: string): boolean {
  return contentType.trim().toLowerCase().startsWith("application/cloudevents");
}

function isBytes(value: unknown): value is ArrayBufferView {
  return ArrayBuffer.isView(value);
}

/** The CloudEvents NATS binding: binary (default) and structured modes, in the SDK's Binding shape. */
export const NATS = { binary, structured, toEvent, isEvent } satisfies Binding<NatsMessage, NatsMessage>;

// ---- hop count (loop prevention) ----

/** How many replies led to this event: the skiffhops extension, 0 when absent or malformed. */
export function hopsOf(event: CloudEventV1<unknown>): number {
  const raw = event[HOP_COUNT_EXTENSION];
  const hops = typeof raw === "number" ? raw : typeof raw === "string" && /^\d{1,9}$/.test(raw) ? Number(raw) : 0;
  return Number.isSafeInteger(hops) && hops >= 0 ? hops : 0;
}

/** A copy of `event` whose hop count is one more than `from`'s (a reply's cause; default itself). */
export function withHop<T>(event: CloudEventV1<T>, from: CloudEventV1<unknown> = event): CloudEvent<T> {
  return new CloudEvent<T>({ ...event, [HOP_COUNT_EXTENSION]: hopsOf(from) + 1 }, false);
}

// ---- adapters for the nats.js client ----

/** nats.js headers for publishing a NatsMessage. */
export function toNatsHeaders(headers: Record<string, string>): MsgHdrs {
  const out = makeNatsHeaders();
  for (const [name, value] of Object.entries(headers)) out.set(name, value);
  return out;
}

/** A received nats.js message (core Msg or JetStream JsMsg) as a NatsMessage; first value of each header. */
export function fromNatsMsg(msg: { headers?: MsgHdrs; data: Uint8Array }): NatsMessage {
  const headers: Record<string, string> = {};
  for (const name of msg.headers?.keys() ?? []) headers[name.toLowerCase()] ??= msg.headers!.get(name);
  return { headers, body: msg.data };
}
