// ldd's answer for the node binary, remembered beside the cached host bases: finding the cached
// base runs `ldd node` (a shell script starting the loader) on every build, 10-18 ms here, to key
// it. The answer depends on the binary, the libraries it resolved to, the loader's cache and
// preload file, and LD_* variables: while none of those changed (path, size, mtime, inode), the
// remembered list is ldd's answer; after any change ldd runs again. A host base is always built
// from a fresh ldd run; this only finds the cached one sooner.
import { createHash } from "node:crypto";
import { mkdir, readFile, stat } from "node:fs/promises";
import { dirname } from "node:path";
import { hostLibraries } from "./host-files.ts";
import { canonicalJson } from "./image.ts";
import { writeAtomic } from "./layout.ts";

/** File name of the record in a host base cache folder (not `host-*`: those are bases). */
export const LIBRARIES_FILE = "libraries.json";

const FORMAT = 1;

/** Files besides the binary and its libraries that steer the loader. */
const LOADER_FILES = ["/etc/ld.so.cache", "/etc/ld.so.preload"];

/** A remembered ldd answer and the key of the facts it was true for. */
export interface LddRecord {
  binary: string;
  libraries: string[];
  key: string;
}

/** Identity of a file as stat (following links) sees it; null when absent. */
export type FileFacts = [path: string, size: number, mtimeMs: number, ino: number] | [path: string, null];

/** The key of what ldd's answer for `binary` depends on. */
export function lddFactsKey(facts: { binary: FileFacts; loader: FileFacts[]; libraries: FileFacts[]; env: Record<string, string | null> }): string {
  return createHash("sha256").update(canonicalJson({ format: FORMAT, ...facts })).digest("hex");
}

/** Parses a record; undefined when unreadable (ldd then runs). */
export function parseLddRecord(text: string | undefined): LddRecord | undefined {
  if (text === undefined) return undefined;
  try {
    const value = JSON.parse(text) as Partial<LddRecord> & { format?: unknown };
    const ok = value.format === FORMAT && typeof value.binary === "string" && typeof value.key === "string"
      && Array.isArray(value.libraries) && value.libraries.every((l) => typeof l === "string" && l.startsWith("/"));
    return ok ? { binary: value.binary!, libraries: value.libraries!, key: value.key! } : undefined;
  } catch {
    return undefined;
  }
}

/** The libraries `binary` loads: the record in `file` when its facts still hold, else ldd's answer (then recorded). */
export async function cachedHostLibraries(binary: string, file: string, runLdd: (binary: string) => Promise<string[]> = hostLibraries): Promise<string[]> {
  const record = parseLddRecord(await readFile(file, "utf8").catch(() => undefined));
  if (record?.binary === binary && (await currentKey(binary, record.libraries)) === record.key) return record.libraries;
  const libraries = await runLdd(binary);
  const key = await currentKey(binary, libraries);
  await mkdir(dirname(file), { recursive: true });
  await writeAtomic(file, canonicalJson({ format: FORMAT, binary, libraries, key }));
  return libraries;
}

async function currentKey(binary: string, libraries: readonly string[]): Promise<string> {
  const [binaryFacts, loader, libs] = await Promise.all([facts(binary), Promise.all(LOADER_FILES.map(facts)), Promise.all(libraries.map(facts))]);
  const env = Object.fromEntries(["LD_LIBRARY_PATH", "LD_PRELOAD"].map((name) => [name, process.env[name] ?? null]));
  return lddFactsKey({ binary: binaryFacts, loader, libraries: libs, env });
}

async function facts(path: string): Promise<FileFacts> {
  const info = await stat(path).catch(() => undefined);
  return info ? [path, info.size, info.mtimeMs, info.ino] : [path, null];
}
