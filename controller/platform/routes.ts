// The gateway's route table over the store: one map lookup per request, refreshed whenever
// the store reports a change.
import type { Route, RouteTable } from "../gateway/index.ts";
import type { FunctionRecord } from "../store/index.ts";

/** A gateway route plus the revision with the largest share (whose spec and triggers apply). */
export type PlatformRoute = Route & { mainRevision: string };

/** Builds the route of a stored function; undefined until a revision takes traffic. */
export function makeRoute(record: FunctionRecord): PlatformRoute | undefined {
  const routed = record.traffic.filter((t) => t.percent > 0);
  if (routed.length === 0) return undefined;
  // Capacity, timeout and body limit come from the revision with the largest share (the
  // latest on a tie): one spec per route keeps the gateway's per-request work a lookup.
  const main = [...routed].sort((a, b) => b.percent - a.percent)[0]!;
  const revision = record.revisions.find((r) => r.id === main.revision);
  if (!revision) return undefined;
  return { fn: record.name, spec: revision.spec, targets: routed, mainRevision: revision.id };
}

/** A RouteTable kept in step with the store by `update` and `remove`. */
export class StoreRouteTable implements RouteTable {
  private readonly routes = new Map<string, PlatformRoute>();

  /** Looks a function up by name. */
  resolve(name: string): PlatformRoute | undefined {
    return this.routes.get(name);
  }

  /** Replaces a function's route from its record. */
  update(record: FunctionRecord): void {
    const route = makeRoute(record);
    if (route) this.routes.set(record.name, route);
    else this.routes.delete(record.name);
  }

  /** Forgets a deleted function. */
  remove(name: string): void {
    this.routes.delete(name);
  }
}
