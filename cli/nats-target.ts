// Reaching NATS from a command: --nats URL, else the NATS URL the running platform recorded in
// its state dir (platform.json's natsUrl). Used by `publish` and `events tail`.
import type { NatsConnection } from "@nats-io/nats-core";
import { connectNats } from "../controller/nats/index.ts";
import { readPlatformInfo, resolveStateDir } from "../controller/platform/index.ts";
import { CliError } from "./errors.ts";

/** The flags of verbs that talk to NATS. */
export const NATS_OPTIONS = { nats: { type: "string" }, "state-dir": { type: "string" } } as const;

/** The NATS URL to use: the flag, else the platform's; a one-line error saying how to fix it otherwise. */
export async function resolveNatsUrl(natsFlag: string | undefined, stateDirFlag: string | undefined): Promise<string> {
  if (natsFlag !== undefined) {
    if (natsFlag.trim() === "") throw new CliError("--nats needs a URL, e.g. nats://127.0.0.1:4222");
    return natsFlag;
  }
  const stateDir = resolveStateDir(stateDirFlag);
  const info = await readPlatformInfo(stateDir).catch((error: Error) => {
    throw new CliError(`cannot read the platform's state in ${stateDir}: ${error.message}`);
  });
  if (!info) throw new CliError(`no platform is running for ${stateDir}: start one with "skiff up", or pass --nats URL (or --state-dir)`);
  if (!info.natsUrl) throw new CliError(`the platform for ${stateDir} recorded no NATS URL: pass --nats URL`);
  return info.natsUrl;
}

/** A connection to the NATS of the flags; a CliError naming the URL when it cannot be opened. */
export async function openNats(values: { nats?: unknown; "state-dir"?: unknown }): Promise<{ nc: NatsConnection; url: string }> {
  const url = await resolveNatsUrl(values.nats as string | undefined, values["state-dir"] as string | undefined);
  try {
    return { nc: await connectNats(url, { name: "skiff-cli" }), url };
  } catch (error) {
    throw new CliError(`${(error as Error).message} (is "skiff up" running, or is --nats right?)`, { cause: error });
  }
}
