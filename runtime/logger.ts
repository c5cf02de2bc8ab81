import type { Logger } from "./types.ts";

const LEVELS = { debug: 10, info: 20, warn: 30, error: 40 } as const;
type Level = keyof typeof LEVELS;

/** Writes one line per record, `<time> <LEVEL> <msg> key=value...`, readable in `skiff logs` and greppable. */
export function makeLogger(options: {
  level?: string;
  fields?: Record<string, unknown>;
  write?: (line: string) => void;
}): Logger {
  const min = LEVELS[(options.level ?? "info").toLowerCase() as Level] ?? LEVELS.info;
  const write = options.write ?? ((line: string) => process.stdout.write(line));
  const base = options.fields ?? {};
  // Under the platform each line is stamped when captured; a second timestamp is noise.
  const stamp = process.env.SKIFF_LOG_TIME === "0" ? () => "" : () => `${new Date().toISOString()} `;
  const log = (level: Level, msg: string, fields?: Record<string, unknown>) => {
    if (LEVELS[level] < min) return;
    const all = fields ? { ...base, ...fields } : base;
    write(`${stamp()}${level.toUpperCase().padEnd(5)} ${msg}${formatFields(all)}\n${formatStacks(all)}`);
  };
  return {
    debug: (m, f) => log("debug", m, f),
    info: (m, f) => log("info", m, f),
    warn: (m, f) => log("warn", m, f),
    error: (m, f) => log("error", m, f),
    child: (fields) => makeLogger({ ...options, fields: { ...base, ...fields } }),
  };
}

/** logfmt-style fields; values with spaces or quotes are JSON-quoted so a line stays parseable. */
export function formatFields(fields: Record<string, unknown>): string {
  let out = "";
  for (const [key, value] of Object.entries(fields)) {
    if (value === undefined) continue;
    const text = value instanceof Error ? value.message : typeof value === "string" ? value : JSON.stringify(value);
    out += ` ${key}=${/[\s"=]/.test(text) || text === "" ? JSON.stringify(text) : text}`;
  }
  return out;
}

/** Stacks of Error fields, indented on their own lines after the record so they stay readable. */
function formatStacks(fields: Record<string, unknown>): string {
  let out = "";
  for (const value of Object.values(fields)) {
    if (value instanceof Error && value.stack) out += value.stack.replace(/^/gm, "    ") + "\n";
  }
  return out;
}
