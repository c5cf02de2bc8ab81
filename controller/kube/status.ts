// A Function's status, computed purely from what the controller observed (the spec's
// verdict, the revision's Deployment, the ready endpoints of its EndpointSlices) and the
// status already written, so an unchanged world gives a byte-identical status and a
// restarted controller writes nothing.
import type { V1Deployment, V1DeploymentCondition } from "@kubernetes/client-node";
import { canonicalJson } from "../store/index.ts";
import type { FunctionCondition, FunctionStatus } from "./function-object.ts";

/** Condition types on a Function. */
export const CONDITION = { ready: "Ready", configurationReady: "ConfigurationReady" } as const;

/** What was observed for one Function in one reconcile pass. */
export interface StatusInput {
  name: string;
  generation: number;
  /** The status currently written (times and latestReadyRevision carry over from it). */
  previous?: FunctionStatus;
  /** The spec's revision, or why the spec is invalid (SpecError's message). */
  revision: { id: string; http: boolean } | { invalid: string };
  /** The revision's Deployment as the cluster has it; undefined until created. */
  deployment?: V1Deployment;
  /** Why creating or updating the revision's objects failed (an API error), if it did. */
  reconcileError?: string;
  /** Ready endpoints of the revision (countReady over its EndpointSlices). */
  readyReplicas: number;
  /** Base URL of the gateway as clients reach it, e.g. http://skiff.example.com */
  gatewayUrl: string;
  /** Injected clock (RFC 3339 times on conditions). */
  now: Date;
}

type Verdict = Pick<FunctionCondition, "status" | "reason" | "message">;

/** The status to write for the observed state. */
export function makeFunctionStatus(input: StatusInput): FunctionStatus {
  const { previous = {}, revision } = input;
  if ("invalid" in revision) {
    // The last good revision keeps serving; the status says why the new spec did not apply.
    const verdict: Verdict = { status: "False", reason: "InvalidSpec", message: revision.invalid };
    return withoutUndefined({
      ...previous,
      observedGeneration: input.generation,
      conditions: makeConditions(input, verdict, verdict),
    });
  }
  const configuration = configurationVerdict(input);
  const wasReady = previous.latestReadyRevision === revision.id;
  const ready = readyVerdict(configuration, input.readyReplicas, wasReady, revision.id);
  return withoutUndefined({
    observedGeneration: input.generation,
    conditions: makeConditions(input, ready, configuration),
    url: revision.http ? `${input.gatewayUrl.replace(/\/+$/, "")}/fn/${input.name}/` : undefined,
    replicas: input.deployment?.spec?.replicas ?? 0,
    readyReplicas: input.readyReplicas,
    latestRevision: revision.id,
    latestReadyRevision: input.readyReplicas > 0 ? revision.id : previous.latestReadyRevision,
  });
}

/** Whether the written status differs from the computed one (what a status update would change). */
export function statusNeedsUpdate(current: FunctionStatus | undefined, desired: FunctionStatus): boolean {
  return canonicalJson(current ?? {}) !== canonicalJson(desired);
}

/** ConfigurationReady: the revision's objects exist and the Deployment can roll out. */
function configurationVerdict(input: StatusInput): Verdict {
  const { deployment, reconcileError } = input;
  if (reconcileError) return { status: "False", reason: "ReconcileFailed", message: reconcileError };
  if (!deployment) return { status: "Unknown", reason: "Creating", message: "creating the revision's Deployment and Service" };
  const progressing = deploymentCondition(deployment, "Progressing");
  if (progressing?.status === "False") {
    return { status: "False", reason: progressing.reason ?? "ProgressFailed", message: progressing.message ?? "the Deployment stopped progressing" };
  }
  const failure = deploymentCondition(deployment, "ReplicaFailure");
  if (failure?.status === "True") {
    return { status: "False", reason: failure.reason ?? "ReplicaFailure", message: failure.message ?? "pods of the Deployment cannot be created" };
  }
  return { status: "True", reason: "Configured", message: `Deployment ${deployment.metadata?.name ?? ""} is in place` };
}

/**
 * Ready: configured, and the revision has shown it can serve. A revision scaled to zero after
 * it was ready stays Ready (the gateway wakes it on the next request, as Knative's does); a
 * new revision is Unknown until its first replica turns ready.
 */
function readyVerdict(configuration: Verdict, readyReplicas: number, wasReady: boolean, revision: string): Verdict {
  if (configuration.status !== "True") return configuration;
  if (readyReplicas > 0) return { status: "True", reason: "Ready", message: `${readyReplicas} ready replica${readyReplicas === 1 ? "" : "s"} of ${revision}` };
  if (wasReady) return { status: "True", reason: "ScaledToZero", message: `${revision} has no replicas; the gateway starts one on the next request or event` };
  return { status: "Unknown", reason: "RevisionStarting", message: `waiting for the first replica of ${revision} to turn ready` };
}

/** Conditions sorted by type; a condition whose status did not change keeps its lastTransitionTime. */
function makeConditions(input: StatusInput, ready: Verdict, configuration: Verdict): FunctionCondition[] {
  const previous = input.previous?.conditions ?? [];
  const make = (type: string, verdict: Verdict): FunctionCondition => {
    const before = previous.find((c) => c.type === type);
    const lastTransitionTime = before?.status === verdict.status && before.lastTransitionTime
      ? before.lastTransitionTime
      : input.now.toISOString().replace(/\.\d{3}Z$/, "Z");
    return { type, ...verdict, lastTransitionTime, observedGeneration: input.generation };
  };
  return [make(CONDITION.configurationReady, configuration), make(CONDITION.ready, ready)];
}

function deploymentCondition(deployment: V1Deployment, type: string): V1DeploymentCondition | undefined {
  return deployment.status?.conditions?.find((c) => c.type === type);
}

/** Drops undefined members so the status compares (and serializes) the same whichever way it was built. */
function withoutUndefined(status: FunctionStatus): FunctionStatus {
  return JSON.parse(JSON.stringify(status)) as FunctionStatus;
}
