// nats-server's log output into the platform logger. Pure parsing plus a small sink: the
// startup banner (twenty-odd INF lines on every start) is kept out of the platform log, but
// the last lines are always remembered so a failed start or a crash can show them.

/** Where the nats-server supervisor writes (the platform logger is one). */
export interface NatsLogger {
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
}

/** A level of a nats-server log line, mapped onto the logger's three. */
export type NatsLogLevel = "info" | "warn" | "error";

/** One parsed nats-server log line. */
export interface NatsLogLine {
  level: NatsLogLevel;
  text: string;
}

// `[pid] 2024/01/02 15:04:05.000000 [INF] text` (the pid and time are dropped: the logger has its own).
const LINE = /^\[\d+\] \d{4}\/\d{2}\/\d{2} \d{2}:\d{2}:\d{2}\.\d+ \[([A-Z]{3})\] ?(.*)$/;
const LEVELS: Record<string, NatsLogLevel> = { INF: "info", DBG: "info", TRC: "info", WRN: "warn", ERR: "error", FTL: "error" };

/** Parses a nats-server log line; lines in another shape are kept whole at info. */
export function parseNatsLogLine(line: string): NatsLogLine {
  const match = LINE.exec(line);
  if (!match) return { level: "info", text: line };
  return { level: LEVELS[match[1]!] ?? "info", text: match[2]! };
}

/** Receives a server's output chunks, forwards lines to the logger and keeps the last ones. */
export interface OutputSink {
  /** Feeds a chunk of stdout or stderr. */
  write(chunk: string): void;
  /** The last lines seen (at most `keep`), for error messages. */
  tail(): string;
  /** Called at each (re)start: the next banner is quiet again. */
  restarted(): void;
}

/** A sink that logs warnings and errors always and info lines once the server is ready. */
export function makeOutputSink(logger: NatsLogger, keep = 20): OutputSink {
  const last: string[] = [];
  let pending = "";
  let ready = false;
  const line = (raw: string) => {
    if (raw.trim() === "") return;
    last.push(raw);
    if (last.length > keep) last.shift();
    const { level, text } = parseNatsLogLine(raw);
    if (text === "Server is ready") ready = true;
    else if (level !== "info" || ready) logger[level](`nats-server: ${text}`);
  };
  return {
    write(chunk) {
      const lines = (pending + chunk).split("\n");
      pending = lines.pop()!;
      lines.forEach(line);
    },
    tail: () => [...last, ...(pending ? [pending] : [])].join("\n"),
    restarted: () => {
      ready = false;
    },
  };
}
