// The `skiff` command: dispatch to one module per verb, and turn errors into exit codes
// and one clear line (the stack only with --debug).
import { CliError, UsageError } from "./errors.ts";
import { processIo, type Io } from "./io.ts";

/** A verb: runs with its own argv and returns the exit code. */
export type Verb = (argv: string[], io: Io) => Promise<number>;

const VERBS: Record<string, { summary: string; load: () => Promise<Verb> }> = {
  init: { summary: "init <dir> [--template http|event|model]   new function from a template", load: async () => (await import("./commands/init.ts")).run },
  build: { summary: "build [dir] [--image REF [--push] [--base B]] bundle; with --image an OCI image (host node base), --push to a registry", load: async () => (await import("./commands/build.ts")).run },
  dev: { summary: "dev [dir] [--port N]                       run one function, rebuild and restart on change", load: async () => (await import("./commands/dev.ts")).run },
  invoke: { summary: "invoke <fn|url> [--path P] [--data JSON|@file] [--event --type T --source S]", load: async () => (await import("./commands/invoke.ts")).run },
  up: { summary: "up [--state-dir DIR] [--port 8080]             run the local platform in the foreground", load: async () => (await import("./commands/up.ts")).run },
  deploy: { summary: "deploy [dir] [--traffic @latest=N,REV=M]    build, upload and route to a new revision", load: async () => (await import("./commands/deploy.ts")).run },
  list: { summary: "list                                       deployed functions", load: async () => (await import("./commands/list.ts")).run },
  describe: { summary: "describe <fn>                              revisions, replicas, scale decisions", load: async () => (await import("./commands/describe.ts")).run },
  logs: { summary: "logs <fn> [-f] [--tail N]                  replica output, tagged by replica", load: async () => (await import("./commands/logs.ts")).run },
  delete: { summary: "delete <fn>                                drain and remove a function", load: async () => (await import("./commands/delete.ts")).run },
  rollback: { summary: "rollback <fn> [--to REV]                   route back to the previous revision", load: async () => (await import("./commands/rollback.ts")).run },
  traffic: { summary: "traffic <fn> REV=N,REV=M                   split traffic across revisions", load: async () => (await import("./commands/traffic.ts")).run },
  publish: { summary: "publish <subject> --type T [--source S] [--data JSON|@file]  publish a CloudEvent", load: async () => (await import("./commands/publish.ts")).run },
  events: { summary: "events tail <subject> [--count N]          print CloudEvents arriving on a subject", load: async () => (await import("./commands/events.ts")).run },
  kube: { summary: "kube controller|gateway [--namespace NS]   run the Kubernetes controller or gateway (in-cluster)", load: async () => (await import("./commands/kube.ts")).run },
  dlq: { summary: "dlq list|redrive <fn> [--limit N]          inspect and replay dead letters", load: async () => (await import("./commands/dlq.ts")).run },
};

/** Top-level usage text. */
export function usage(): string {
  return ["usage: skiff <command> [options]", "", ...Object.values(VERBS).map((v) => `  skiff ${v.summary}`), "", "Every command takes --json and --debug."].join("\n");
}

/** Runs the CLI with argv (without node and script) and returns the exit code. */
export async function main(argv: string[], io: Io = processIo): Promise<number> {
  const [verbName, ...rest] = argv;
  const debug = argv.includes("--debug");
  if (!verbName || verbName === "--help" || verbName === "-h" || verbName === "help") {
    io.out(usage());
    return verbName ? 0 : 2;
  }
  const verb = VERBS[verbName];
  if (!verb) {
    io.err(`skiff: unknown command "${verbName}" (run "skiff --help" for the list)`);
    return 2;
  }
  try {
    return await (await verb.load())(rest, io);
  } catch (error) {
    return reportError(error, io, debug, verbName);
  }
}

function reportError(error: unknown, io: Io, debug: boolean, verbName: string): number {
  if (error instanceof UsageError) {
    io.err(`skiff ${verbName}: ${error.message}`);
    if (error.usage) io.err(`usage: skiff ${error.usage}`);
    return 2;
  }
  const message = error instanceof Error ? error.message : String(error);
  io.err(`skiff ${verbName}: ${message}`);
  if (debug && error instanceof Error) io.err(error.stack ?? "");
  else if (!(error instanceof CliError) && !isKnownUserError(error)) io.err("(run with --debug for the stack)");
  return 1;
}

/** Errors from our own folders that already carry a clear message. */
function isKnownUserError(error: unknown): boolean {
  const name = (error as { name?: string } | null)?.name ?? "";
  return ["SpecError", "BuildError", "ControlApiError"].includes(name);
}
