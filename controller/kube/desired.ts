// The objects a revision needs in the cluster, built purely from the Function and its
// revision: a Deployment of replicas and a headless Service whose EndpointSlices tell the
// gateway where the ready replicas are. One pair per revision (as Knative's private
// services), so the gateway can split traffic between revisions and never mixes them.
import type { V1Deployment, V1OwnerReference, V1PodSpec, V1ResourceRequirements, V1Service } from "@kubernetes/client-node";
import { CONTAINER_PORT, DRAIN_DELAY_MS, drainGraceMs, makeContainerEnv } from "./env.ts";
import type { FunctionRef } from "./function-object.ts";
import {
  CONTAINER_NAME, FUNCTION_API, FUNCTION_API_VERSION, FUNCTION_LABEL, MANAGED_BY, MANAGED_BY_LABEL, PORT_NAME, REVISION_LABEL, SPEC_ANNOTATION,
} from "./names.ts";
import { canonicalJson } from "../store/index.ts";
import type { KubeRevision } from "./revision.ts";

/** uid:gid replicas run as: the image's user (builder/oci IMAGE_USER, distroless "nonroot"). */
export const REPLICA_UID = 65532;

/** Time after the drain grace for the shutdown hook and the process exit before the kubelet's SIGKILL. */
export const KILL_MARGIN_MS = 5000;

/** Kubernetes' name for a GPU (NVIDIA device plugin). */
export const GPU_RESOURCE = "nvidia.com/gpu";

/** Inputs of makeDeployment. */
export interface DesiredInput {
  fn: FunctionRef;
  revision: KubeRevision;
  /** Platform keys every replica gets (e.g. HOST "::" on IPv6-only clusters). */
  platformEnv?: Readonly<Record<string, string>>;
}

/** The labels of every object made for a revision (EndpointSlices inherit the Service's). */
export function revisionLabels(revision: KubeRevision): Record<string, string> {
  return { [FUNCTION_LABEL]: revision.fn, [REVISION_LABEL]: revision.id, [MANAGED_BY_LABEL]: MANAGED_BY };
}

/** Makes the Function the controlling owner: deleting it deletes the revision's objects (garbage collector). */
export function ownerReference(fn: FunctionRef): V1OwnerReference {
  return { apiVersion: FUNCTION_API_VERSION, kind: FUNCTION_API.kind, name: fn.name, uid: fn.uid, controller: true, blockOwnerDeletion: true };
}

/** Replicas to create a revision's Deployment with: one proves the revision can start (Knative's initial scale), or scale.min. */
export function initialReplicas(revision: KubeRevision): number {
  return Math.max(1, revision.spec.scale.min);
}

/**
 * The revision's Deployment. `spec.replicas` is left out: the autoscaler owns it (set it to
 * initialReplicas on create only), so comparing or applying this object never fights a scale.
 */
export function makeDeployment(input: DesiredInput): V1Deployment {
  const { fn, revision } = input;
  const labels = revisionLabels(revision);
  return {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name: revision.id, namespace: fn.namespace, labels, annotations: { [SPEC_ANNOTATION]: canonicalJson(revision.spec) }, ownerReferences: [ownerReference(fn)] },
    spec: {
      selector: { matchLabels: { [REVISION_LABEL]: revision.id } },
      template: { metadata: { labels }, spec: makePodSpec(input) },
    },
  };
}

function makePodSpec({ revision, platformEnv }: DesiredInput): V1PodSpec {
  return {
    // Service links put every Service of the namespace into the env: slow starts (Knative
    // #9104) and names user code has no business seeing. Nor does it need an API token.
    enableServiceLinks: false,
    automountServiceAccountToken: false,
    terminationGracePeriodSeconds: Math.ceil((DRAIN_DELAY_MS + drainGraceMs(revision) + KILL_MARGIN_MS) / 1000),
    securityContext: { runAsNonRoot: true, runAsUser: REPLICA_UID, runAsGroup: REPLICA_UID, seccompProfile: { type: "RuntimeDefault" } },
    containers: [{
      name: CONTAINER_NAME,
      image: revision.image,
      ports: [{ name: PORT_NAME, containerPort: CONTAINER_PORT, protocol: "TCP" }],
      env: makeContainerEnv(revision, platformEnv),
      resources: makeResources(revision),
      // Ready only once init resolved, and not while draining: the gateway routes by it.
      readinessProbe: { httpGet: { path: "/_skiff/ready", port: PORT_NAME }, periodSeconds: 1, timeoutSeconds: 2, failureThreshold: 3 },
      // The runtime listens before init runs, so liveness answers during a long model load.
      livenessProbe: { httpGet: { path: "/_skiff/live", port: PORT_NAME }, periodSeconds: 10, timeoutSeconds: 2, failureThreshold: 6 },
      securityContext: {
        runAsNonRoot: true,
        runAsUser: REPLICA_UID,
        readOnlyRootFilesystem: true,
        allowPrivilegeEscalation: false,
        capabilities: { drop: ["ALL"] },
      },
      volumeMounts: [{ name: "tmp", mountPath: "/tmp" }],
    }],
    // The root filesystem is read-only; libraries (and user code) still expect a writable /tmp.
    volumes: [{ name: "tmp", emptyDir: {} }],
  };
}

/**
 * Requests as declared; memory is also the limit (an over-use is an OOM kill, not a node
 * under pressure). No CPU limit: CFS throttling adds tail latency to requests that burst
 * above the share, and the request already buys the share under contention.
 */
function makeResources(revision: KubeRevision): V1ResourceRequirements {
  const { cpu, memory, gpu } = revision.spec.resources;
  const gpus: Record<string, string> = gpu > 0 ? { [GPU_RESOURCE]: String(gpu) } : {};
  return { requests: { cpu, memory, ...gpus }, limits: { memory, ...gpus } };
}

/**
 * The revision's headless Service: no virtual IP (the gateway balances itself, by least
 * outstanding requests), only EndpointSlices listing the pods and their readiness.
 */
export function makeService({ fn, revision }: Pick<DesiredInput, "fn" | "revision">): V1Service {
  return {
    apiVersion: "v1",
    kind: "Service",
    metadata: { name: revision.id, namespace: fn.namespace, labels: revisionLabels(revision), ownerReferences: [ownerReference(fn)] },
    spec: {
      clusterIP: "None",
      selector: { [REVISION_LABEL]: revision.id },
      // Not-ready pods stay out of the slices by default (publishNotReadyAddresses is left
      // unset: the apiserver drops a false, and comparing would then never settle).
      ports: [{ name: PORT_NAME, port: CONTAINER_PORT, targetPort: PORT_NAME, protocol: "TCP" }],
    },
  };
}
