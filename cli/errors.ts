// CLI errors: each carries its exit code (DESIGN: 0 ok, 1 failure, 2 usage).

/** The command line itself is wrong (exit 2). */
export class UsageError extends Error {
  readonly exitCode = 2;
  constructor(message: string, readonly usage?: string) {
    super(message);
    this.name = "UsageError";
  }
}

/** The command ran and failed for a reason the user can act on (exit 1, one clear line). */
export class CliError extends Error {
  readonly exitCode = 1;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "CliError";
  }
}
