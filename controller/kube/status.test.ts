import type { V1Deployment } from "@kubernetes/client-node";
import { describe, expect, it } from "vitest";
import { makeFunctionStatus, statusNeedsUpdate, type StatusInput } from "./status.ts";

const REV = "hello-0123456789ab";
const T0 = new Date("2026-11-28T10:00:00.123Z");
const T1 = new Date("2026-11-28T10:05:00Z");

const deployment = (replicas: number, conditions: NonNullable<V1Deployment["status"]>["conditions"] = []): V1Deployment => ({
  metadata: { name: REV }, spec: { replicas, selector: {}, template: {} }, status: { conditions },
});

function input(more: Partial<StatusInput> = {}): StatusInput {
  return {
    name: "hello", generation: 4, revision: { id: REV, http: true }, deployment: deployment(1), readyReplicas: 0,
    gatewayUrl: "http://skiff.example.com/", now: T0, ...more,
  };
}

const condition = (status: ReturnType<typeof makeFunctionStatus>, type: string) => status.conditions!.find((c) => c.type === type)!;

describe("makeFunctionStatus", () => {
  it("reports a revision whose first replica is starting", () => {
    const status = makeFunctionStatus(input());
    expect(status).toEqual({
      observedGeneration: 4,
      conditions: [
        { type: "ConfigurationReady", status: "True", reason: "Configured", message: `Deployment ${REV} is in place`, lastTransitionTime: "2026-11-28T10:00:00Z", observedGeneration: 4 },
        { type: "Ready", status: "Unknown", reason: "RevisionStarting", message: `waiting for the first replica of ${REV} to turn ready`, lastTransitionTime: "2026-11-28T10:00:00Z", observedGeneration: 4 },
      ],
      url: "http://skiff.example.com/fn/hello/",
      replicas: 1,
      readyReplicas: 0,
      latestRevision: REV,
    });
  });

  it("turns Ready with ready endpoints, and stays Ready when scaled to zero afterwards", () => {
    const ready = makeFunctionStatus(input({ readyReplicas: 2, deployment: deployment(2), now: T1 }));
    expect(condition(ready, "Ready")).toMatchObject({ status: "True", reason: "Ready", message: `2 ready replicas of ${REV}` });
    expect(ready.latestReadyRevision).toBe(REV);
    const idle = makeFunctionStatus(input({ previous: ready, readyReplicas: 0, deployment: deployment(0), now: new Date("2026-11-28T11:00:00Z") }));
    expect(condition(idle, "Ready")).toMatchObject({ status: "True", reason: "ScaledToZero", lastTransitionTime: "2026-11-28T10:05:00Z" });
    expect(idle).toMatchObject({ replicas: 0, readyReplicas: 0, latestReadyRevision: REV });
  });

  it("keeps the last ready revision while a new one starts", () => {
    const old = makeFunctionStatus(input({ readyReplicas: 1 }));
    const next = makeFunctionStatus(input({ previous: old, generation: 5, revision: { id: "hello-ba9876543210", http: true }, deployment: undefined, now: T1 }));
    expect(next).toMatchObject({ latestRevision: "hello-ba9876543210", latestReadyRevision: REV, observedGeneration: 5 });
    expect(condition(next, "ConfigurationReady")).toMatchObject({ status: "Unknown", reason: "Creating" });
    expect(condition(next, "Ready")).toMatchObject({ status: "Unknown", reason: "Creating", lastTransitionTime: "2026-11-28T10:05:00Z" });
  });

  it("reports an invalid spec without forgetting what still serves", () => {
    const good = makeFunctionStatus(input({ readyReplicas: 1 }));
    const bad = makeFunctionStatus(input({ previous: good, generation: 5, revision: { invalid: "timeout: expected a duration between 1ms and 1h" }, now: T1 }));
    expect(bad).toMatchObject({ observedGeneration: 5, url: good.url, latestRevision: REV, latestReadyRevision: REV, readyReplicas: 1 });
    for (const type of ["Ready", "ConfigurationReady"]) {
      expect(condition(bad, type)).toMatchObject({ status: "False", reason: "InvalidSpec", message: "timeout: expected a duration between 1ms and 1h", observedGeneration: 5 });
    }
  });

  it("passes on a failed rollout and failed API calls", () => {
    const stuck = makeFunctionStatus(input({ deployment: deployment(1, [{ type: "Progressing", status: "False", reason: "ProgressDeadlineExceeded", message: "ReplicaSet has timed out progressing." }]) }));
    expect(condition(stuck, "Ready")).toMatchObject({ status: "False", reason: "ProgressDeadlineExceeded" });
    const quota = makeFunctionStatus(input({ deployment: deployment(1, [{ type: "ReplicaFailure", status: "True", reason: "FailedCreate", message: "exceeded quota" }]) }));
    expect(condition(quota, "ConfigurationReady")).toMatchObject({ status: "False", reason: "FailedCreate", message: "exceeded quota" });
    const forbidden = makeFunctionStatus(input({ reconcileError: 'failed to create deployment "x": forbidden' }));
    expect(condition(forbidden, "Ready")).toMatchObject({ status: "False", reason: "ReconcileFailed" });
  });

  it("has no url for an event-only function", () => {
    expect(makeFunctionStatus(input({ revision: { id: REV, http: false } })).url).toBeUndefined();
  });
});

describe("statusNeedsUpdate", () => {
  it("is false when a restarted controller recomputes the status it wrote", () => {
    const written = makeFunctionStatus(input({ readyReplicas: 1 }));
    const fromApi = JSON.parse(JSON.stringify(written)) as typeof written;
    const again = makeFunctionStatus(input({ previous: fromApi, readyReplicas: 1, now: new Date("2026-11-29T00:00:00Z") }));
    expect(statusNeedsUpdate(fromApi, again)).toBe(false);
  });

  it("is true when anything reported changed", () => {
    const written = makeFunctionStatus(input({ readyReplicas: 1 }));
    expect(statusNeedsUpdate(written, makeFunctionStatus(input({ previous: written, readyReplicas: 2 })))).toBe(true);
    expect(statusNeedsUpdate(undefined, written)).toBe(true);
  });
});
