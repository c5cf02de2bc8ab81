// Crash-safe file replacement. A kill -9 (or power loss) at any instant leaves either the
// old or the new content under the final name, never a mix: the new content is written to
// a temp file in the same directory, flushed, renamed over the old one (atomic on POSIX),
// and the directory is flushed so the rename itself is durable.
import { randomBytes } from "node:crypto";
import { open, rename, rm, unlink } from "node:fs/promises";
import { basename, dirname, join } from "node:path";

/** Infix of temp names; anything carrying it is leftover from an interrupted write and safe to remove at load. */
export const TEMP_INFIX = ".tmp-";

/** Whether a directory entry is a leftover temp file or staging directory. */
export function isTempName(name: string): boolean {
  return name.startsWith(".") && name.includes(TEMP_INFIX);
}

/** A fresh temp name beside `path` (hidden, unique per process and call). */
export function makeTempPath(path: string): string {
  return join(dirname(path), `.${basename(path)}${TEMP_INFIX}${process.pid}-${randomBytes(6).toString("hex")}`);
}

/** Replaces `path` with `data` atomically and durably (temp file, fsync, rename, fsync dir). */
export async function writeFileAtomic(path: string, data: string | Uint8Array, mode = 0o644): Promise<void> {
  const temp = makeTempPath(path);
  try {
    const handle = await open(temp, "wx", mode);
    try {
      await handle.writeFile(data);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temp, path);
  } catch (error) {
    await rm(temp, { force: true });
    throw error;
  }
  await syncDir(dirname(path));
}

/** Removes `path` (if present) and flushes its directory; true when it existed. */
export async function unlinkDurably(path: string): Promise<boolean> {
  try {
    await unlink(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return false;
    throw error;
  }
  await syncDir(dirname(path));
  return true;
}

/** Flushes a directory's entries (creations, renames, removals) to disk. */
export async function syncDir(dir: string): Promise<void> {
  const handle = await open(dir, "r");
  try {
    await handle.sync();
  } catch (error) {
    // Some filesystems refuse fsync on directories; their renames are as durable as they get.
    const code = (error as NodeJS.ErrnoException).code;
    if (code !== "EINVAL" && code !== "ENOTSUP" && code !== "EISDIR") throw error;
  } finally {
    await handle.close();
  }
}
