// Pure rules for traffic splits, deploys and rollbacks, shared by every FunctionStore so
// the file and Kubernetes stores cannot drift apart.
import { ConflictError, NotFoundError, ValidationError } from "./errors.ts";
import type { FunctionRecord, TrafficTarget } from "./types.ts";

/** In deploy traffic, names the revision being deployed (its id is only known after upload). */
export const LATEST_REVISION = "@latest";

/** Validates an untrusted traffic value (shape, whole percents 0..100 summing to 100, no duplicates); throws ValidationError naming the entry. */
export function parseTraffic(value: unknown): TrafficTarget[] {
  if (!Array.isArray(value) || value.length === 0) {
    throw new ValidationError("traffic: expected a non-empty list of {revision, percent}");
  }
  const out = value.map((entry, i) => parseTarget(entry, `traffic[${i}]`));
  const seen = new Set<string>();
  for (const [i, target] of out.entries()) {
    if (seen.has(target.revision)) {
      throw new ValidationError(`traffic[${i}].revision: ${JSON.stringify(target.revision)} is listed twice (merge the entries)`);
    }
    seen.add(target.revision);
  }
  const total = out.reduce((sum, target) => sum + target.percent, 0);
  if (total !== 100) throw new ValidationError(`traffic: percents must sum to 100, got ${total}`);
  return out;
}

function parseTarget(entry: unknown, where: string): TrafficTarget {
  if (entry === null || typeof entry !== "object" || Array.isArray(entry)) {
    throw new ValidationError(`${where}: expected {revision, percent}`);
  }
  const { revision, percent, ...rest } = entry as Record<string, unknown>;
  const extra = Object.keys(rest)[0];
  if (extra !== undefined) throw new ValidationError(`${where}: unknown key ${JSON.stringify(extra)}`);
  if (typeof revision !== "string" || revision === "") {
    throw new ValidationError(`${where}.revision: expected a revision id`);
  }
  if (typeof percent !== "number" || !Number.isInteger(percent) || percent < 0 || percent > 100) {
    throw new ValidationError(`${where}.percent: expected a whole number from 0 to 100, got ${JSON.stringify(percent)}`);
  }
  return { revision, percent };
}

/** Throws ValidationError when a target names a revision the function does not have. */
export function checkTrafficRevisions(record: FunctionRecord, traffic: readonly TrafficTarget[]): void {
  const known = new Set(record.revisions.map((revision) => revision.id));
  for (const target of traffic) {
    if (!known.has(target.revision)) {
      const list = [...known].join(", ") || "none";
      throw new ValidationError(
        `traffic names revision ${JSON.stringify(target.revision)}, which function "${record.name}" does not have (revisions: ${list})`,
      );
    }
  }
}

/** The traffic of a deploy: 100% to `revision`, or `traffic` with LATEST_REVISION resolved to it. */
export function makeDeployTraffic(revision: string, traffic?: readonly TrafficTarget[]): TrafficTarget[] {
  if (traffic === undefined) return [{ revision, percent: 100 }];
  const resolved = traffic.map((target) => ({
    revision: target.revision === LATEST_REVISION ? revision : target.revision,
    percent: target.percent,
  }));
  return parseTraffic(resolved);
}

/** The revision a rollback routes to: `to` if given, else the one stored just before the current 100% target. */
export function pickRollbackTarget(record: FunctionRecord, to?: string): string {
  const ids = record.revisions.map((revision) => revision.id);
  if (to !== undefined) {
    if (!ids.includes(to)) throw new NotFoundError(`function "${record.name}" has no revision ${JSON.stringify(to)}`);
    return to;
  }
  const current = record.traffic.find((target) => target.percent === 100)?.revision;
  if (current === undefined) {
    const why = record.traffic.length === 0 ? "has no traffic yet" : "splits its traffic";
    throw new ConflictError(`function "${record.name}" ${why}; name the revision to roll back to`);
  }
  const index = ids.indexOf(current);
  if (index <= 0) throw new ConflictError(`function "${record.name}" has no revision before ${current} to roll back to`);
  return ids[index - 1]!;
}

/** Whether two traffic splits are the same, order included. */
export function sameTraffic(a: readonly TrafficTarget[], b: readonly TrafficTarget[]): boolean {
  return a.length === b.length && a.every((target, i) => target.revision === b[i]?.revision && target.percent === b[i]?.percent);
}
