// EndpointSlices (discovery.k8s.io/v1) of revisions' Services, as the replica list the
// gateway uses locally: ReplicaInfo's id, url and phase, grouped by revision, and the ready
// ones as the gateway's Endpoints. In the cluster the EndpointSlice controller writes the
// slices from pod readiness; in tests the harness writes them, playing the node.
import type { V1Endpoint, V1EndpointSlice } from "@kubernetes/client-node";
import type { Endpoint } from "../gateway/index.ts";
import type { ReplicaInfo } from "../types.ts";
import { FUNCTION_LABEL, PORT_NAME, REVISION_LABEL, SERVICE_NAME_LABEL } from "./names.ts";
import { REVISION_HASH_CHARS } from "../store/index.ts";

/** A replica as an EndpointSlice shows it: no start time, which slices do not carry. */
export interface SliceReplica extends Pick<ReplicaInfo, "id" | "fn" | "revision" | "url" | "phase"> {
  /** Still answers requests (a terminating pod draining in-flight work does, until it exits). */
  serving: boolean;
}

/** Replicas listed by one slice; none when it is not a revision's (no revision label or service name) or has no port. */
export function parseEndpointSlice(slice: V1EndpointSlice): SliceReplica[] {
  const labels = slice.metadata?.labels ?? {};
  const revision = labels[REVISION_LABEL] ?? labels[SERVICE_NAME_LABEL];
  const port = slicePort(slice);
  if (!revision || port === undefined) return [];
  const fn = labels[FUNCTION_LABEL] ?? functionOf(revision);
  const replicas: SliceReplica[] = [];
  for (const endpoint of slice.endpoints ?? []) {
    // Addresses of one endpoint are fungible; consumers use the first (discovery/v1 API docs).
    const address = endpoint.addresses?.[0];
    if (!address) continue;
    const url = `http://${slice.addressType === "IPv6" ? `[${address}]` : address}:${port}`;
    replicas.push({ id: endpoint.targetRef?.name ?? endpoint.hostname ?? address, fn, revision, url, ...endpointState(endpoint) });
  }
  return replicas;
}

/**
 * The discovery/v1 conditions as a phase: a nil `ready` or `serving` means unknown and is
 * read as true, a nil `terminating` as false (as the API documents). A terminating endpoint
 * is draining: it finishes what it has and takes nothing new, as locally.
 */
function endpointState(endpoint: V1Endpoint): Pick<SliceReplica, "phase" | "serving"> {
  const { ready, serving, terminating } = endpoint.conditions ?? {};
  const isServing = serving ?? ready ?? true;
  if (terminating === true) return { phase: "draining", serving: isServing };
  return { phase: ready === false ? "starting" : "ready", serving: isServing };
}

/** The runtime's port: the one named "http", else the only one; a nil port means "all ports", which names none. */
function slicePort(slice: V1EndpointSlice): number | undefined {
  const ports = slice.ports ?? [];
  const port = ports.find((p) => p.name === PORT_NAME) ?? (ports.length === 1 ? ports[0] : undefined);
  return typeof port?.port === "number" ? port.port : undefined;
}

/** `<fn>-<12 hex>` -> fn, for slices written without the function label. */
function functionOf(revision: string): string {
  return revision.slice(0, Math.max(0, revision.length - REVISION_HASH_CHARS - 1));
}

const PHASE_RANK: Record<SliceReplica["phase"], number> = { exited: 3, draining: 2, starting: 1, ready: 0 };

/**
 * Replicas per revision over every slice. An endpoint can sit in two slices while the
 * EndpointSlice controller moves it, with no way to tell which is newer; the less routable
 * state wins, because sending a request to a pod on its way out costs a retry while skipping
 * a ready one costs nothing that the next slice update does not fix.
 */
export function makeReplicaIndex(slices: Iterable<V1EndpointSlice>): Map<string, SliceReplica[]> {
  const byRevision = new Map<string, Map<string, SliceReplica>>();
  for (const slice of slices) {
    for (const replica of parseEndpointSlice(slice)) {
      const replicas = byRevision.get(replica.revision) ?? new Map<string, SliceReplica>();
      byRevision.set(replica.revision, replicas);
      const seen = replicas.get(replica.id);
      if (!seen || PHASE_RANK[replica.phase] > PHASE_RANK[seen.phase]) replicas.set(replica.id, replica);
    }
  }
  const index = new Map<string, SliceReplica[]>();
  for (const [revision, replicas] of byRevision) index.set(revision, [...replicas.values()].sort((a, b) => a.id.localeCompare(b.id)));
  return index;
}

/** What the gateway's EndpointSource.ready returns: ready, not draining, as id and url. */
export function readyEndpoints(replicas: readonly SliceReplica[] | undefined): Endpoint[] {
  return (replicas ?? []).filter((r) => r.phase === "ready").map(({ id, url }) => ({ id, url }));
}

/** Ready replicas of a revision (the status' readyReplicas and the autoscaler's `ready`). */
export function countReady(replicas: readonly SliceReplica[] | undefined): number {
  return (replicas ?? []).filter((r) => r.phase === "ready").length;
}
