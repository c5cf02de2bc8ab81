// Persistent replica logs: one append-only file per function under `<stateDir>/logs/`, so
// `skiff logs <fn>` reads output of replicas from earlier platform runs too.
import { createWriteStream, mkdirSync, type WriteStream } from "node:fs";
import { join } from "node:path";
import { formatLogLine } from "../../log-format.ts";
import type { LogLine } from "../../types.ts";
import { LogFileError } from "./errors.ts";

/** Appends replica log lines to per-function files. */
export interface LogFiles {
  append(line: LogLine): void;
  /** Flushes and closes every file. */
  close(): Promise<void>;
}

/** Path of a function's log file inside a state dir. */
export function logFilePath(stateDir: string, fn: string): string {
  return join(stateDir, "logs", `${fn}.log`);
}

/** One line of a log file: `<iso time> <replica id> <text>` (the same text form the control API streams). */
export const formatLogFileLine = formatLogLine;

/** Opens files lazily per function; write errors go to `onError` once per file, never thrown. */
export function startLogFiles(stateDir: string, onError: (error: LogFileError) => void): LogFiles {
  // undefined marks a file that failed to open: reported once, not retried for every line.
  const streams = new Map<string, WriteStream | undefined>();
  const open = (fn: string): WriteStream => {
    const path = logFilePath(stateDir, fn);
    mkdirSync(join(stateDir, "logs"), { recursive: true });
    const stream = createWriteStream(path, { flags: "a" });
    stream.once("error", (cause) => onError(new LogFileError(path, { cause })));
    streams.set(fn, stream);
    return stream;
  };
  let closed = false;
  return {
    append(line) {
      // Late lines after close would reopen a file nobody closes again.
      if (closed) return;
      if (!streams.has(line.fn)) streams.set(line.fn, tryOpen(open, line.fn, stateDir, onError));
      const stream = streams.get(line.fn);
      if (stream && !stream.destroyed) stream.write(formatLogFileLine(line));
    },
    async close() {
      closed = true;
      const all = [...streams.values()].filter((s): s is WriteStream => s !== undefined);
      streams.clear();
      await Promise.all(all.map((s) => new Promise<void>((resolve) => (s.destroyed ? resolve() : s.end(resolve)))));
    },
  };
}

function tryOpen(open: (fn: string) => WriteStream, fn: string, stateDir: string, onError: (e: LogFileError) => void) {
  try {
    return open(fn);
  } catch (cause) {
    onError(new LogFileError(logFilePath(stateDir, fn), { cause }));
    return undefined;
  }
}
