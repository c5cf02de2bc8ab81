// Reading a build output directory into the file map a deploy uploads (the CLI's side).
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { listSourceFiles } from "../store/index.ts";

/** Every file under `dir` (symlinks followed) keyed by its relative posix path, the same set the store's `{ fromDir }` copies. */
export async function readFilesFromDir(dir: string): Promise<Map<string, Uint8Array>> {
  const files = new Map<string, Uint8Array>();
  for (const path of await listSourceFiles(dir)) files.set(path, await readFile(join(dir, ...path.split("/"))));
  return files;
}
