// A replica container's environment: the same keys, in the same precedence, as the process
// backend's makeReplicaEnv (controller/backends/process/env.ts), less what only makes sense
// for a child process (PATH comes from the image; SKIFF_PARENT_PID has no parent to watch).
import type { V1EnvVar } from "@kubernetes/client-node";
import type { KubeRevision } from "./revision.ts";

/** Port the runtime listens on inside the container (the image's PORT and EXPOSE). */
export const CONTAINER_PORT = 8080;

/**
 * How long a replica keeps taking new requests after SIGTERM: the time for its EndpointSlice
 * change to reach the gateway, which may still route to it meanwhile (Kubernetes' preStop-sleep
 * advice; locally the backend stops routing before it signals, so the delay is 0 there).
 */
export const DRAIN_DELAY_MS = 2000;

/** Drain grace a replica gets on SIGTERM: one full request timeout plus a second for the answer to leave (as locally). */
export function drainGraceMs(revision: KubeRevision): number {
  return revision.spec.timeoutMs + 1000;
}

/**
 * Precedence, lowest first: NODE_ENV and HOST defaults (a function may override them), the
 * declared env, `platformEnv` (the platform's contract wins over a user's same-named key),
 * then the per-replica keys nobody may override. Keys are sorted within each layer: the
 * revision id hashes the spec with sorted keys, so two specs differing only in key order
 * are one revision and must give one pod template, or the controller would update forever.
 */
export function makeContainerEnv(revision: KubeRevision, platformEnv: Readonly<Record<string, string>> = {}): V1EnvVar[] {
  const merged = new Map<string, string>([
    ["NODE_ENV", "production"],
    // The runtime's default; IPv6-only clusters pass HOST "::" in platformEnv.
    ["HOST", "0.0.0.0"],
  ]);
  for (const layer of [revision.spec.env, platformEnv]) {
    for (const key of Object.keys(layer).sort()) merged.set(key, layer[key]!);
  }
  const reserved: Record<string, string> = {
    PORT: String(CONTAINER_PORT),
    SKIFF_FUNCTION: revision.fn,
    SKIFF_REVISION: revision.id,
    SKIFF_DRAIN_GRACE_MS: String(drainGraceMs(revision)),
    SKIFF_DRAIN_DELAY_MS: String(DRAIN_DELAY_MS),
    // The replica's CPU share, so model functions size their thread pools to it.
    SKIFF_CPU_MILLIS: String(revision.spec.resources.cpuMillis),
  };
  for (const [key, value] of Object.entries(reserved)) merged.set(key, value);
  merged.delete("SKIFF_REPLICA");
  return [
    ...[...merged].map(([name, value]) => ({ name, value })),
    // The pod's own name: unique per replica, as the local replica id is.
    { name: "SKIFF_REPLICA", valueFrom: { fieldRef: { apiVersion: "v1", fieldPath: "metadata.name" } } },
  ];
}
