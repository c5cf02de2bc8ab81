// The pure core of reconciliation: given a revision's current replicas, the desired count and
// the crash backoff, which replicas to start and which to drain. No I/O, table-tested.
import type { ReplicaPhase } from "../../types.ts";

/** What the planner needs to know about one replica. */
export interface PlanReplica {
  id: string;
  phase: ReplicaPhase;
  startedAtMs: number;
  readyAtMs?: number;
}

/** What to do now; `wakeAtMs` asks for another reconcile when a backoff ends. */
export interface ScalePlan {
  start: number;
  drain: string[];
  wakeAtMs?: number;
}

/** Inputs of one reconcile decision. */
export interface PlanInput {
  replicas: PlanReplica[];
  desired: number;
  nowMs: number;
  /** Starts are held back until then (crash backoff); 0 when the revision is healthy. */
  retryAtMs: number;
}

/** Decides starts and drains so that at most `desired` replicas are starting or ready. */
export function planScale(input: PlanInput): ScalePlan {
  // Draining and exited replicas no longer count: the gateway already stopped sending to them,
  // so replacing them at once keeps capacity, and a slow drain never blocks a scale-up.
  const active = input.replicas.filter((r) => r.phase === "starting" || r.phase === "ready");
  if (active.length > input.desired) {
    return { start: 0, drain: pickDrainVictims(active, active.length - input.desired) };
  }
  const missing = input.desired - active.length;
  if (missing === 0) return { start: 0, drain: [] };
  if (input.nowMs < input.retryAtMs) return { start: 0, drain: [], wakeAtMs: input.retryAtMs };
  return { start: missing, drain: [] };
}

/**
 * The `count` replicas to drain: starting ones first (they serve nothing yet, so dropping them
 * loses no work), newest first; then ready ones, most recently ready first, because the older
 * ones have proven stable and carry warm caches and JIT state, and the gateway's least-outstanding
 * balancing has usually sent the newest one the least work.
 */
export function pickDrainVictims(active: PlanReplica[], count: number): string[] {
  const rank = (r: PlanReplica) => (r.phase === "starting" ? 0 : 1);
  const recency = (r: PlanReplica) => (r.phase === "starting" ? r.startedAtMs : (r.readyAtMs ?? r.startedAtMs));
  const ordered = [...active].sort((a, b) => rank(a) - rank(b) || recency(b) - recency(a) || b.id.localeCompare(a.id));
  return ordered.slice(0, Math.max(0, count)).map((r) => r.id);
}
