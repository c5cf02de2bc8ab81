// Where the nats-server binary is. One implementation for the platform and the test harness.
import { accessSync, constants, statSync } from "node:fs";
import { homedir } from "node:os";
import { delimiter, join } from "node:path";
import { NatsServerNotFoundError } from "./errors.ts";

/** How to get a nats-server, for error messages. */
export const NATS_INSTALL_HINT = "install it (apt-get install nats-server, or go install github.com/nats-io/nats-server/v2@v2.10.24)";

function isExecutableFile(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

/** Where nats-server is: $NATS_SERVER_BIN (only it, when set), else PATH, else /usr/sbin (Debian), else ~/go/bin. */
export function findNatsServer(env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (env.NATS_SERVER_BIN) return isExecutableFile(env.NATS_SERVER_BIN) ? env.NATS_SERVER_BIN : undefined;
  const onPath = (env.PATH ?? "").split(delimiter).filter(Boolean).map((dir) => join(dir, "nats-server"));
  return [...onPath, "/usr/sbin/nats-server", join(homedir(), "go", "bin", "nats-server")].find(isExecutableFile);
}

/** The nats-server binary, or a NatsServerNotFoundError saying how to install one or pass --nats URL. */
export function requireNatsServer(env: NodeJS.ProcessEnv = process.env): string {
  const bin = findNatsServer(env);
  if (bin) return bin;
  const where = env.NATS_SERVER_BIN ? ` (NATS_SERVER_BIN=${env.NATS_SERVER_BIN} is not an executable file)` : "";
  throw new NatsServerNotFoundError(`nats-server not found${where}: ${NATS_INSTALL_HINT} or pass --nats URL`);
}
