// An in-memory PlatformOps for the API's tests: just enough state to check the HTTP
// mapping, plus hooks to emit log lines and observe followers.
import { createHash } from "node:crypto";
import { LATEST_REVISION, NotFoundError, ValidationError } from "../../store/index.ts";
import type { LogLine, Revision } from "../../types.ts";
import type { DeadLetterSummary, DeployInput, FunctionDescription, FunctionSummary, LogsOptions, PlatformOps, TrafficTarget } from "../types.ts";

interface Fn {
  revisions: Revision[];
  traffic: TrafficTarget[];
  latest: string;
}

/** PlatformOps over maps, with test hooks. */
export interface MemoryOps extends PlatformOps {
  /** Every deploy input received, in order. */
  deploys: DeployInput[];
  /** Appends a log line and wakes followers. */
  emit(fn: string, text: string): void;
  /** Follow streams currently open (they must close when the client goes away). */
  followers(): number;
  /** Resolves when the number of open followers satisfies `test`. */
  waitFollowers(test: (n: number) => boolean): Promise<void>;
  /** Dead letters per function, oldest first (a redrive removes those it replays). */
  deadLetters: Map<string, DeadLetterSummary[]>;
  /** Sequences whose redrive fails (they stay). */
  failRedrive: Set<number>;
}

/** A fresh in-memory platform. */
export function makeMemoryOps(): MemoryOps {
  const fns = new Map<string, Fn>();
  const logs: LogLine[] = [];
  let wake = new Set<() => void>();
  let open = 0;
  const summary = (name: string, fn: Fn): FunctionSummary => ({
    name, url: `http://gw/fn/${name}/`, latestRevision: fn.latest, traffic: fn.traffic,
    replicas: { ready: 1, desired: 1 }, createdAtMs: 1, updatedAtMs: 2,
  });
  const need = (name: string): Fn => {
    const fn = fns.get(name);
    if (!fn) throw new NotFoundError(`function "${name}" not found`);
    return fn;
  };
  const notify = () => {
    const waiting = wake;
    wake = new Set();
    for (const resolve of waiting) resolve();
  };
  const changed = () => new Promise<void>((resolve) => wake.add(resolve));
  return {
    deploys: [],
    async deploy(input) {
      this.deploys.push(input);
      const hash = createHash("sha256");
      for (const [path, content] of [...input.files].sort()) hash.update(path).update(content);
      const contentHash = hash.digest("hex");
      const revision: Revision = { id: `${input.name}-${contentHash.slice(0, 12)}`, fn: input.name, spec: input.spec, bundleDir: "/mem", contentHash, createdAtMs: 1 };
      const created = !fns.has(input.name);
      const fn = fns.get(input.name) ?? { revisions: [], traffic: [], latest: revision.id };
      if (!fn.revisions.some((r) => r.id === revision.id)) fn.revisions.push(revision);
      fn.latest = revision.id;
      fn.traffic = (input.traffic ?? [{ revision: LATEST_REVISION, percent: 100 }]).map((t) => ({ ...t, revision: t.revision === LATEST_REVISION ? revision.id : t.revision }));
      fns.set(input.name, fn);
      return { revision, url: `http://gw/fn/${input.name}/`, created };
    },
    list: async () => [...fns].sort(([a], [b]) => a.localeCompare(b)).map(([name, fn]) => summary(name, fn)),
    async describe(name): Promise<FunctionDescription | undefined> {
      const fn = fns.get(name);
      if (!fn) return undefined;
      const percent = (id: string) => fn.traffic.find((t) => t.revision === id)?.percent ?? 0;
      return {
        ...summary(name, fn), generation: 1, spec: fn.revisions.at(-1)!.spec,
        revisions: fn.revisions.map((r) => ({ id: r.id, contentHash: r.contentHash, createdAtMs: r.createdAtMs, percent: percent(r.id) })),
        replicas: { ready: 1, desired: 1, list: [] }, scaleEvents: [], coldStarts: [],
      };
    },
    delete: async (name) => fns.delete(name),
    async rollback(name, to) {
      const fn = need(name);
      const target = to ?? fn.revisions.at(-2)?.id;
      if (!target || !fn.revisions.some((r) => r.id === target)) throw new NotFoundError(`no revision ${String(to)} of "${name}"`);
      fn.traffic = [{ revision: target, percent: 100 }];
      return summary(name, fn);
    },
    async setTraffic(name, traffic) {
      const fn = need(name);
      const unknown = traffic.find((t) => !fn.revisions.some((r) => r.id === t.revision));
      if (unknown) throw new ValidationError(`traffic names revision "${unknown.revision}", which function "${name}" does not have`);
      fn.traffic = traffic;
      return summary(name, fn);
    },
    async logs(name, options: LogsOptions) {
      need(name);
      return (async function* () {
        const mine = () => logs.filter((line) => line.fn === name);
        let sent = Math.max(0, mine().length - (options.tail ?? Number.MAX_SAFE_INTEGER));
        open++;
        notify();
        const aborted = new Promise<void>((resolve) => options.signal.addEventListener("abort", () => resolve(), { once: true }));
        try {
          for (;;) {
            const lines = mine();
            while (sent < lines.length) yield lines[sent++]!;
            if (!options.follow || options.signal.aborted) return;
            await Promise.race([changed(), aborted]);
          }
        } finally {
          open--;
          notify();
        }
      })();
    },
    emit(fn, text) {
      logs.push({ fn, replica: `${fn}-r1`, stream: "stdout", atMs: Date.UTC(2025, 0, 1) + logs.length, text });
      notify();
    },
    deadLetters: new Map(),
    failRedrive: new Set(),
    async dlqList(name, options) {
      need(name);
      return (this.deadLetters.get(name) ?? []).slice(0, options.limit);
    },
    async dlqRedrive(name) {
      need(name);
      const all = this.deadLetters.get(name) ?? [];
      const kept = all.filter((letter) => this.failRedrive.has(letter.seq));
      this.deadLetters.set(name, kept);
      return { redriven: all.length - kept.length, failed: kept.length, remaining: kept.length };
    },
    followers: () => open,
    async waitFollowers(test) {
      while (!test(open)) await changed();
    },
  };
}
