import { parseVerbArgs } from "../args.ts";
import { UsageError } from "../errors.ts";
import { report, type Io } from "../io.ts";
import { connectPlatform, STATE_DIR_OPTION } from "../platform-client.ts";

const USAGE = "delete <fn> [--state-dir DIR]";

/** `skiff delete`: drains a function's replicas and removes it with its revisions. */
export async function run(argv: string[], io: Io): Promise<number> {
  const { values, positionals } = parseVerbArgs(argv, STATE_DIR_OPTION, USAGE);
  if (positionals.length !== 1) throw new UsageError("expected one function name", USAGE);
  const { client } = await connectPlatform(values["state-dir"] as string | undefined);
  await client.delete(positionals[0]!);
  report(io, values.json as boolean, { name: positionals[0], deleted: true }, `deleted ${positionals[0]}`);
  return 0;
}
