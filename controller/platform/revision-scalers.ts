// One KPA autoscaler per revision that takes traffic, feeding the backend's replica count.
// Revisions that no longer take traffic are scaled to zero (their replicas drain).
import { startAutoscaler, type Autoscaler, type AutoscalerDecision } from "../autoscaler/index.ts";
import type { FunctionRecord } from "../store/index.ts";
import type { Backend, Revision } from "../types.ts";

/** What the scalers read and drive. */
export interface RevisionScalerDeps {
  backend: Backend & { desired(revisionId: string): number };
  /** In flight + queued at the gateway for a revision. */
  concurrency(revisionId: string): number;
  /** Demand the gateway cannot see (events waiting in JetStream), counted like concurrency. */
  extraDemand(revision: Revision): number;
  logger: { info(msg: string, fields?: Record<string, unknown>): void; warn(msg: string, fields?: Record<string, unknown>): void };
}

/** Keeps an autoscaler per routed revision and remembers their decisions for `describe`. */
export class RevisionScalers {
  private readonly scalers = new Map<string, { revision: Revision; autoscaler: Autoscaler }>();

  constructor(private readonly deps: RevisionScalerDeps) {}

  /**
   * Brings the scalers of one function in line with its record: start new, update, stop
   * unrouted. Revisions in `leave` (a new revision starting before it takes traffic) get no
   * scaler and keep the replicas they have.
   */
  reconcile(record: FunctionRecord, options: { leave?: ReadonlySet<string> } = {}): void {
    const routed = new Set(record.traffic.filter((t) => t.percent > 0).map((t) => t.revision));
    for (const revision of record.revisions) {
      if (routed.has(revision.id)) this.ensure(revision);
      else if (options.leave?.has(revision.id)) this.stopScaler(revision.id);
      else this.retire(revision);
    }
  }

  /** Stops every scaler of a deleted function and scales its revisions to zero. */
  remove(fn: string): void {
    for (const { revision } of [...this.scalers.values()].filter((s) => s.revision.fn === fn)) this.retire(revision);
  }

  /** Called by the gateway when a request waits for a revision: decide now, not at the next tick. */
  poke(revisionId: string): void {
    this.scalers.get(revisionId)?.autoscaler.poke();
  }

  /** Recent decisions (changes of count or mode) of a function's revisions, oldest first. */
  history(fn: string): Array<AutoscalerDecision & { revision: string }> {
    return [...this.scalers.values()]
      .filter((s) => s.revision.fn === fn)
      .flatMap((s) => s.autoscaler.history().map((d) => ({ ...d, revision: s.revision.id })))
      .sort((a, b) => a.atMs - b.atMs);
  }

  /** Stops every autoscaler (the backend is stopped separately). */
  stop(): void {
    for (const { autoscaler } of this.scalers.values()) autoscaler.stop();
    this.scalers.clear();
  }

  private ensure(revision: Revision): void {
    const existing = this.scalers.get(revision.id);
    if (existing) return existing.autoscaler.updateSpec(revision.spec.scale);
    const { backend, concurrency, logger } = this.deps;
    const autoscaler = startAutoscaler({
      spec: revision.spec.scale,
      name: revision.id,
      readConcurrency: () => concurrency(revision.id),
      readExtraDemand: () => this.deps.extraDemand(revision),
      readReplicas: () => ({
        ready: backend.replicas(revision.id).filter((r) => r.phase === "ready").length,
        desired: backend.desired(revision.id),
      }),
      applyDesired: (n, decision) => {
        logger.info(`scale ${revision.id}: ${decision.from} -> ${n}`, { reason: decision.reason });
        backend.scale(revision, n);
      },
      onError: (error) => logger.warn(`autoscaler of ${revision.id} failed`, { error: error.message }),
    });
    this.scalers.set(revision.id, { revision, autoscaler });
    // min-scale replicas come up (and come back after a restart) without waiting for a tick.
    if (revision.spec.scale.min > 0) backend.scale(revision, revision.spec.scale.min);
  }

  private retire(revision: Revision): void {
    this.stopScaler(revision.id);
    if (this.deps.backend.desired(revision.id) > 0) this.deps.backend.scale(revision, 0);
  }

  private stopScaler(revisionId: string): void {
    this.scalers.get(revisionId)?.autoscaler.stop();
    this.scalers.delete(revisionId);
  }
}
