import { readFilesFromDir } from "../../controller/api/index.ts";
import { parseTrafficText } from "../traffic-text.ts";
import { parseVerbArgs } from "../args.ts";
import { loadAndBuild } from "../build-function.ts";
import { UsageError } from "../errors.ts";
import { report, type Io } from "../io.ts";
import { connectPlatform, STATE_DIR_OPTION } from "../platform-client.ts";

const USAGE = "deploy [dir] [--traffic @latest=10,<revision>=90] [--state-dir DIR]";

/** `skiff deploy`: builds the function, uploads it as a new revision, and prints its URL once it is ready. */
export async function run(argv: string[], io: Io): Promise<number> {
  const { values, positionals } = parseVerbArgs(argv, { ...STATE_DIR_OPTION, traffic: { type: "string" }, isolation: { type: "string", default: "process" } }, USAGE);
  if (positionals.length > 1) throw new UsageError("expected at most one directory", USAGE);
  if (values.isolation !== "process") throw new UsageError(`--isolation ${String(values.isolation)} is not available yet; only "process" replicas run today`, USAGE);
  const traffic = values.traffic === undefined ? undefined : parseTrafficFlag(values.traffic as string);
  const { client } = await connectPlatform(values["state-dir"] as string | undefined);
  const build = await loadAndBuild(positionals[0] ?? ".");
  const files = await readFilesFromDir(build.outDir);
  const result = await client.deploy(build.spec.name, { spec: build.spec, files, ...(traffic ? { traffic } : {}) });
  report(io, values.json as boolean, result, `${result.created ? "created" : "updated"} ${build.spec.name}: revision ${result.revision.id} is ready\n${result.url}`);
  return 0;
}

function parseTrafficFlag(text: string) {
  try {
    return parseTrafficText(text);
  } catch (error) {
    throw new UsageError(`--traffic: ${(error as Error).message}`, USAGE);
  }
}
