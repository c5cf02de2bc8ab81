// A new revision takes traffic only once one replica of it is ready (Knative's initial scale):
// a revision whose init fails never receives a request.
import { ValidationError } from "../store/index.ts";
import type { Backend, Revision } from "../types.ts";

/** Starts one replica of `revision` (unless some run) and resolves when one is ready; rejects if it crashes first or times out. */
export function startFirstReplica(backend: Backend & { desired(revisionId: string): number }, revision: Revision, timeoutMs: number): Promise<void> {
  if (backend.replicas(revision.id).some((r) => r.phase === "ready")) return Promise.resolve();
  return new Promise<void>((resolve, reject) => {
    const done = (error?: Error) => {
      clearTimeout(timer);
      unsubscribe();
      if (error) reject(error);
      else resolve();
    };
    const unsubscribe = backend.onChange((replica) => {
      if (replica.revision !== revision.id) return;
      if (replica.phase === "ready") done();
      else if (replica.phase === "exited" && replica.readyAtMs === undefined) {
        backend.scale(revision, 0);
        done(new ValidationError(`revision ${revision.id} did not start: its replica ${replica.exitReason ?? "exited"} before it was ready (see "skiff logs ${revision.fn}")`));
      }
    });
    const timer = setTimeout(() => {
      backend.scale(revision, 0);
      done(new ValidationError(`revision ${revision.id} was not ready within ${Math.round(timeoutMs / 1000)}s (is init stuck? see "skiff logs ${revision.fn}")`));
    }, timeoutMs);
    if (backend.desired(revision.id) < 1) backend.scale(revision, 1);
  });
}
