import type { V1Container, V1EnvVar } from "@kubernetes/client-node";
import { describe, expect, it } from "vitest";
import { canonicalJson } from "../store/index.ts";
import { initialReplicas, makeDeployment, makeService } from "./desired.ts";
import { makeContainerEnv } from "./env.ts";
import { IMAGE, REF, makeTestRevision } from "./testdata/fixtures.ts";

function container(fields: Record<string, unknown> = {}, platformEnv?: Record<string, string>): V1Container {
  return makeDeployment({ fn: REF, revision: makeTestRevision(fields), ...(platformEnv ? { platformEnv } : {}) }).spec!.template.spec!.containers[0]!;
}

function envMap(env: V1EnvVar[] | undefined): Record<string, string | undefined> {
  return Object.fromEntries((env ?? []).map((e) => [e.name, e.value ?? `<${e.valueFrom?.fieldRef?.fieldPath}>`]));
}

describe("makeDeployment", () => {
  const revision = makeTestRevision();
  const deployment = makeDeployment({ fn: REF, revision });

  it("is named after the revision, labelled, and controlled by the Function", () => {
    expect(deployment.metadata).toEqual({
      name: revision.id,
      namespace: "apps",
      labels: { "skiff.dev/function": "hello", "skiff.dev/revision": revision.id, "app.kubernetes.io/managed-by": "skiff-controller" },
      // The revision's own spec, so the gateway can keep serving it while a newer one starts.
      annotations: { "skiff.dev/spec": canonicalJson(revision.spec) },
      ownerReferences: [{
        apiVersion: "skiff.dev/v1alpha1", kind: "Function", name: "hello", uid: REF.uid, controller: true, blockOwnerDeletion: true,
      }],
    });
    expect(deployment.spec!.selector).toEqual({ matchLabels: { "skiff.dev/revision": revision.id } });
    expect(deployment.spec!.template.metadata!.labels).toEqual(deployment.metadata!.labels);
  });

  it("leaves replicas to the autoscaler", () => {
    expect(deployment.spec!.replicas).toBeUndefined();
    expect(initialReplicas(revision)).toBe(1);
    expect(initialReplicas(makeTestRevision({ scale: { min: 3 } }))).toBe(3);
  });

  it("runs the image on port 8080 with the runtime's probes", () => {
    const c = container();
    expect(c.image).toBe(IMAGE);
    expect(c.ports).toEqual([{ name: "http", containerPort: 8080, protocol: "TCP" }]);
    expect(c.readinessProbe!.httpGet).toEqual({ path: "/_skiff/ready", port: "http" });
    expect(c.livenessProbe!.httpGet).toEqual({ path: "/_skiff/live", port: "http" });
  });

  it("locks the pod down: non-root 65532, read-only root, no escalation, no capabilities, writable /tmp", () => {
    const pod = deployment.spec!.template.spec!;
    expect(pod.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: 65532 });
    expect(pod.automountServiceAccountToken).toBe(false);
    expect(pod.enableServiceLinks).toBe(false);
    expect(container().securityContext).toEqual({
      runAsNonRoot: true, runAsUser: 65532, readOnlyRootFilesystem: true, allowPrivilegeEscalation: false, capabilities: { drop: ["ALL"] },
    });
    expect(pod.volumes).toEqual([{ name: "tmp", emptyDir: {} }]);
    expect(container().volumeMounts).toEqual([{ name: "tmp", mountPath: "/tmp" }]);
  });

  it("gives the pod its drain delay (2s), drain grace (timeout + 1s) and the kill margin before SIGKILL", () => {
    expect(deployment.spec!.template.spec!.terminationGracePeriodSeconds).toBe(38);
    const slow = makeDeployment({ fn: REF, revision: makeTestRevision({ timeout: "2m" }) });
    expect(slow.spec!.template.spec!.terminationGracePeriodSeconds).toBe(128);
  });

  it("requests cpu and memory, limits memory, and asks for GPUs only when the spec has them", () => {
    expect(container().resources).toEqual({ requests: { cpu: "1", memory: "512Mi" }, limits: { memory: "512Mi" } });
    expect(container({ resources: { cpu: "500m", memory: "1Gi", gpu: 2 } }).resources).toEqual({
      requests: { cpu: "500m", memory: "1Gi", "nvidia.com/gpu": "2" },
      limits: { memory: "1Gi", "nvidia.com/gpu": "2" },
    });
  });
});

describe("makeContainerEnv", () => {
  it("has the declared env plus the platform's keys the runtime reads", () => {
    const revision = makeTestRevision({ env: { LOG_LEVEL: "debug" }, timeout: "10s", resources: { cpu: "250m" } });
    expect(envMap(makeContainerEnv(revision))).toEqual({
      NODE_ENV: "production",
      HOST: "0.0.0.0",
      LOG_LEVEL: "debug",
      PORT: "8080",
      SKIFF_FUNCTION: "hello",
      SKIFF_REVISION: revision.id,
      SKIFF_DRAIN_GRACE_MS: "11000",
      SKIFF_DRAIN_DELAY_MS: "2000",
      SKIFF_CPU_MILLIS: "250",
      SKIFF_REPLICA: "<metadata.name>",
    });
  });

  it("lets the function override NODE_ENV, the platform override the function, and nobody the per-replica keys", () => {
    const revision = makeTestRevision({ env: { NODE_ENV: "development", NATS_URL: "mine" } });
    const env = envMap(makeContainerEnv(revision, { NATS_URL: "nats://nats.skiff-system:4222", PORT: "1", SKIFF_REPLICA: "x" }));
    expect(env).toMatchObject({ NODE_ENV: "development", NATS_URL: "nats://nats.skiff-system:4222", PORT: "8080", SKIFF_REPLICA: "<metadata.name>" });
  });

  it("lists keys in one order whatever order function.yaml had (one revision, one pod template)", () => {
    const a = makeContainerEnv(makeTestRevision({ env: { B: "2", A: "1" } }));
    const b = makeContainerEnv(makeTestRevision({ env: { A: "1", B: "2" } }));
    expect(a).toEqual(b);
    expect(a.map((e) => e.name).slice(0, 4)).toEqual(["NODE_ENV", "HOST", "A", "B"]);
    expect(new Set(a.map((e) => e.name)).size).toBe(a.length);
  });
});

describe("makeService", () => {
  it("is a headless Service over the revision's pods, labelled for the EndpointSlices", () => {
    const revision = makeTestRevision();
    const service = makeService({ fn: REF, revision });
    expect(service.metadata).toMatchObject({ name: revision.id, namespace: "apps", labels: { "skiff.dev/revision": revision.id } });
    expect(service.metadata!.ownerReferences![0]!.controller).toBe(true);
    expect(service.spec).toEqual({
      clusterIP: "None",
      selector: { "skiff.dev/revision": revision.id },
      ports: [{ name: "http", port: 8080, targetPort: "http", protocol: "TCP" }],
    });
  });
});
