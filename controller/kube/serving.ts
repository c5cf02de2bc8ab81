// Which revision of a Function takes its traffic. The newest takes it as soon as one of its
// replicas is ready; until then an older revision that is still serving keeps it (Knative
// routes to latestReadyRevision the same way), so an update never parks requests behind a
// starting replica. An older revision already at zero is not woken for that: the new one is
// starting anyway, and requests wait for whichever comes first only if nothing serves.
import type { FunctionSpec } from "../../spec/index.ts";

/** A revision the gateway knows, with what it needs to route to it. */
export interface KnownRevision {
  id: string;
  spec: FunctionSpec;
  /** Ready endpoints now. */
  ready: number;
}

/**
 * The revision to route to: `latest` when it has a ready replica or no older revision serves;
 * else the older serving revision, preferring the one the status names as last ready.
 */
export function chooseServingRevision(latest: KnownRevision, older: readonly KnownRevision[], latestReadyRevision?: string): KnownRevision {
  if (latest.ready > 0) return latest;
  const serving = older.filter((r) => r.id !== latest.id && r.ready > 0);
  return serving.find((r) => r.id === latestReadyRevision) ?? serving[0] ?? latest;
}
