import { makeControlClient, readFilesFromDir } from "../../controller/api/index.ts";
import { startPlatform } from "../../controller/platform/index.ts";
import { loadAndBuild } from "../build-function.ts";
import { resolveStateDir } from "../../controller/platform/index.ts";
import { makeLogger } from "../../runtime/index.ts";
import { parsePort, parseVerbArgs } from "../args.ts";
import { CliError, UsageError } from "../errors.ts";
import type { Io } from "../io.ts";
import { STATE_DIR_OPTION } from "../platform-client.ts";

const USAGE = "up [--state-dir DIR] [--port 8080] [--host 127.0.0.1] [--nats URL] [--deploy DIR]...";

/** `skiff up`: runs the local platform in the foreground until SIGINT or SIGTERM. */
export async function run(argv: string[], io: Io): Promise<number> {
  const { values, positionals } = parseVerbArgs(argv, { ...STATE_DIR_OPTION, port: { type: "string" }, host: { type: "string", default: "127.0.0.1" }, "api-port": { type: "string" }, nats: { type: "string" }, deploy: { type: "string", multiple: true, default: [] } }, USAGE);
  if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}"`, USAGE);
  const stateDir = resolveStateDir(values["state-dir"] as string | undefined);
  const logger = makeLogger({ level: process.env.LOG_LEVEL ?? "info", fields: {} });
  const platform = await startPlatform({
    stateDir,
    host: values.host as string,
    port: parsePort(values.port as string | undefined, "--port", 8080),
    apiPort: parsePort(values["api-port"] as string | undefined, "--api-port", 0),
    ...(values.nats ? { natsUrl: values.nats as string } : {}),
    logger,
  }).catch((error: Error & { code?: string }) => {
    if (error.code === "EADDRINUSE") throw new CliError(`port in use: ${error.message.replace(/^listen /, "")} (pick another with --port)`);
    throw new CliError(error.message, { cause: error });
  });
  const ready = { event: "up", gateway: platform.gatewayUrl, api: platform.apiUrl, nats: platform.natsUrl, stateDir };
  io.out(values.json ? JSON.stringify(ready) : `skiff up: gateway ${platform.gatewayUrl}/fn/<name>/, control API ${platform.apiUrl}, NATS ${platform.natsUrl}, state in ${stateDir}\nskiff up: deploy with "skiff deploy <dir>"; Ctrl-C stops (replicas drain first)`);
  const stopped = new Promise<void>((resolve) => {
    for (const signal of ["SIGINT", "SIGTERM"] as const) process.once(signal, () => resolve());
  });
  await deployAll(values.deploy as string[], platform, io, values.json as boolean);
  await stopped;
  io.err("skiff up: stopping: draining replicas");
  await platform.stop();
  return 0;
}

/** `--deploy DIR`: builds and deploys functions once the platform is up, as `skiff deploy` would. */
async function deployAll(dirs: string[], platform: { apiUrl: string; token: string }, io: Io, json: boolean): Promise<void> {
  const client = makeControlClient({ url: platform.apiUrl, token: platform.token });
  for (const dir of dirs) {
    try {
      const build = await loadAndBuild(dir);
      const result = await client.deploy(build.spec.name, { spec: build.spec, files: await readFilesFromDir(build.outDir) });
      io.out(json ? JSON.stringify({ event: "deployed", name: build.spec.name, revision: result.revision.id, url: result.url }) : `skiff up: deployed ${build.spec.name} (${result.revision.id}) at ${result.url}`);
    } catch (error) {
      // A bad function must not take the platform down with it: say so and keep serving.
      io.err(`skiff up: could not deploy ${dir}: ${(error as Error).message}`);
    }
  }
}
