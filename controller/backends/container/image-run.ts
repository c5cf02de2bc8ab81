// What an image says about running it (config.md's Entrypoint, Cmd, User, WorkingDir, Env),
// turned into the process a container runs. Pure; the image comes from the platform.
import { ImageConfigError } from "./errors.ts";

/** An image config's run defaults (its `config` member), as far as a replica needs them. */
export interface ImageRunDefaults {
  Entrypoint?: string[];
  Cmd?: string[];
  Env?: string[];
  User?: string;
  WorkingDir?: string;
}

/** The process of a container: argv, working dir, numeric user, and the image's PATH. */
export interface ImageRun {
  args: string[];
  cwd: string;
  uid: number;
  gid: number;
  /** PATH from the image's Env (where its `node` is), undefined when it sets none. */
  path?: string;
}

/** Reads run settings from an image config; `image` names it in errors. Replicas never run as root. */
export function parseImageRun(defaults: ImageRunDefaults | undefined, image: string): ImageRun {
  const args = [...(defaults?.Entrypoint ?? []), ...(defaults?.Cmd ?? [])];
  if (args.length === 0) throw new ImageConfigError(`image ${image} has no Entrypoint or Cmd: nothing to run`);
  const { uid, gid } = parseUser(defaults?.User, image);
  const pathEntry = defaults?.Env?.find((e) => e.startsWith("PATH="));
  return { args, cwd: defaults?.WorkingDir || "/", uid, gid, ...(pathEntry !== undefined && { path: pathEntry.slice("PATH=".length) }) };
}

/**
 * `uid[:gid]`, numeric only: names would have to be looked up in the image's /etc/passwd, and
 * skiff's images always set numbers. A missing gid is the uid's (as for the `nonroot` user).
 */
function parseUser(user: string | undefined, image: string): { uid: number; gid: number } {
  const match = /^(\d+)(?::(\d+))?$/.exec(user ?? "");
  if (!match) throw new ImageConfigError(`image ${image} has User ${JSON.stringify(user ?? "")}; container replicas need a numeric uid[:gid] (skiff images use 65532:65532)`);
  const uid = Number(match[1]);
  const gid = match[2] === undefined ? uid : Number(match[2]);
  if (uid === 0 || gid === 0) throw new ImageConfigError(`image ${image} runs as root (User ${JSON.stringify(user)}); container replicas run as a non-root user only`);
  return { uid, gid };
}
