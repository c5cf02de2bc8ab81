import type { V1Deployment } from "@kubernetes/client-node";
import { describe, expect, it } from "vitest";
import { deploymentNeedsUpdate, diffOwnedFields, serviceNeedsUpdate } from "./compare.ts";
import { makeDeployment, makeService } from "./desired.ts";
import { REF, makeTestRevision } from "./testdata/fixtures.ts";

/** The desired Deployment as the apiserver hands it back: defaults, status, other writers' marks. */
function asStored(desired: V1Deployment): V1Deployment {
  const stored = structuredClone(desired);
  stored.metadata = {
    ...stored.metadata!,
    uid: "d1", resourceVersion: "42", generation: 2, creationTimestamp: new Date(0),
    annotations: { ...stored.metadata!.annotations, "deployment.kubernetes.io/revision": "1" },
    labels: { ...stored.metadata!.labels, "team": "ml" },
  };
  stored.spec!.replicas = 7;
  stored.spec!.strategy = { type: "RollingUpdate", rollingUpdate: { maxSurge: "25%", maxUnavailable: "25%" } };
  stored.spec!.progressDeadlineSeconds = 600;
  const pod = stored.spec!.template.spec!;
  pod.restartPolicy = "Always";
  pod.dnsPolicy = "ClusterFirst";
  const c = pod.containers[0]!;
  c.imagePullPolicy = "IfNotPresent";
  c.terminationMessagePath = "/dev/termination-log";
  c.readinessProbe = { ...c.readinessProbe!, successThreshold: 1, httpGet: { ...c.readinessProbe!.httpGet!, scheme: "HTTP" } };
  // Quantities come back canonical.
  c.resources = { requests: { cpu: "500m", memory: "1Gi" }, limits: { memory: "1073741824" } };
  stored.status = { replicas: 7, readyReplicas: 7 };
  return stored;
}

describe("deploymentNeedsUpdate", () => {
  const revision = makeTestRevision({ resources: { cpu: "0.5", memory: "1Gi" } });
  const desired = makeDeployment({ fn: REF, revision });

  it("ignores defaults, status, replicas, foreign labels and canonical quantities", () => {
    expect(diffOwnedFields(asStored(desired), { ...desired, spec: { ...desired.spec!, replicas: undefined } })).toEqual([]);
    expect(deploymentNeedsUpdate(asStored(desired), desired)).toBe(false);
    expect(deploymentNeedsUpdate(asStored(desired), { ...desired, spec: { ...desired.spec!, replicas: 1 } })).toBe(false);
  });

  it("sees a changed field the controller sets", () => {
    const stored = asStored(desired);
    stored.spec!.template.spec!.containers[0]!.image = "other";
    expect(diffOwnedFields(stored, desired)).toEqual(["spec.template.spec.containers[0].image"]);
  });

  it("sees an env entry added or removed by hand", () => {
    const stored = asStored(desired);
    stored.spec!.template.spec!.containers[0]!.env!.push({ name: "DEBUG", value: "1" });
    expect(diffOwnedFields(stored, desired)).toEqual(["spec.template.spec.containers[0].env"]);
  });

  it("sees a resource the controller no longer asks for", () => {
    const stored = asStored(desired);
    stored.spec!.template.spec!.containers[0]!.resources!.limits!["nvidia.com/gpu"] = "1";
    expect(diffOwnedFields(stored, desired)).toEqual(["spec.template.spec.containers[0].resources.limits"]);
  });

  it("sees a different quantity", () => {
    const stored = asStored(desired);
    stored.spec!.template.spec!.containers[0]!.resources!.requests!.cpu = "501m";
    expect(diffOwnedFields(stored, desired)).toEqual(["spec.template.spec.containers[0].resources.requests.cpu"]);
  });

  it("sees a missing or foreign owner reference", () => {
    const stored = asStored(desired);
    stored.metadata!.ownerReferences = [];
    expect(diffOwnedFields(stored, desired)).toEqual(["metadata.ownerReferences"]);
  });
});

describe("serviceNeedsUpdate", () => {
  const desired = makeService({ fn: REF, revision: makeTestRevision() });

  it("ignores what the apiserver adds", () => {
    const stored = structuredClone(desired);
    stored.spec = { ...stored.spec!, clusterIPs: ["None"], ipFamilies: ["IPv4"], sessionAffinity: "None", type: "ClusterIP" };
    expect(serviceNeedsUpdate(stored, desired)).toBe(false);
  });

  it("sees a selector widened or narrowed", () => {
    const stored = structuredClone(desired);
    stored.spec!.selector = { ...stored.spec!.selector, extra: "x" };
    expect(serviceNeedsUpdate(stored, desired)).toBe(true);
  });
});
