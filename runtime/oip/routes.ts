// The OIP v2 REST paths: a pure path parser, the health and metadata answers, and the Hono
// mount (only for functions that define a model, so plain functions keep their route table).
import type { Context, Env, Hono } from "hono";
import { statusOf } from "../errors.ts";
import type { Phase } from "../replica-state.ts";
import type { ModelServer } from "./model-server.ts";

/** The runtime's version, reported in server metadata (a test keeps it equal to package.json's). */
export const SKIFF_VERSION = "0.1.0";

/** The protocol extensions this server implements. */
export const OIP_EXTENSIONS = ["binary_tensor_data"] as const;

/** One OIP endpoint, as named by a request path. */
export type OipRoute =
  | { kind: "server-live" | "server-ready" | "server-metadata" }
  | { kind: "model-metadata" | "model-ready" | "infer"; model: string; version: string | undefined };

/** The route of a /v2 path; undefined when it names no endpoint. */
export function parseOipPath(path: string): OipRoute | undefined {
  const segments = path.split("/").slice(1);
  if (segments.at(-1) === "") segments.pop();
  if (segments[0] !== "v2") return undefined;
  let rest: string[];
  try {
    rest = segments.slice(1).map(decodeURIComponent);
  } catch {
    return undefined;
  }
  if (rest.length === 0) return { kind: "server-metadata" };
  if (rest[0] === "health" && rest.length === 2 && (rest[1] === "live" || rest[1] === "ready")) {
    return { kind: rest[1] === "live" ? "server-live" : "server-ready" };
  }
  if (rest[0] !== "models" || !rest[1]) return undefined;
  const model = rest[1];
  const versioned = rest[2] === "versions";
  if (versioned && !rest[3]) return undefined;
  const version = versioned ? rest[3] : undefined;
  const tail = rest.slice(versioned ? 4 : 2);
  if (tail.length === 0) return { kind: "model-metadata", model, version };
  if (tail.length === 1 && (tail[0] === "ready" || tail[0] === "infer")) {
    return { kind: tail[0] === "ready" ? "model-ready" : "infer", model, version };
  }
  return undefined;
}

/** Serves /v2 and /v2/*: health and metadata answered here, infer handed to `infer` (the request pipeline). */
export function mountOip<E extends Env>(
  app: Hono<E>,
  server: ModelServer,
  phase: () => Phase,
  infer: (c: Context<E>) => Response | Promise<Response>,
): void {
  const handler = (c: Context<E>): Response | Promise<Response> => {
    const route = parseOipPath(c.req.path);
    if (!route) return Response.json({ error: `no inference endpoint at ${c.req.path}` }, { status: 404 });
    const method = route.kind === "infer" ? "POST" : "GET";
    if (c.req.method !== method && !(method === "GET" && c.req.method === "HEAD")) {
      return Response.json({ error: `${c.req.path} takes ${method}` }, { status: 405, headers: { allow: method } });
    }
    return route.kind === "infer" ? infer(c) : answerOip(route, server, phase());
  };
  app.all("/v2", handler);
  app.all("/v2/*", handler);
}

/** Answers a health or metadata route; readiness is the replica's (ready only after init and metadata). */
export function answerOip(route: OipRoute, server: ModelServer, phase: Phase): Response {
  const ready = phase === "ready";
  switch (route.kind) {
    case "server-live":
      return Response.json({ live: true });
    case "server-ready":
      return Response.json({ ready }, { status: ready ? 200 : 503 });
    case "server-metadata":
      return Response.json({ name: "skiff", version: SKIFF_VERSION, extensions: OIP_EXTENSIONS });
    case "model-ready":
      if (route.model === server.name && !server.metadata) return Response.json({ name: server.name, ready: false }, { status: 503 });
      return answerModel(server, route, (name) => Response.json({ name, ready }, { status: ready ? 200 : 503 }));
    case "model-metadata":
      return answerModel(server, route, (name, meta) =>
        Response.json({ name, ...(meta.versions ? { versions: meta.versions } : {}), platform: meta.platform ?? "skiff", inputs: meta.inputs, outputs: meta.outputs }),
      );
    default:
      return Response.json({ error: "infer is not answered here" }, { status: 500 });
  }
}

/** Resolves the route's model and version, or answers `{error}` with the status that fits (404, 503). */
function answerModel(
  server: ModelServer,
  route: { model: string; version: string | undefined },
  answer: (name: string, meta: NonNullable<ModelServer["metadata"]>) => Response,
): Response {
  try {
    return answer(server.name, server.resolve(route.model, route.version));
  } catch (error) {
    const status = statusOf(error);
    return Response.json({ error: (error as Error).message }, { status, headers: status === 503 ? { "retry-after": "1" } : {} });
  }
}
