// Replica output: bytes to lines (partial lines held until their newline), and the runtime's
// "listening" record, from which a replica started with PORT=0 tells us its port.
import { StringDecoder } from "node:string_decoder";

/** Longest line kept in memory; a longer one is cut and emitted in pieces. */
export const MAX_LINE_CHARS = 64 * 1024;

/** Turns chunks into lines; `end` flushes a final line that had no newline. */
export interface LineSplitter {
  push(chunk: Buffer | string): void;
  end(): void;
}

/** Makes a splitter calling `onLine` with each line, without its `\n` (or `\r\n`). */
export function makeLineSplitter(onLine: (text: string) => void, maxLineChars = MAX_LINE_CHARS): LineSplitter {
  // The decoder keeps a multi-byte character split across chunks intact.
  const decoder = new StringDecoder("utf8");
  let pending = "";
  const emit = (line: string) => onLine(line.endsWith("\r") ? line.slice(0, -1) : line);
  const consume = (text: string) => {
    pending += text;
    let newline = pending.indexOf("\n");
    while (newline !== -1) {
      emit(pending.slice(0, newline));
      pending = pending.slice(newline + 1);
      newline = pending.indexOf("\n");
    }
    // A process printing without newlines must not grow our memory without bound.
    while (pending.length > maxLineChars) {
      emit(pending.slice(0, maxLineChars));
      pending = pending.slice(maxLineChars);
    }
  };
  return {
    push: (chunk) => consume(typeof chunk === "string" ? chunk : decoder.write(chunk)),
    end: () => {
      consume(decoder.end());
      if (pending !== "") emit(pending);
      pending = "";
    },
  };
}

// The runtime logger's record: `[<iso time> ]INFO  listening fn=<name> port=<n>` (runtime/server.ts;
// the time is left out when the platform sets SKIFF_LOG_TIME=0).
const LISTENING = /^(?:\S+ )?INFO +listening\b.*\bport=(\d+)\b/;

/** The port of a runtime "listening" record, or undefined for any other line. */
export function parseListeningPort(line: string): number | undefined {
  const match = LISTENING.exec(line);
  const port = match ? Number(match[1]) : NaN;
  return Number.isInteger(port) && port > 0 && port < 65536 ? port : undefined;
}

/**
 * Whether the runtime will print its "listening" record at this LOG_LEVEL. It logs at info, so
 * warn and error hide it; the runtime treats unknown levels as info.
 */
export function reportsListeningPort(logLevel: string | undefined): boolean {
  const level = (logLevel ?? "info").toLowerCase();
  return level !== "warn" && level !== "error";
}
