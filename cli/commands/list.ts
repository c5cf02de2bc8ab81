import { parseVerbArgs } from "../args.ts";
import { report, type Io } from "../io.ts";
import { connectPlatform, STATE_DIR_OPTION } from "../platform-client.ts";
import { formatTable } from "../table.ts";

const USAGE = "list [--state-dir DIR]";

/** `skiff list`: every deployed function with its URL, replicas and traffic. */
export async function run(argv: string[], io: Io): Promise<number> {
  const { values } = parseVerbArgs(argv, STATE_DIR_OPTION, USAGE);
  const { client } = await connectPlatform(values["state-dir"] as string | undefined);
  const functions = await client.list();
  const rows = functions.map((f) => [f.name, `${f.replicas.ready}/${f.replicas.desired}`, f.traffic.map((t) => `${t.revision}=${t.percent}%`).join(","), f.url]);
  report(io, values.json as boolean, functions, functions.length ? formatTable(["NAME", "READY", "TRAFFIC", "URL"], rows) : "no functions deployed (skiff deploy <dir>)");
  return 0;
}
