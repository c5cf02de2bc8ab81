// Output helpers shared by every verb: human text by default, one JSON document with --json.

/** Where a command writes; injected so tests can capture it. */
export interface Io {
  out(text: string): void;
  err(text: string): void;
}

/** Writes to the process's stdout and stderr. */
export const processIo: Io = {
  out: (text) => process.stdout.write(text.endsWith("\n") ? text : `${text}\n`),
  err: (text) => process.stderr.write(text.endsWith("\n") ? text : `${text}\n`),
};

/** Prints `value` as JSON when json is set, else the human text. */
export function report(io: Io, json: boolean, value: unknown, human: string): void {
  io.out(json ? JSON.stringify(value, null, 2) : human);
}

/** Bytes for humans: 1.2 MB, 340 KB, 12 B (decimal units, as registries report sizes). */
export function formatBytes(bytes: number): string {
  if (bytes >= 1e6) return `${(bytes / 1e6).toFixed(1)} MB`;
  if (bytes >= 1e3) return `${Math.round(bytes / 1e3)} KB`;
  return `${bytes} B`;
}
