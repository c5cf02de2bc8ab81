// What `skiff up` leaves in the state dir for other commands: where the control API and the
// gateway listen, and the bearer token (mode 0600). Written atomically so a reader never sees
// half a file.
import { randomBytes } from "node:crypto";
import { mkdir, readFile, rm } from "node:fs/promises";
import { homedir } from "node:os";
import { join, resolve } from "node:path";
import { writeFileAtomic } from "../store/index.ts";

/** Addresses of a running platform, as recorded in `<stateDir>/platform.json`. */
export interface PlatformInfo {
  pid: number;
  apiUrl: string;
  gatewayUrl: string;
  natsUrl?: string;
  startedAtMs: number;
}

/** The state dir: an explicit one, else $SKIFF_STATE_DIR, else ~/.skiff. */
export function resolveStateDir(explicit?: string): string {
  return resolve(explicit ?? process.env.SKIFF_STATE_DIR ?? join(homedir(), ".skiff"));
}

/** The platform's bearer token, created on first use with mode 0600. */
export async function ensureToken(stateDir: string): Promise<string> {
  const path = join(stateDir, "token");
  const existing = await readFile(path, "utf8").catch(() => undefined);
  if (existing?.trim()) return existing.trim();
  await mkdir(stateDir, { recursive: true, mode: 0o700 });
  const token = randomBytes(32).toString("base64url");
  await writeFileAtomic(path, `${token}\n`, 0o600);
  return token;
}

/** Records where the platform listens. */
export async function writePlatformInfo(stateDir: string, info: PlatformInfo): Promise<void> {
  await writeFileAtomic(join(stateDir, "platform.json"), `${JSON.stringify(info, null, 2)}\n`);
}

/** Removes platform.json on a clean stop, so commands can tell nothing is running. */
export async function clearPlatformInfo(stateDir: string): Promise<void> {
  await rm(join(stateDir, "platform.json"), { force: true });
}

/** Refuses to start a second platform on a state dir whose recorded platform process is alive. */
export async function checkNotRunning(stateDir: string): Promise<void> {
  const info = await readPlatformInfo(stateDir).catch(() => undefined);
  if (!info || info.pid === process.pid) return;
  try {
    process.kill(info.pid, 0);
  } catch {
    return; // Recorded by a platform that died without cleaning up: take over.
  }
  throw new Error(`a platform is already running for ${stateDir} (pid ${info.pid}, gateway ${info.gatewayUrl}); stop it or pick another --state-dir`);
}

/** Reads platform.json and the token; undefined when no platform has recorded itself. */
export async function readPlatformInfo(stateDir: string): Promise<(PlatformInfo & { token: string }) | undefined> {
  const text = await readFile(join(stateDir, "platform.json"), "utf8").catch(() => undefined);
  if (text === undefined) return undefined;
  const info = JSON.parse(text) as PlatformInfo;
  const token = (await readFile(join(stateDir, "token"), "utf8")).trim();
  return { ...info, token };
}
