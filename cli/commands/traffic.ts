import { parseVerbArgs } from "../args.ts";
import { UsageError } from "../errors.ts";
import { report, type Io } from "../io.ts";
import { connectPlatform, STATE_DIR_OPTION } from "../platform-client.ts";
import { parseTrafficText } from "../traffic-text.ts";

const USAGE = "traffic <fn> <revision>=<percent>[,...] [--state-dir DIR]";

/** `skiff traffic`: splits a function's requests across revisions by percent. */
export async function run(argv: string[], io: Io): Promise<number> {
  const { values, positionals } = parseVerbArgs(argv, STATE_DIR_OPTION, USAGE);
  if (positionals.length !== 2) throw new UsageError("expected a function name and a split like rev-a=90,rev-b=10", USAGE);
  let traffic;
  try {
    traffic = parseTrafficText(positionals[1]!);
  } catch (error) {
    throw new UsageError((error as Error).message, USAGE);
  }
  const { client } = await connectPlatform(values["state-dir"] as string | undefined);
  const summary = await client.setTraffic(positionals[0]!, traffic);
  report(io, values.json as boolean, summary, `${summary.name}: traffic ${summary.traffic.map((t) => `${t.revision}=${t.percent}%`).join(", ")}`);
  return 0;
}
