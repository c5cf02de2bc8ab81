// The text form of streamed logs: one line per log line, `<iso time> <replica> <text>`.
// Plain text so `curl` and `skiff logs` can print it as it arrives.
import type { LogLine } from "./types.ts";

/** A log line as text, ending in "\n"; a text with embedded newlines becomes several lines with the same prefix. */
export function formatLogLine(line: LogLine): string {
  const prefix = `${new Date(line.atMs).toISOString()} ${line.replica} `;
  return line.text.replace(/\r?\n$/, "").split(/\r?\n/).map((part) => `${prefix}${part}\n`).join("");
}

/** A parsed text log line. */
export interface ParsedLogLine {
  atMs: number;
  replica: string;
  text: string;
}

/** Parses one line produced by formatLogLine (without its "\n"); undefined when it does not have that shape. */
export function parseLogLine(line: string): ParsedLogLine | undefined {
  const match = /^(\S+) (\S+) (.*)$/s.exec(line);
  if (!match) return undefined;
  const atMs = Date.parse(match[1]!);
  return Number.isNaN(atMs) ? undefined : { atMs, replica: match[2]!, text: match[3]! };
}
