import { watch } from "node:fs";
import { stat } from "node:fs/promises";
import { join, relative, resolve, sep } from "node:path";
import { parsePort, parseVerbArgs } from "../args.ts";
import { loadAndBuild } from "../build-function.ts";
import { startDevReplica, type DevReplica } from "../dev-replica.ts";
import { CliError, UsageError } from "../errors.ts";
import { loadFunctionSpec, SPEC_FILE_NAMES } from "../../spec/index.ts";
import type { Io } from "../io.ts";

const USAGE = "dev [dir] [--port N] [--host H]";
/** Paths whose changes never need a rebuild. */
const IGNORED = [".skiff", "node_modules", ".git"];

/** `skiff dev`: serves one function, rebuilding and restarting it on the same port on every change. */
export async function run(argv: string[], io: Io): Promise<number> {
  const { values, positionals } = parseVerbArgs(argv, { port: { type: "string" }, host: { type: "string", default: "127.0.0.1" } }, USAGE);
  if (positionals.length > 1) throw new UsageError("expected at most one directory", USAGE);
  const dir = resolve(positionals[0] ?? ".");
  if (!(await stat(dir).catch(() => undefined))?.isDirectory()) throw new CliError(`${dir} is not a directory`);
  const port = parsePort(values.port as string | undefined, "--port", 8080);
  // A missing function.yaml is not something saving index.ts fixes: fail now with the loader's message.
  const exists = await Promise.all(SPEC_FILE_NAMES.map((name) => stat(join(dir, name)).then(() => true, () => false)));
  if (!exists.includes(true)) await loadFunctionSpec(dir);
  const host = values.host as string;
  const say = (event: string, human: string, extra: Record<string, unknown> = {}) =>
    io.out(values.json ? JSON.stringify({ event, ...extra }) : `skiff dev: ${human}`);

  let current: DevReplica | undefined;
  const reload = async (why: string) => {
    const started = performance.now();
    let result;
    try {
      result = await loadAndBuild(dir);
    } catch (error) {
      const alive = current !== undefined && current.child.exitCode === null && current.child.signalCode === null;
      const serving = alive ? "still serving the last good build" : "nothing served yet; fix it and save to retry";
      say("build-failed", `build failed, ${serving}:\n${(error as Error).message}`, { error: (error as Error).message });
      return;
    }
    if (current && !result.rebuilt) return;
    await current?.stop();
    current = startDevReplica({ bundlePath: result.bundlePath, spec: result.spec, port, host, logsToStderr: values.json as boolean });
    try {
      await current.ready;
      const ms = Math.round(performance.now() - started);
      say("ready", `${result.spec.name} ${why === "start" ? "serving" : "reloaded"} at http://${host}:${port}/ (${ms}ms)`, { url: `http://${host}:${port}/`, name: result.spec.name, ms, why });
    } catch (error) {
      say("crashed", `${(error as Error).message}; fix the code and save to retry`, { error: (error as Error).message });
    }
  };

  const queue = makeSerialQueue(reload);
  queue.push("start");
  const watcher = watch(dir, { recursive: true }, (_event, file) => {
    if (file && !isIgnored(String(file))) queue.push(relative(dir, resolve(dir, String(file))));
  });
  await new Promise<void>((resolveStop) => {
    for (const signal of ["SIGINT", "SIGTERM"] as const) process.once(signal, () => resolveStop());
  });
  watcher.close();
  await queue.idle();
  await current?.stop();
  return 0;
}

function isIgnored(file: string): boolean {
  const first = file.split(sep)[0] ?? "";
  return IGNORED.includes(first);
}

/** Runs reloads one at a time; a burst of changes while one runs collapses into one more run. */
function makeSerialQueue(task: (why: string) => Promise<void>) {
  let running: Promise<void> | undefined;
  let pending: string | undefined;
  const drain = async () => {
    while (pending !== undefined) {
      const why = pending;
      pending = undefined;
      // A short settle time lets an editor's write-rename-chmod burst land as one change.
      if (why !== "start") await new Promise((r) => setTimeout(r, 25));
      await task(why);
    }
    running = undefined;
  };
  return {
    push(why: string) {
      pending = pending === "start" ? pending : why;
      running ??= drain();
    },
    idle: () => running ?? Promise.resolve(),
  };
}
