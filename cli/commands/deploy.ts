import { readFilesFromDir } from "../../controller/api/index.ts";
import { parseTrafficText } from "../traffic-text.ts";
import { parseVerbArgs } from "../args.ts";
import { loadAndBuild } from "../build-function.ts";
import { UsageError } from "../errors.ts";
import { report, type Io } from "../io.ts";
import { KUBE_OPTIONS } from "../kube-config.ts";
import { connectPlatform, STATE_DIR_OPTION } from "../platform-client.ts";
import { tryParseDuration } from "../../spec/index.ts";
import { deployToKube } from "./deploy-kube.ts";

const USAGE =
  "deploy [dir] [--traffic @latest=10,<revision>=90] [--isolation process|container] [--state-dir DIR] | " +
  "deploy [dir] --kube --image REGISTRY/REPO[:TAG] [--base REF] [--insecure-registry] [--namespace NS] [--context C] [--kubeconfig F] [--timeout 120s]";

/** Isolations a deploy may ask for: child processes (the default), or runc containers (needs root and runc). */
const ISOLATIONS = ["process", "container"] as const;

/** `skiff deploy`: builds the function, uploads it as a new revision, and prints its URL once it is ready. */
export async function run(argv: string[], io: Io): Promise<number> {
  const { values, positionals } = parseVerbArgs(argv, {
    ...STATE_DIR_OPTION, traffic: { type: "string" }, isolation: { type: "string", default: "process" },
    kube: { type: "boolean", default: false }, image: { type: "string" }, base: { type: "string" }, "insecure-registry": { type: "boolean", default: false },
    namespace: { type: "string" }, timeout: { type: "string", default: "120s" }, ...KUBE_OPTIONS,
  }, USAGE);
  if (positionals.length > 1) throw new UsageError("expected at most one directory", USAGE);
  if (values.kube) {
    if (values.traffic !== undefined || values.isolation !== "process") throw new UsageError("--traffic and --isolation apply to the local platform, not --kube", USAGE);
    return deployToKube({
      dir: positionals[0] ?? ".",
      image: values.image as string | undefined,
      base: values.base as string | undefined,
      insecure: values["insecure-registry"] as boolean,
      namespace: values.namespace as string | undefined,
      kubeconfig: values.kubeconfig as string | undefined,
      context: values.context as string | undefined,
      timeoutMs: parseTimeout(values.timeout as string),
      json: values.json as boolean,
    }, io, USAGE);
  }
  for (const flag of ["image", "base", "namespace", "kubeconfig", "context"] as const) {
    if (values[flag] !== undefined) throw new UsageError(`--${flag} needs --kube`, USAGE);
  }
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

function parseTimeout(text: string): number {
  const ms = tryParseDuration(text);
  if (ms === undefined || ms <= 0) throw new UsageError(`--timeout must be a duration such as 120s or 5m, got ${JSON.stringify(text)}`, USAGE);
  return ms;
}

function parseTrafficFlag(text: string) {
  try {
    return parseTrafficText(text);
  } catch (error) {
    throw new UsageError(`--traffic: ${(error as Error).message}`, USAGE);
  }
}
