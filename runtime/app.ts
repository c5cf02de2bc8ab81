import type { HttpBindings } from "@hono/node-server";
import { Hono, type Context } from "hono";
import type { IncomingHttpHeaders } from "node:http";
import { invoke, type HeaderReader, type InvokeDeps } from "./invoke.ts";
import type { ModelServer } from "./oip/model-server.ts";
import type { mountOip } from "./oip/routes.ts";

/** A model function's OIP server and the code that mounts its routes (loaded on demand). */
export interface ModelRoutes {
  server: ModelServer;
  mount: typeof mountOip;
}

type AppEnv = { Bindings: Partial<HttpBindings> };

/** Paths under this prefix belong to the platform; user routes can never shadow them. */
export const RESERVED_PREFIX = "/_skiff/";

/** Platform endpoints every replica serves. */
export const PATHS = {
  live: "/_skiff/live",
  ready: "/_skiff/ready",
  metrics: "/_skiff/metrics",
} as const;

/**
 * The replica's Hono app: reserved health and metrics endpoints, then (for a model function)
 * the OIP v2 paths under /v2, then the user's function for every other path.
 */
export function makeApp(deps: InvokeDeps, modelRoutes?: ModelRoutes): Hono<AppEnv> {
  const model = modelRoutes?.server;
  const app = new Hono<AppEnv>();
  const { state } = deps;
  app.get(PATHS.live, (c) => c.text("ok"));
  app.get(PATHS.ready, (c) =>
    state.phase === "ready" ? c.text("ready") : c.json({ ready: false, phase: state.phase }, 503),
  );
  app.get(PATHS.metrics, (c) =>
    c.body(state.metrics.registry.render(), 200, { "content-type": "text/plain; version=0.0.4; charset=utf-8" }),
  );
  app.all(`${RESERVED_PREFIX}*`, (c) => c.json({ error: `no platform endpoint at ${c.req.path}` }, 404));
  if (model) modelRoutes.mount(app, model, () => state.phase, toPipeline({ ...deps, fn: model.fn }));
  if (model && !deps.fn.http && !deps.fn.event) {
    app.all("*", (c) => c.json({ error: `function "${deps.spec.name}" serves a model: use /v2/models/${model.name}/infer` }, 404));
  } else {
    app.all("*", toPipeline(deps));
  }
  return app;
}

/** Hands a request to the pipeline: 503 while init runs, and `connection: close` while draining. */
function toPipeline(deps: InvokeDeps): (c: Context<AppEnv>) => Response | Promise<Response> {
  const { state } = deps;
  return (c) => {
    if (state.phase === "starting") {
      return c.json({ error: "replica is still starting (init has not finished)" }, 503, { "retry-after": "1" });
    }
    const incoming = c.env?.incoming;
    // While draining, tell keep-alive clients not to reuse this connection.
    if (state.phase === "draining") c.env?.outgoing?.setHeader("connection", "close");
    return invoke(deps, c.req.raw, incoming ? nodeHeaderReader(incoming.headers) : webHeaderReader(c.req.raw.headers));
  };
}

/** Reads Node's already-parsed header object; a repeated header is joined as fetch would. */
function nodeHeaderReader(headers: IncomingHttpHeaders): HeaderReader {
  return (name) => {
    const value = headers[name];
    return Array.isArray(value) ? value.join(", ") : value;
  };
}

/** For requests that did not come through node-server (app.request in tests). */
function webHeaderReader(headers: Headers): HeaderReader {
  return (name) => headers.get(name) ?? undefined;
}
