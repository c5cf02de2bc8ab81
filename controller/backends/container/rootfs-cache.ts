// Unpacked image root filesystems, one per manifest digest, shared read-only by every replica of
// the image. An unpack goes to a temporary folder renamed into place, so a crash never leaves a
// half rootfs under a real name; concurrent requests for one digest share one unpack. Rootfs
// folders no replica uses are removed beyond the newest `keep` (a revision scaled to zero and
// woken later unpacks again: about a second for node plus a function).
import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdir, readdir, rename, rm, stat } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";
import { ImageUnpackError } from "./errors.ts";

/** An image in an OCI layout, named by tag, known by its manifest digest. */
export interface ImageRef {
  layoutDir: string;
  tag: string;
  /** `sha256:<hex>` of the manifest. */
  manifestDigest: string;
}

/** Unpacked rootfs folders by manifest digest. */
export interface RootfsCache {
  /** The rootfs of an image, unpacked if it is not yet. */
  ensure(image: ImageRef): Promise<string>;
  /** Marks a rootfs used by a running replica (not removed until released). */
  use(manifestDigest: string): void;
  release(manifestDigest: string): void;
  /** Removes leftovers of interrupted unpacks. */
  clean(): Promise<void>;
}

interface Entry {
  users: number;
  lastUsedMs: number;
  unpacking?: Promise<string>;
}

/** Rootfs folders younger than this are never removed: a replica may be about to use one it just prepared. */
const RECENT_MS = 60_000;

/** A cache under `dir`, unpacking with `umoci raw unpack` (which applies whiteouts and keeps owners and modes). */
export function makeRootfsCache(dir: string, umoci: string, options: { keep?: number; now?: () => number } = {}): RootfsCache {
  const keep = options.keep ?? 4;
  const now = options.now ?? Date.now;
  const entries = new Map<string, Entry>();
  const pathOf = (digest: string) => {
    if (!/^sha256:[0-9a-f]{64}$/.test(digest)) throw new ImageUnpackError(digest, { cause: new Error("not a sha256 manifest digest") });
    return join(dir, digest.slice("sha256:".length));
  };
  const entry = (digest: string) => {
    let e = entries.get(digest);
    if (!e) entries.set(digest, (e = { users: 0, lastUsedMs: now() }));
    return e;
  };

  const unpack = async (image: ImageRef): Promise<string> => {
    const target = pathOf(image.manifestDigest);
    if (existsSync(target)) return target;
    await mkdir(dir, { recursive: true });
    const temp = `${target}.tmp-${process.pid}-${randomBytes(4).toString("hex")}`;
    try {
      await promisify(execFile)(umoci, ["raw", "unpack", "--image", `${image.layoutDir}:${image.tag}`, temp], { timeout: 300_000, maxBuffer: 16 * 1024 * 1024 });
      await rename(temp, target);
    } catch (cause) {
      if (!existsSync(target)) throw new ImageUnpackError(`${image.layoutDir}:${image.tag}`, { cause: stderrOf(cause) });
    } finally {
      await rm(temp, { recursive: true, force: true });
    }
    return target;
  };

  const evict = async () => {
    const names = await readdir(dir).catch(() => [] as string[]);
    const idle: { path: string; atMs: number }[] = [];
    for (const name of names) {
      if (!/^[0-9a-f]{64}$/.test(name)) continue;
      const known = entries.get(`sha256:${name}`);
      if (known && (known.users > 0 || known.unpacking)) continue;
      const atMs = known?.lastUsedMs ?? (await stat(join(dir, name)).then((s) => s.mtimeMs, () => 0));
      if (now() - atMs >= RECENT_MS) idle.push({ path: join(dir, name), atMs });
    }
    const excess = names.filter((n) => /^[0-9a-f]{64}$/.test(n)).length - keep;
    for (const victim of idle.sort((a, b) => a.atMs - b.atMs).slice(0, Math.max(0, excess))) {
      entries.delete(`sha256:${victim.path.slice(-64)}`);
      await rm(victim.path, { recursive: true, force: true });
    }
  };

  return {
    async ensure(image) {
      const e = entry(image.manifestDigest);
      e.lastUsedMs = now();
      if (!e.unpacking) {
        e.unpacking = unpack(image);
        e.unpacking.then(() => evict(), () => {}).finally(() => (e.unpacking = undefined)).catch(() => {});
      }
      return e.unpacking;
    },
    use(digest) {
      const e = entry(digest);
      e.users++;
      e.lastUsedMs = now();
    },
    release(digest) {
      const e = entry(digest);
      e.users = Math.max(0, e.users - 1);
      e.lastUsedMs = now();
    },
    async clean() {
      for (const name of await readdir(dir).catch(() => [] as string[])) {
        if (name.includes(".tmp-")) await rm(join(dir, name), { recursive: true, force: true });
      }
    },
  };
}

/** umoci's complaint (its stderr) rather than node's "Command failed" with the whole argv. */
function stderrOf(error: unknown): Error {
  const stderr = String((error as { stderr?: string }).stderr ?? "").trim();
  const last = stderr.split("\n").filter(Boolean).pop();
  return new Error(last ?? (error as Error).message, { cause: error });
}
