import { parseVerbArgs } from "../args.ts";
import { UsageError } from "../errors.ts";
import type { Io } from "../io.ts";
import { connectPlatform, STATE_DIR_OPTION } from "../platform-client.ts";

const USAGE = "logs <fn> [-f|--follow] [--tail N] [--state-dir DIR]";

/** `skiff logs`: replica output of a function, each line tagged with its replica id; -f keeps following. */
export async function run(argv: string[], io: Io): Promise<number> {
  const { values, positionals } = parseVerbArgs(argv, { ...STATE_DIR_OPTION, follow: { type: "boolean", short: "f", default: false }, tail: { type: "string" } }, USAGE);
  if (positionals.length !== 1) throw new UsageError("expected one function name", USAGE);
  const tail = values.tail === undefined ? undefined : Number(values.tail);
  if (tail !== undefined && !(Number.isInteger(tail) && tail >= 0)) throw new UsageError(`--tail must be a whole number, got "${String(values.tail)}"`, USAGE);
  const { client } = await connectPlatform(values["state-dir"] as string | undefined);
  const stop = new AbortController();
  for (const signal of ["SIGINT", "SIGTERM"] as const) process.once(signal, () => stop.abort());
  try {
    for await (const line of client.logs(positionals[0]!, { follow: values.follow as boolean, ...(tail === undefined ? {} : { tail }), signal: stop.signal })) {
      io.out(values.json ? JSON.stringify({ line }) : line);
    }
  } catch (error) {
    if (!stop.signal.aborted) throw error;
  }
  return 0;
}
