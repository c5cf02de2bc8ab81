// A typed client of the control API for the CLI: one method per route, fetch-based.
// Every failure is a ControlApiError carrying the HTTP status and the server's message
// (status 0 when the server could not be reached), so the CLI can print one clear line.
import type { FunctionSpec } from "../../spec/types.ts";
import type { Isolation } from "../types.ts";
import { BUNDLE_CONTENT_TYPE, bundleByteLength, encodeBundleChunks } from "./bundle-format.ts";
import { ControlApiError } from "./errors.ts";
import { readChunks } from "./read-stream.ts";
import { makeSpecInput } from "./spec-input.ts";
import type { DeadLetterSummary, DeployResult, FunctionDescription, FunctionSummary, RedriveResult, TrafficTarget } from "./types.ts";

/** Where the control API is and how to authenticate. */
export interface ControlClientOptions {
  /** Base URL, e.g. http://127.0.0.1:7070 (from the state dir). */
  url: string;
  token: string;
  /** Injected for tests; default the global fetch. */
  fetch?: typeof fetch;
}

/** What `deploy` uploads. */
export interface DeployRequest {
  /** The normalized spec (as the builder returns it); sent in function.yaml form. */
  spec: FunctionSpec;
  files: Map<string, Uint8Array>;
  traffic?: TrafficTarget[];
  /** How its replicas run (default "process"). */
  isolation?: Isolation;
}

/** Options of `logs`. */
export interface LogsRequest {
  follow?: boolean;
  tail?: number;
  /** Ends the stream (and a follow) when aborted. */
  signal?: AbortSignal;
}

/** The control API, one method per route. */
export interface ControlClient {
  health(): Promise<{ ok: boolean }>;
  list(): Promise<FunctionSummary[]>;
  describe(name: string): Promise<FunctionDescription>;
  deploy(name: string, request: DeployRequest): Promise<DeployResult>;
  delete(name: string): Promise<void>;
  rollback(name: string, to?: string): Promise<FunctionSummary>;
  setTraffic(name: string, traffic: TrafficTarget[]): Promise<FunctionSummary>;
  /** Log lines as text (`<iso time> <replica> <text>`, no newline); see parseLogLine. */
  logs(name: string, request?: LogsRequest): AsyncIterable<string>;
  /** A function's dead letters, oldest first (the server's default limit when none is given). */
  dlqList(name: string, options?: { limit?: number }): Promise<DeadLetterSummary[]>;
  /** Replays a function's dead letters on their subjects. */
  dlqRedrive(name: string): Promise<RedriveResult>;
}

/** A client of the control API at `options.url`. */
export function makeControlClient(options: ControlClientOptions): ControlClient {
  const base = options.url.replace(/\/+$/, "");
  const doFetch = options.fetch ?? fetch;
  const call = async (method: string, path: string, init: RequestInit = {}): Promise<Response> => {
    const headers = new Headers(init.headers);
    headers.set("authorization", `Bearer ${options.token}`);
    let response: Response;
    try {
      response = await doFetch(`${base}${path}`, { ...init, method, headers });
    } catch (error) {
      if (init.signal?.aborted) throw error;
      const why = (error as Error & { cause?: Error }).cause?.message ?? (error as Error).message;
      throw new ControlApiError(0, `cannot reach the control API at ${base}: ${why} (is "skiff up" running?)`, { cause: error });
    }
    if (!response.ok) throw await toError(response, method, path);
    return response;
  };
  const json = async <T>(method: string, path: string, body?: unknown): Promise<T> => {
    const init: RequestInit = body === undefined ? {} : { body: JSON.stringify(body), headers: { "content-type": "application/json" } };
    return (await (await call(method, path, init)).json()) as T;
  };
  const fn = (name: string) => `/v1/functions/${encodeURIComponent(name)}`;
  return {
    health: () => json("GET", "/v1/health"),
    list: async () => (await json<{ functions: FunctionSummary[] }>("GET", "/v1/functions")).functions,
    describe: (name) => json("GET", fn(name)),
    deploy: async (name, request) => (await call("PUT", fn(name), makeDeployInit(request))).json() as Promise<DeployResult>,
    delete: async (name) => {
      await json("DELETE", fn(name));
    },
    rollback: (name, to) => json("POST", `${fn(name)}/rollback`, to === undefined ? {} : { to }),
    setTraffic: (name, traffic) => json("PUT", `${fn(name)}/traffic`, { traffic }),
    logs: (name, request = {}) => readLines(name, request, call, fn),
    dlqList: async (name, options = {}) => {
      const query = options.limit === undefined ? "" : `?${new URLSearchParams({ limit: String(options.limit) })}`;
      return (await json<{ deadLetters: DeadLetterSummary[] }>("GET", `${fn(name)}/dlq${query}`)).deadLetters;
    },
    dlqRedrive: (name) => json("POST", `${fn(name)}/dlq/redrive`),
  };
}

function makeDeployInit(request: DeployRequest): RequestInit {
  const bundle = {
    meta: {
      spec: makeSpecInput(request.spec),
      ...(request.traffic ? { traffic: request.traffic } : {}),
      // Only when not the default, so a process deploy's upload is what it always was.
      ...(request.isolation && request.isolation !== "process" ? { isolation: request.isolation } : {}),
    },
    files: request.files,
  };
  const chunks = encodeBundleChunks(bundle);
  // The first chunk is taken now: the encoder throws on bad paths or limits before any request.
  let next = chunks.next();
  const body = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (next.done) return controller.close();
      controller.enqueue(next.value);
      next = chunks.next();
    },
  });
  // Streamed (duplex "half") so a large model is not copied into one buffer; the length
  // lets the server refuse an oversized upload before reading it.
  return {
    body,
    duplex: "half",
    headers: { "content-type": BUNDLE_CONTENT_TYPE, "content-length": String(bundleByteLength(bundle)) },
  } as RequestInit;
}

async function* readLines(
  name: string,
  request: LogsRequest,
  call: (method: string, path: string, init?: RequestInit) => Promise<Response>,
  fn: (name: string) => string,
): AsyncGenerator<string> {
  const query = new URLSearchParams({ follow: request.follow ? "1" : "0" });
  if (request.tail !== undefined) query.set("tail", String(request.tail));
  const response = await call("GET", `${fn(name)}/logs?${query}`, request.signal ? { signal: request.signal } : {});
  const decoder = new TextDecoder();
  let pending = "";
  try {
    if (!response.body) return;
    for await (const chunk of readChunks(response.body)) {
      pending += decoder.decode(chunk, { stream: true });
      const lines = pending.split("\n");
      pending = lines.pop()!;
      yield* lines;
    }
  } catch (error) {
    // Aborting is how a follow ends; it is not an error for the caller.
    if (request.signal?.aborted) return;
    throw error;
  }
  if (pending !== "") yield pending;
}

async function toError(response: Response, method: string, path: string): Promise<ControlApiError> {
  const text = await response.text().catch(() => "");
  let message = text.trim() || response.statusText;
  try {
    const body = JSON.parse(text) as { error?: unknown };
    if (typeof body.error === "string") message = body.error;
  } catch {
    // Not JSON (a proxy's error page, say): the text itself is the best message there is.
  }
  return new ControlApiError(response.status, message || `${method} ${path} failed with status ${response.status}`);
}
