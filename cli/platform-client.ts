// Reaching the local platform from a command: the state dir says where `skiff up` listens.
import { makeControlClient, type ControlClient } from "../controller/api/index.ts";
import { readPlatformInfo, resolveStateDir, type PlatformInfo } from "../controller/platform/index.ts";
import { CliError } from "./errors.ts";

/** The `--state-dir` flag every platform verb takes. */
export const STATE_DIR_OPTION = { "state-dir": { type: "string" } } as const;

/** The running platform of a state dir and a client for its control API; a clear error when none runs. */
export async function connectPlatform(stateDirFlag: string | undefined): Promise<{ client: ControlClient; info: PlatformInfo; stateDir: string }> {
  const stateDir = resolveStateDir(stateDirFlag);
  const info = await readPlatformInfo(stateDir).catch((error: Error) => {
    throw new CliError(`cannot read the platform's state in ${stateDir}: ${error.message}`);
  });
  if (!info) throw new CliError(`no platform is running for ${stateDir}: start one with "skiff up" (or pass --state-dir)`);
  return { client: makeControlClient({ url: info.apiUrl, token: info.token }), info, stateDir };
}
