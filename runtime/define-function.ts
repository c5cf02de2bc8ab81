import type { FunctionDefinition, SkiffFunction } from "./types.ts";

/** Declares a Skiff function; the default export of a function's entry module. */
export function defineFunction<S = undefined>(definition: FunctionDefinition<S>): SkiffFunction<S> {
  if (!definition || typeof definition !== "object") {
    throw new TypeError("defineFunction expects an object with http, event, init or shutdown");
  }
  if (typeof definition.http !== "function" && typeof definition.event !== "function") {
    throw new TypeError("defineFunction needs an http or an event handler (or both)");
  }
  for (const key of Object.keys(definition)) {
    if (!["init", "http", "event", "shutdown"].includes(key)) {
      throw new TypeError(`defineFunction: unknown hook "${key}" (allowed: init, http, event, shutdown)`);
    }
  }
  return Object.freeze({ ...definition, __skiffFunction: 1 as const });
}

/** True when a module's default export came from defineFunction. */
export function isSkiffFunction(value: unknown): value is SkiffFunction<unknown> {
  return typeof value === "object" && value !== null && (value as { __skiffFunction?: unknown }).__skiffFunction === 1;
}
