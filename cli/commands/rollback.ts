import { parseVerbArgs } from "../args.ts";
import { UsageError } from "../errors.ts";
import { report, type Io } from "../io.ts";
import { connectPlatform, STATE_DIR_OPTION } from "../platform-client.ts";

const USAGE = "rollback <fn> [--to REVISION] [--state-dir DIR]";

/** `skiff rollback`: routes all traffic back to the previous revision (or --to one). */
export async function run(argv: string[], io: Io): Promise<number> {
  const { values, positionals } = parseVerbArgs(argv, { ...STATE_DIR_OPTION, to: { type: "string" } }, USAGE);
  if (positionals.length !== 1) throw new UsageError("expected one function name", USAGE);
  const { client } = await connectPlatform(values["state-dir"] as string | undefined);
  const summary = await client.rollback(positionals[0]!, values.to as string | undefined);
  report(io, values.json as boolean, summary, `${summary.name}: traffic ${summary.traffic.map((t) => `${t.revision}=${t.percent}%`).join(", ")}`);
  return 0;
}
