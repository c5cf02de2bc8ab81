import { readFile } from "node:fs/promises";
import { CloudEvent, HTTP } from "cloudevents";
import { parseVerbArgs } from "../args.ts";
import { CliError, UsageError } from "../errors.ts";
import type { Io } from "../io.ts";
import { isFunctionName } from "../../controller/gateway/index.ts";
import { connectPlatform, STATE_DIR_OPTION } from "../platform-client.ts";

const USAGE = "invoke <fn|url> [--path P] [--method M] [--data JSON|@file] [--header K:V] [--event --type T --source S [--structured]]";

/** `skiff invoke`: calls a function over HTTP, or sends it a CloudEvent, and prints the answer. */
export async function run(argv: string[], io: Io): Promise<number> {
  const { values, positionals } = parseVerbArgs(
    argv,
    {
      path: { type: "string", default: "/" },
      method: { type: "string" },
      data: { type: "string" },
      header: { type: "string", multiple: true, default: [] },
      event: { type: "boolean", default: false },
      structured: { type: "boolean", default: false },
      type: { type: "string" },
      source: { type: "string", default: "/skiff/cli" },
      timeout: { type: "string", default: "60" },
      ...STATE_DIR_OPTION,
    },
    USAGE,
  );
  if (positionals.length !== 1) throw new UsageError("expected one function name or URL", USAGE);
  const url = targetUrl(await baseUrl(positionals[0]!, values["state-dir"] as string | undefined), values.path as string);
  const timeoutSeconds = Number(values.timeout);
  if (!(timeoutSeconds > 0)) throw new UsageError(`--timeout must be a number of seconds > 0, got "${String(values.timeout)}"`, USAGE);
  const data = values.data === undefined ? undefined : await readData(values.data as string);
  const headers = parseHeaders(values.header as string[]);
  const request = values.event
    ? makeEventRequest({ type: values.type as string | undefined, source: values.source as string, data, structured: values.structured as boolean })
    : makePlainRequest(data, values.method as string | undefined);
  for (const [k, v] of Object.entries(headers)) request.headers[k] = v;
  const response = await send(url, request, timeoutSeconds * 1000);
  return printResponse(io, response, { json: values.json as boolean, event: values.event as boolean });
}

interface OutgoingRequest {
  method: string;
  headers: Record<string, string>;
  body?: string | Uint8Array;
}

/** A full URL from the positional and --path; function names need the platform (`skiff up`). */
/** A URL as given, or a function name resolved through the running platform's gateway. */
async function baseUrl(target: string, stateDir: string | undefined): Promise<string> {
  if (/^https?:\/\//.test(target)) return target;
  if (!isFunctionName(target)) {
    throw new UsageError(`"${target}" is neither a URL nor a function name (lowercase letters, digits and "-")`, USAGE);
  }
  const { info } = await connectPlatform(stateDir);
  return `${info.gatewayUrl}/fn/${target}/`;
}

function targetUrl(target: string, path: string): URL {
  let url: URL;
  try {
    url = new URL(target);
  } catch {
    throw new UsageError(`"${target}" is not a valid URL (expected e.g. http://127.0.0.1:8080/)`, USAGE);
  }
  if (path !== "/") {
    // --path may carry a query ("/greet?name=x"); assigning it to pathname whole would encode the "?".
    const extra = new URL(path.replace(/^\/*/, "/"), "http://path.invalid");
    url.pathname = `${url.pathname.replace(/\/$/, "")}${extra.pathname}`;
    if (extra.search) url.search = extra.search;
  }
  return url;
}

/** --data is JSON text, or @file to read a file. */
async function readData(value: string): Promise<{ text?: string; bytes?: Uint8Array; json: unknown }> {
  if (value.startsWith("@")) {
    const bytes = await readFile(value.slice(1)).catch((error: NodeJS.ErrnoException) => {
      throw new CliError(`cannot read --data file ${value.slice(1)}: ${error.code === "ENOENT" ? "no such file" : error.message}`);
    });
    const text = bytes.toString("utf8");
    return { bytes, ...parseMaybeJson(text) };
  }
  return { text: value, ...parseMaybeJson(value) };
}

function parseMaybeJson(text: string): { json: unknown } {
  try {
    return { json: JSON.parse(text) };
  } catch {
    return { json: undefined };
  }
}

function parseHeaders(values: string[]): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const raw of values) {
    const at = raw.indexOf(":");
    if (at <= 0) throw new UsageError(`--header must look like "Name: value", got "${raw}"`, USAGE);
    headers[raw.slice(0, at).trim().toLowerCase()] = raw.slice(at + 1).trim();
  }
  return headers;
}

function makePlainRequest(data: Awaited<ReturnType<typeof readData>> | undefined, method?: string): OutgoingRequest {
  if (!data) return { method: method ?? "GET", headers: {} };
  const isJson = data.json !== undefined;
  return {
    method: method ?? "POST",
    headers: { "content-type": isJson ? "application/json" : "application/octet-stream" },
    body: data.bytes ?? data.text ?? "",
  };
}

function makeEventRequest(options: { type?: string; source: string; data?: Awaited<ReturnType<typeof readData>>; structured: boolean }): OutgoingRequest {
  if (!options.type) throw new UsageError("--event needs --type", USAGE);
  const data = options.data === undefined ? undefined : options.data.json ?? options.data.bytes ?? options.data.text;
  const event = new CloudEvent({ type: options.type, source: options.source, ...(data === undefined ? {} : { data }) });
  const message = options.structured ? HTTP.structured(event) : HTTP.binary(event);
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(message.headers)) headers[k] = String(v);
  return { method: "POST", headers, body: message.body as string | Uint8Array };
}

async function send(url: URL, request: OutgoingRequest, timeoutMs: number): Promise<Response> {
  try {
    return await fetch(url, { ...request, body: request.body as BodyInit | undefined, signal: AbortSignal.timeout(timeoutMs) });
  } catch (error) {
    if ((error as Error).name === "TimeoutError") throw new CliError(`no answer from ${url.origin} within ${timeoutMs / 1000}s (raise --timeout)`);
    const cause = (error as { cause?: { code?: string; message?: string } }).cause;
    throw new CliError(`cannot reach ${url.origin}: ${cause?.code ?? cause?.message ?? (error as Error).message} (is the function running there?)`);
  }
}

async function printResponse(io: Io, response: Response, options: { json: boolean; event: boolean }): Promise<number> {
  const text = await response.text();
  const headers = Object.fromEntries(response.headers);
  const event = options.event && headers["ce-id"] ? HTTP.toEvent({ headers, body: text }) : undefined;
  if (options.json) {
    io.out(JSON.stringify({ status: response.status, headers, body: parseMaybeJson(text).json ?? text, ...(event ? { event } : {}) }, null, 2));
  } else if (event) {
    io.out(JSON.stringify(event, null, 2));
  } else if (response.status === 202 && options.event) {
    io.out("accepted (202): the function returned no event");
  } else if (text) {
    io.out(text);
  }
  if (response.status >= 400) {
    io.err(`HTTP ${response.status}`);
    return 1;
  }
  return 0;
}
