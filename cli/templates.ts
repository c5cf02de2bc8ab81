// Starter files for `skiff init`. Each template is a complete, runnable function.

/** Template names accepted by `skiff init --template`. */
export const TEMPLATE_NAMES = ["http", "event", "model"] as const;
/** One of TEMPLATE_NAMES. */
export type TemplateName = (typeof TEMPLATE_NAMES)[number];

const PACKAGE_JSON = (name: string) => `${JSON.stringify({ name, private: true, type: "module" }, null, 2)}\n`;

const HTTP_INDEX = `import { defineFunction } from "skiff/runtime";

export default defineFunction({
  async http(req, ctx) {
    const url = new URL(req.url);
    ctx.logger.info("hello", { path: url.pathname });
    return Response.json({ message: \`hello from \${ctx.name}\`, path: url.pathname });
  },
});
`;

const EVENT_INDEX = `import { defineFunction } from "skiff/runtime";

// Receives a CloudEvent and replies with another one; on NATS the reply is published on the
// trigger's reply subject, which can trigger the next function.
export default defineFunction({
  async event(event, ctx) {
    ctx.logger.info("got event", { id: event.id, type: event.type });
    return { type: "com.example.processed", data: { received: event.data } };
  },
});
`;

const MODEL_INDEX = `import { readFile } from "node:fs/promises";
import { defineFunction } from "skiff/runtime";

interface Model {
  weights: number[];
  bias: number;
}

// The model loads once per replica in init; the replica turns ready only after it has.
export default defineFunction({
  async init(ctx) {
    const model = JSON.parse(await readFile(ctx.assetPath("model/weights.json"), "utf8")) as Model;
    return { model };
  },
  async http(req, ctx) {
    const { features } = (await req.json()) as { features: number[] };
    const { weights, bias } = ctx.state.model;
    if (!Array.isArray(features) || features.length !== weights.length) {
      return Response.json({ error: \`expected "features": ${"${weights.length}"} numbers\` }, { status: 400 });
    }
    const z = features.reduce((sum, x, i) => sum + x * weights[i]!, bias);
    return Response.json({ score: 1 / (1 + Math.exp(-z)) });
  },
});
`;

function functionYaml(name: string, template: TemplateName): string {
  const lines = [`name: ${name}`, "entry: index.ts"];
  if (template === "event") {
    lines.push("http: false", "events:", "  - subject: examples.in", "    reply: examples.out");
  }
  if (template === "model") lines.push("assets: [model/]", "timeout: 10s", "scale: { min: 0, max: 4, concurrency: 8 }");
  else lines.push("timeout: 30s");
  return `${lines.join("\n")}\n`;
}

/** The files (relative path -> content) of a new function named `name`. */
export function makeTemplateFiles(name: string, template: TemplateName): Record<string, string> {
  const index = template === "http" ? HTTP_INDEX : template === "event" ? EVENT_INDEX : MODEL_INDEX;
  const files: Record<string, string> = {
    "index.ts": index,
    "function.yaml": functionYaml(name, template),
    "package.json": PACKAGE_JSON(name),
  };
  if (template === "model") files["model/weights.json"] = `${JSON.stringify({ weights: [0.8, -0.4, 0.25], bias: 0.1 })}\n`;
  return files;
}
