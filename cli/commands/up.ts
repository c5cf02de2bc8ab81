import { startPlatform } from "../../controller/platform/index.ts";
import { resolveStateDir } from "../../controller/platform/index.ts";
import { makeLogger } from "../../runtime/index.ts";
import { parsePort, parseVerbArgs } from "../args.ts";
import { CliError, UsageError } from "../errors.ts";
import type { Io } from "../io.ts";
import { STATE_DIR_OPTION } from "../platform-client.ts";

const USAGE = "up [--state-dir DIR] [--port 8080] [--host 127.0.0.1] [--nats URL]";

/** `skiff up`: runs the local platform in the foreground until SIGINT or SIGTERM. */
export async function run(argv: string[], io: Io): Promise<number> {
  const { values, positionals } = parseVerbArgs(argv, { ...STATE_DIR_OPTION, port: { type: "string" }, host: { type: "string", default: "127.0.0.1" }, "api-port": { type: "string" }, nats: { type: "string" } }, USAGE);
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
  await new Promise<void>((resolve) => {
    for (const signal of ["SIGINT", "SIGTERM"] as const) process.once(signal, () => resolve());
  });
  io.err("skiff up: stopping: draining replicas");
  await platform.stop();
  return 0;
}
