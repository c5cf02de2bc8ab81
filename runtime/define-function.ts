import type { FunctionDefinition, SkiffFunction } from "./types.ts";

const HOOKS = ["init", "http", "event", "model", "shutdown"];

/** Declares a Skiff function; the default export of a function's entry module. */
export function defineFunction<S = undefined>(definition: FunctionDefinition<S>): SkiffFunction<S> {
  if (!definition || typeof definition !== "object") {
    throw new TypeError("defineFunction expects an object with http, event, model, init or shutdown");
  }
  for (const key of Object.keys(definition)) {
    if (!HOOKS.includes(key)) {
      throw new TypeError(`defineFunction: unknown hook "${key}" (allowed: ${HOOKS.join(", ")})`);
    }
  }
  if (typeof definition.http !== "function" && typeof definition.event !== "function" && definition.model === undefined) {
    throw new TypeError("defineFunction needs an http or an event handler, or a model");
  }
  if (definition.model !== undefined) checkModel(definition.model);
  return Object.freeze({ ...definition, __skiffFunction: 1 as const });
}

/** A model needs metadata() and infer(); its name, when given, is a non-empty string. */
function checkModel(model: unknown): void {
  const m = model as Partial<Record<"metadata" | "infer" | "name", unknown>> | null;
  if (typeof m !== "object" || m === null || typeof m.metadata !== "function" || typeof m.infer !== "function") {
    throw new TypeError("defineFunction: model needs metadata(ctx) and infer(inputs, ctx) functions");
  }
  if (m.name !== undefined && (typeof m.name !== "string" || m.name === "")) {
    throw new TypeError("defineFunction: model.name must be a non-empty string");
  }
}

/** True when a module's default export came from defineFunction. */
export function isSkiffFunction(value: unknown): value is SkiffFunction<unknown> {
  return typeof value === "object" && value !== null && (value as { __skiffFunction?: unknown }).__skiffFunction === 1;
}
