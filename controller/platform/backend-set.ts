// The platform's backends behind one Backend: each revision runs on the backend its isolation
// names. Process replicas are always available; the container backend starts on first use (so a
// machine without runc runs process functions as before), or at once when an earlier run left
// container state behind, so its leftovers are cleaned up even if no container function wakes.
import type { ContainerBackend } from "../backends/container/index.ts";
import type { ProcessBackend, ProcessReplicaInfo } from "../backends/process/index.ts";
import type { Backend, Revision } from "../types.ts";

/** Every backend as one: scale and list by revision, prepare a revision before its first replica. */
export interface BackendSet extends Backend {
  replicas(revisionId: string): ProcessReplicaInfo[];
  onChange(listener: (replica: ProcessReplicaInfo) => void): () => void;
  desired(revisionId: string): number;
  /** Work a revision needs before it can start (a container image), with its errors; nothing for process revisions. */
  prepare(revision: Revision): Promise<void>;
}

/** What the set is made of. */
export interface BackendSetParts {
  process: ProcessBackend;
  /** Starts the container backend (called at most once). */
  startContainers: () => ContainerBackend;
  /** Whether an earlier run left containers behind (its runc state root has entries); may throw when there is none. */
  hasContainerState: () => boolean;
}

/** Combines the backends. */
export function makeBackendSet(parts: BackendSetParts): BackendSet {
  const listeners = new Set<(replica: ProcessReplicaInfo) => void>();
  let container: ContainerBackend | undefined;
  const fanOut = (replica: ProcessReplicaInfo) => {
    for (const listener of listeners) listener(replica);
  };
  parts.process.onChange(fanOut);
  const containers = () => {
    if (!container) {
      container = parts.startContainers();
      container.onChange(fanOut);
    }
    return container;
  };
  if (safely(parts.hasContainerState)) containers();
  const backendFor = (revision: Revision): Backend & { desired(id: string): number } =>
    revision.isolation === "container" ? containers() : parts.process;
  return {
    scale: (revision, desired) => backendFor(revision).scale(revision, desired),
    // Revision ids differ by isolation (it is hashed in), so a revision lives in one backend only.
    replicas: (id) => [...parts.process.replicas(id), ...(container?.replicas(id) ?? [])],
    desired: (id) => parts.process.desired(id) + (container?.desired(id) ?? 0),
    onChange(listener) {
      const wrapped = (replica: ProcessReplicaInfo) => listener(replica);
      listeners.add(wrapped);
      return () => void listeners.delete(wrapped);
    },
    prepare: async (revision) => {
      if (revision.isolation === "container") await containers().prepare(revision);
    },
    stop: async () => {
      await Promise.all([parts.process.stop(), container?.stop()]);
    },
  };
}

function safely(check: () => boolean): boolean {
  try {
    return check();
  } catch {
    return false;
  }
}
