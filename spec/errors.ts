/** One problem found in a function.yaml (or a value validated against its schema). */
export interface SpecIssue {
  /** Field path such as `scale.max` or `events[0].reply`; `(yaml)` for syntax errors, `(root)` for the document. */
  path: string;
  /** What was expected and what was got, e.g. `expected a boolean, got "yes"`. */
  message: string;
  /** 1-based line in the source, when the issue came from YAML text. */
  line?: number;
  /** 1-based column in the source, when the issue came from YAML text. */
  column?: number;
}

/** Options of SpecError: the file label used in the message, and the underlying error. */
export interface SpecErrorOptions {
  file?: string;
  cause?: unknown;
}

/**
 * A function.yaml (or a unit string) is invalid. `message` lists every issue, one per line,
 * sorted by position, as `<file>:<line>:<col>: <path>: <message>`, so a CLI can print it as is.
 */
export class SpecError extends Error {
  override name = "SpecError";
  /** Every issue found, sorted by line then column (issues without a position last). */
  readonly issues: SpecIssue[];
  /** The file label the message uses, if any. */
  readonly file: string | undefined;

  constructor(issues: SpecIssue[], options: SpecErrorOptions = {}) {
    const sorted = sortIssues(issues);
    super(sorted.map((issue) => formatIssue(issue, options.file)).join("\n"), { cause: options.cause });
    this.issues = sorted;
    this.file = options.file;
  }
}

/** Formats one issue as `<file>:<line>:<col>: <path>: <message>`, leaving out the parts it lacks. */
export function formatIssue(issue: SpecIssue, file?: string): string {
  let where = file ?? "";
  if (issue.line !== undefined) {
    const at = `${issue.line}:${issue.column ?? 1}`;
    where = where ? `${where}:${at}` : at;
  }
  const parts = [where, issue.path].filter((part) => part !== "");
  return [...parts, issue.message].join(": ");
}

/** Sorts by position; a stable sort keeps the schema's field order for issues on the same spot. */
export function sortIssues(issues: readonly SpecIssue[]): SpecIssue[] {
  const key = (issue: SpecIssue): [number, number] => [
    issue.line ?? Number.MAX_SAFE_INTEGER,
    issue.column ?? 0,
  ];
  return [...issues].sort((a, b) => {
    const [la, ca] = key(a);
    const [lb, cb] = key(b);
    return la - lb || ca - cb;
  });
}
