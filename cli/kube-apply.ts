// `skiff deploy --kube`'s cluster half: server-side apply of the Function (function.yaml's
// fields as written plus the pushed image, validated strictly so a typo is an error rather
// than a pruned field), then a watch of its status until Ready, reporting each step.
import { CustomObjectsApi, type KubeConfig, PatchStrategy, setHeaderOptions } from "@kubernetes/client-node";
import { apiMessage, apiStatus, FUNCTION_API, FUNCTION_API_VERSION, type FunctionCondition, type FunctionObject } from "../controller/kube/index.ts";
import { CliError } from "./errors.ts";

/** Field manager of the CLI's applies: the fields it sets are its own, and the next apply may drop them. */
export const CLI_FIELD_MANAGER = "skiff-cli";

/**
 * The Function to apply: function.yaml's fields (as written) under spec, and the image pinned
 * by digest. Env values and cpu/memory are turned into strings: YAML reads `3` as a number,
 * function.yaml accepts it, and the CRD's schema (string-typed) would refuse it.
 */
export function makeFunctionManifest(name: string, namespace: string, fields: Record<string, unknown>, image: string): FunctionObject {
  const { name: _name, ...spec } = fields;
  if (isMapping(spec.env)) spec.env = Object.fromEntries(Object.entries(spec.env).map(([k, v]) => [k, typeof v === "number" || typeof v === "boolean" ? String(v) : v]));
  if (isMapping(spec.resources)) {
    const resources = { ...spec.resources };
    for (const key of ["cpu", "memory"]) if (typeof resources[key] === "number" && !Number.isInteger(resources[key])) resources[key] = String(resources[key]);
    spec.resources = resources;
  }
  return { apiVersion: FUNCTION_API_VERSION, kind: FUNCTION_API.kind, metadata: { name, namespace }, spec: { ...spec, image } } as FunctionObject;
}

function isMapping(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Applies the Function; the apiserver's refusal (invalid field, forbidden) becomes a CliError quoting it. */
export async function applyFunction(kc: KubeConfig, fn: FunctionObject): Promise<FunctionObject> {
  const { group, version, plural } = FUNCTION_API;
  const custom = kc.makeApiClient(CustomObjectsApi);
  try {
    return (await custom.patchNamespacedCustomObject(
      { group, version, plural, namespace: fn.metadata!.namespace!, name: fn.metadata!.name!, body: fn, fieldManager: CLI_FIELD_MANAGER, force: true, fieldValidation: "Strict" },
      setHeaderOptions("Content-Type", PatchStrategy.ServerSideApply),
    )) as FunctionObject;
  } catch (error) {
    throw new CliError(`applying Function ${fn.metadata!.namespace}/${fn.metadata!.name} failed: ${apiMessage(error)}${apiStatus(error) ? ` (HTTP ${apiStatus(error)})` : ""}`, { cause: error });
  }
}

/** What waitForReady reports as the status moves. */
export type ReadyProgress = (line: string) => void;

/**
 * Polls the Function until the controller has seen this generation and Ready is True; a
 * False Ready (invalid spec, failed rollout) ends the wait at once with its message.
 */
export async function waitForReady(kc: KubeConfig, namespace: string, name: string, generation: number, options: { timeoutMs: number; progress: ReadyProgress; intervalMs?: number }): Promise<FunctionObject> {
  const { group, version, plural } = FUNCTION_API;
  const custom = kc.makeApiClient(CustomObjectsApi);
  const deadline = Date.now() + options.timeoutMs;
  let last = "";
  for (;;) {
    const fn = (await custom.getNamespacedCustomObject({ group, version, plural, namespace, name })) as FunctionObject;
    const ready = fn.status?.conditions?.find((c) => c.type === "Ready");
    const seen = (fn.status?.observedGeneration ?? 0) >= generation;
    const line = seen ? describeCondition(ready) : "waiting for the controller to see the new spec";
    if (line !== last) options.progress(line);
    last = line;
    if (seen && ready?.status === "True") return fn;
    if (seen && ready?.status === "False") throw new CliError(`Function ${namespace}/${name} is not ready: ${ready.reason ?? ""}: ${ready.message ?? ""}`);
    if (Date.now() > deadline) throw new CliError(`Function ${namespace}/${name} not ready after ${Math.round(options.timeoutMs / 1000)}s (last: ${line}); see kubectl describe function ${name} -n ${namespace}`);
    await new Promise((resolve) => setTimeout(resolve, options.intervalMs ?? 500));
  }
}

function describeCondition(condition: FunctionCondition | undefined): string {
  if (!condition) return "waiting for the controller";
  return `${condition.reason ?? condition.status}: ${condition.message ?? ""}`.trim();
}
