// Writing a revision's files. Files go to a staging directory first and are renamed into
// place whole, so `<stateDir>/revisions/<fn>/<id>/` either holds a complete revision or
// does not exist; hashing happens while writing, so a large bundle is read only once.
import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { mkdir, open, readdir, rename, rm, stat } from "node:fs/promises";
import { dirname, join, relative, sep } from "node:path";
import { syncDir } from "./atomic-file.ts";
import { StoreIoError, ValidationError } from "./errors.ts";
import { validateRevisionPaths } from "./paths.ts";
import type { RevisionFiles } from "./types.ts";

/** `(relative path, hex sha256 of content)` of one staged file. */
export type FileHash = readonly [string, string];

/** Writes `files` under `stagingDir` (created fresh), flushed to disk; returns each file's hash. */
export async function stageRevisionFiles(stagingDir: string, files: RevisionFiles): Promise<FileHash[]> {
  if (files instanceof Map) validateRevisionPaths(files.keys());
  await mkdir(stagingDir, { recursive: true, mode: 0o755 });
  const dirs = new Set<string>([stagingDir]);
  const hashes: FileHash[] = [];
  if (files instanceof Map) {
    for (const [path, content] of files) {
      hashes.push([path, await writeStagedFile(stagingDir, path, dirs, [content])]);
    }
  } else {
    const paths = await listSourceFiles(files.fromDir);
    validateRevisionPaths(paths);
    for (const path of paths) {
      const source = createReadStream(join(files.fromDir, ...path.split("/")));
      hashes.push([path, await writeStagedFile(stagingDir, path, dirs, source)]);
    }
  }
  // New directory entries are only durable once their parent directory is flushed.
  for (const dir of dirs) await syncDir(dir);
  return hashes;
}

async function writeStagedFile(
  root: string,
  path: string,
  dirs: Set<string>,
  chunks: AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
): Promise<string> {
  const target = join(root, ...path.split("/"));
  const parent = dirname(target);
  if (!dirs.has(parent)) {
    await mkdir(parent, { recursive: true, mode: 0o755 });
    for (let dir = parent; dir.length > root.length; dir = dirname(dir)) dirs.add(dir);
  }
  const hash = createHash("sha256");
  // Modes are not part of a revision (uploads carry none), so every file is 0644 whatever its source.
  const handle = await open(target, "wx", 0o644);
  try {
    for await (const chunk of chunks) {
      hash.update(chunk);
      await handle.write(chunk);
    }
    await handle.sync();
  } finally {
    await handle.close();
  }
  return hash.digest("hex");
}

/** Every regular file under `root` (symlinks followed), as sorted posix paths relative to it. */
export async function listSourceFiles(root: string): Promise<string[]> {
  const info = await stat(root).catch((error: unknown) => {
    throw new ValidationError(`cannot read revision source directory ${root}: ${(error as Error).message}`, { cause: error });
  });
  if (!info.isDirectory()) throw new ValidationError(`revision source ${root} is not a directory`);
  const out: string[] = [];
  await walk(root, root, out, new Set());
  return out.sort();
}

async function walk(root: string, dir: string, out: string[], visiting: Set<string>): Promise<void> {
  // A symlink loop would otherwise recurse forever; real paths identify directories.
  const info = await stat(dir);
  const key = `${info.dev}:${info.ino}`;
  if (visiting.has(key)) throw new ValidationError(`symlink loop at ${dir}`);
  visiting.add(key);
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const full = join(dir, entry.name);
    const kind = entry.isSymbolicLink() ? await stat(full).catch(() => undefined) : entry;
    if (kind?.isDirectory()) await walk(root, full, out, visiting);
    else if (kind?.isFile()) out.push(relative(root, full).split(sep).join("/"));
  }
  visiting.delete(key);
}

/** Moves a staged revision into place; if `finalDir` already exists (same content), discards the staging copy. Returns true when moved. */
export async function commitRevisionDir(stagingDir: string, finalDir: string): Promise<boolean> {
  if (await exists(finalDir)) {
    await rm(stagingDir, { recursive: true, force: true });
    return false;
  }
  await mkdir(dirname(finalDir), { recursive: true, mode: 0o755 });
  try {
    await rename(stagingDir, finalDir);
  } catch (error) {
    throw new StoreIoError(`failed to move revision files into ${finalDir}`, { cause: error });
  }
  // The function's directory may be new too, so its parent is flushed as well.
  await syncDir(dirname(finalDir));
  await syncDir(dirname(dirname(finalDir)));
  return true;
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(() => true, () => false);
}
