// Errors of the builder. A BuildError's message is meant for users as-is: one clear line per
// problem, no stack, so the CLI can print it verbatim.

/** One problem esbuild (or the builder) reported, with its location when known. */
export interface BuildDiagnostic {
  /** Path relative to the function directory when inside it, else absolute (or esbuild's name). */
  file?: string;
  /** 1-based line. */
  line?: number;
  /** 1-based column. */
  column?: number;
  text: string;
}

/** A function could not be built: syntax or resolve errors, a missing entry or asset, I/O failure. */
export class BuildError extends Error {
  override readonly name = "BuildError";
  /** Structured form of the lines in `message` (empty when the error is not from esbuild). */
  readonly diagnostics: BuildDiagnostic[];

  constructor(message: string, options: { cause?: unknown; diagnostics?: BuildDiagnostic[] } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.diagnostics = options.diagnostics ?? [];
  }
}

/** Formats a diagnostic as `file:line:col: text` (or just the text when it has no location). */
export function formatDiagnostic(d: BuildDiagnostic): string {
  if (d.file === undefined) return d.text;
  if (d.line === undefined) return `${d.file}: ${d.text}`;
  return `${d.file}:${d.line}:${d.column ?? 1}: ${d.text}`;
}
