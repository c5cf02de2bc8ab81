import { readFilesFromDir } from "../../controller/api/index.ts";
import { parseTrafficText } from "../traffic-text.ts";
import { parseVerbArgs } from "../args.ts";
import { loadAndBuild } from "../build-function.ts";
import { UsageError } from "../errors.ts";
import { report, type Io } from "../io.ts";
import { connectPlatform, STATE_DIR_OPTION } from "../platform-client.ts";

const USAGE = "deploy [dir] [--traffic @latest=10,<revision>=90] [--isolation process|container] [--state-dir DIR]";

/** Isolations a deploy may ask for: child processes (the default), or runc containers (needs root and runc). */
const ISOLATIONS = ["process", "container"] as const;

/** `skiff deploy`: builds the function, uploads it as a new revision, and prints its URL once it is ready. */
export async function run(argv: string[], io: Io): Promise<number> {
  const { values, positionals } = parseVerbArgs(argv, { ...STATE_DIR_OPTION, traffic: { type: "string" }, isolation: { type: "string", default: "process" } }, USAGE);
  if (positionals.length > 1) throw new UsageError("expected at most one directory", USAGE);
  const isolation = parseIsolation(values.isolation as string);
  const traffic = values.traffic === undefined ? undefined : parseTrafficFlag(values.traffic as string);
  const { client } = await connectPlatform(values["state-dir"] as string | undefined);
  const build = await loadAndBuild(positionals[0] ?? ".");
  const files = await readFilesFromDir(build.outDir);
  const result = await client.deploy(build.spec.name, { spec: build.spec, files, isolation, ...(traffic ? { traffic } : {}) });
  report(io, values.json as boolean, result, `${result.created ? "created" : "updated"} ${build.spec.name}: revision ${result.revision.id} is ready\n${result.url}`);
  return 0;
}

function parseIsolation(text: string): (typeof ISOLATIONS)[number] {
  const isolation = ISOLATIONS.find((i) => i === text);
  if (!isolation) throw new UsageError(`--isolation must be ${ISOLATIONS.join(" or ")}, got ${JSON.stringify(text)}`, USAGE);
  return isolation;
}

function parseTrafficFlag(text: string) {
  try {
    return parseTrafficText(text);
  } catch (error) {
    throw new UsageError(`--traffic: ${(error as Error).message}`, USAGE);
  }
}
