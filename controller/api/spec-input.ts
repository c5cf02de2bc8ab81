// Turns a normalized FunctionSpec back into function.yaml form (durations and sizes as
// strings), which is what the deploy route validates with validateFunctionSpec. The CLI
// holds a normalized spec after a build, so the client sends this. (A candidate for
// spec/ as formatFunctionSpec; it lives here because this folder owns the wire format.)
import { formatDuration } from "../../spec/index.ts";
import type { EventTrigger, FunctionSpec } from "../../spec/types.ts";

/** The function.yaml-form object of a spec: validateFunctionSpec(makeSpecInput(s)) equals s. */
export function makeSpecInput(spec: FunctionSpec): Record<string, unknown> {
  return {
    name: spec.name,
    entry: spec.entry,
    http: spec.http,
    events: spec.events.map(makeTriggerInput),
    scale: {
      min: spec.scale.min,
      max: spec.scale.max,
      concurrency: spec.scale.concurrency,
      target: spec.scale.target,
      window: formatDuration(spec.scale.windowMs),
      scaleToZeroAfter: formatDuration(spec.scale.scaleToZeroAfterMs),
    },
    timeout: formatDuration(spec.timeoutMs),
    // Whole bytes: formatSize rounds to two decimals, which would not round-trip.
    maxBodySize: `${spec.maxBodyBytes}b`,
    env: { ...spec.env },
    assets: [...spec.assets],
    resources: { cpu: spec.resources.cpu, memory: spec.resources.memory, gpu: spec.resources.gpu },
    ...(spec.batch ? { batch: { maxSize: spec.batch.maxSize, maxDelay: formatDuration(spec.batch.maxDelayMs) } } : {}),
  };
}

function makeTriggerInput(trigger: EventTrigger): Record<string, unknown> {
  return {
    subject: trigger.subject,
    ...(trigger.type === undefined ? {} : { type: trigger.type }),
    ...(trigger.reply === undefined ? {} : { reply: trigger.reply }),
    maxDeliver: trigger.maxDeliver,
    backoff: trigger.backoffMs.map(formatDuration),
  };
}
