// `skiff logs`: the recent lines of a function from its log file (kept across platform
// restarts), then, with follow, lines as replicas print them.
import { readFile } from "node:fs/promises";
import { logFilePath } from "../backends/process/index.ts";
import { parseLogLine } from "../api/index.ts";
import type { LogLine } from "../types.ts";

/** Fans replica log lines out to followers of a function. */
export class LogHub {
  private readonly followers = new Map<string, Set<(line: LogLine) => void>>();

  /** Delivers a line to the function's followers. */
  publish(line: LogLine): void {
    for (const listener of this.followers.get(line.fn) ?? []) listener(line);
  }

  /** Follows a function's lines; returns an unsubscribe function. */
  subscribe(fn: string, listener: (line: LogLine) => void): () => void {
    let set = this.followers.get(fn);
    if (!set) this.followers.set(fn, (set = new Set()));
    set.add(listener);
    return () => set.delete(listener);
  }
}

/** The last `tail` lines (all when absent) of a function's log file; none when it has no file yet. */
export async function readLogTail(stateDir: string, fn: string, tail?: number): Promise<LogLine[]> {
  const text = await readFile(logFilePath(stateDir, fn), "utf8").catch((error: NodeJS.ErrnoException) => {
    if (error.code === "ENOENT") return "";
    throw error;
  });
  const lines = text.split("\n").filter((l) => l !== "");
  const kept = tail === undefined ? lines : lines.slice(Math.max(0, lines.length - tail));
  return kept.flatMap((raw) => {
    const parsed = parseLogLine(raw);
    return parsed ? [{ fn, stream: "stdout" as const, ...parsed }] : [];
  });
}

/** Recent lines, then (with follow) live ones until the signal aborts. */
export async function* streamLogs(
  hub: LogHub,
  stateDir: string,
  fn: string,
  options: { follow: boolean; tail?: number; signal: AbortSignal },
): AsyncGenerator<LogLine> {
  // Subscribe before reading the file so no line falls between the two.
  const pending: LogLine[] = [];
  let wake: (() => void) | undefined;
  const unsubscribe = options.follow
    ? hub.subscribe(fn, (line) => {
        pending.push(line);
        wake?.();
      })
    : () => {};
  try {
    const recent = await readLogTail(stateDir, fn, options.tail);
    const lastAtMs = recent.at(-1)?.atMs ?? -Infinity;
    yield* recent;
    if (!options.follow) return;
    // Lines already in the file arrived through the hub too; skip those not newer than the tail.
    const fresh = pending.splice(0).filter((l) => l.atMs > lastAtMs);
    yield* fresh;
    while (!options.signal.aborted) {
      if (pending.length === 0) {
        await new Promise<void>((resolve) => {
          wake = resolve;
          options.signal.addEventListener("abort", () => resolve(), { once: true });
        });
        wake = undefined;
      }
      yield* pending.splice(0);
    }
  } finally {
    unsubscribe();
  }
}
