// The control API: HTTP routes over PlatformOps. Routes parse and validate requests,
// call one operation and shape the answer; every failure is thrown and answered by the
// single error mapper (toErrorResponse), so no route chooses an error status itself.
import { type Context, Hono } from "hono";
import { NotFoundError, parseTraffic, validateFunctionName } from "../store/index.ts";
import { makeBearerAuth } from "./auth.ts";
import { readDeployRequest } from "./deploy-request.ts";
import { answerDlqList, answerDlqRedrive } from "./dlq-route.ts";
import { BadRequestError, toErrorResponse } from "./errors.ts";
import { streamLogs } from "./logs-route.ts";
import type { ControlApiOptions, PlatformOps } from "./types.ts";

/** Path of the unauthenticated liveness route. */
export const HEALTH_PATH = "/v1/health";

/** Builds the control API app; serve it with @hono/node-server (or call app.fetch in tests). */
export function makeControlApi(ops: PlatformOps, options: ControlApiOptions): Hono {
  const app = new Hono();
  const auth = makeBearerAuth(options.token, options.tokenFile);
  const onError = options.onError ?? ((error: unknown) => console.error("skiff: control API error:", error));

  app.onError((error, c) => {
    const answer = toErrorResponse(error);
    if (answer.unexpected) onError(error);
    return c.json({ error: answer.message }, answer.status as 400, answer.headers);
  });
  app.notFound((c) => c.json({ error: `no such route: ${c.req.method} ${c.req.path}` }, 404));

  app.get(HEALTH_PATH, (c) => c.json({ ok: true }));
  // Everything else needs the token, unknown routes included (no probing without it).
  app.use("*", async (c, next) => (c.req.path === HEALTH_PATH ? next() : auth(c, next)));
  addFunctionRoutes(app, ops, options, onError);
  return app;
}

/** The /v1/functions routes; each validates its input, calls one operation and shapes the answer. */
function addFunctionRoutes(app: Hono, ops: PlatformOps, options: ControlApiOptions, onError: (error: unknown) => void): void {
  app.get("/v1/functions", async (c) => c.json({ functions: await ops.list() }));

  app.get("/v1/functions/:name", async (c) => {
    const name = nameParam(c);
    const description = await ops.describe(name);
    if (!description) throw new NotFoundError(`function "${name}" not found`);
    return c.json(description);
  });

  app.put("/v1/functions/:name", async (c) => {
    const input = await readDeployRequest(c.req.raw, nameParam(c), options.bundleLimits);
    const result = await ops.deploy(input);
    return c.json(result, result.created ? 201 : 200);
  });

  app.delete("/v1/functions/:name", async (c) => {
    const name = nameParam(c);
    if (!(await ops.delete(name))) throw new NotFoundError(`function "${name}" not found`);
    return c.json({ name, deleted: true });
  });

  app.post("/v1/functions/:name/rollback", async (c) => {
    const name = nameParam(c);
    const body = await readJsonObject(c, { allowEmpty: true });
    const { to, ...rest } = body;
    rejectUnknownKeys(rest);
    if (to !== undefined && (typeof to !== "string" || to === "")) throw new BadRequestError('"to" must be a revision id');
    return c.json(await ops.rollback(name, to));
  });

  app.put("/v1/functions/:name/traffic", async (c) => {
    const name = nameParam(c);
    const { traffic, ...rest } = await readJsonObject(c, { allowEmpty: false });
    rejectUnknownKeys(rest);
    return c.json(await ops.setTraffic(name, parseTraffic(traffic)));
  });

  app.get("/v1/functions/:name/logs", async (c) => streamLogs(c, ops, nameParam(c), onError));
  app.get("/v1/functions/:name/dlq", async (c) => c.json(await answerDlqList(ops, nameParam(c), c.req.query("limit"))));
  app.post("/v1/functions/:name/dlq/redrive", async (c) => c.json(await answerDlqRedrive(ops, nameParam(c))));
}

/** The validated `:name` parameter (a DNS-1123 label), or a 400 naming it. */
function nameParam(c: Context): string {
  const name = c.req.param("name") ?? "";
  validateFunctionName(name);
  return name;
}

async function readJsonObject(c: Context, options: { allowEmpty: boolean }): Promise<Record<string, unknown>> {
  const text = await c.req.text();
  if (text.trim() === "") {
    if (options.allowEmpty) return {};
    throw new BadRequestError("request body is empty; expected a JSON object");
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new BadRequestError(`request body is not valid JSON: ${(error as Error).message}`, { cause: error });
  }
  if (value === null || typeof value !== "object" || Array.isArray(value)) throw new BadRequestError("request body must be a JSON object");
  return value as Record<string, unknown>;
}

function rejectUnknownKeys(rest: Record<string, unknown>): void {
  const extra = Object.keys(rest)[0];
  if (extra !== undefined) throw new BadRequestError(`unknown key ${JSON.stringify(extra)} in request body`);
}
