// Content hashing and stable JSON: the basis of reproducible manifests and of deciding
// whether a function needs rebuilding.
import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { readdir, stat } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { toPosix } from "./paths.ts";

/** Hex sha256 of a string or bytes. */
export function sha256(data: string | Uint8Array): string {
  return createHash("sha256").update(data).digest("hex");
}

/** Hex sha256 of a file's content, streamed (assets may be large models). */
export async function sha256File(path: string): Promise<string> {
  const hash = createHash("sha256");
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest("hex");
}

/** JSON with object keys sorted at every level, 2-space indented: equal values give equal text. */
export function stableJson(value: unknown): string {
  return JSON.stringify(sortKeys(value), null, 2);
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value === null || typeof value !== "object") return value;
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(value).sort()) {
    const v = (value as Record<string, unknown>)[key];
    if (v !== undefined) out[key] = sortKeys(v);
  }
  return out;
}

/** Hashes files under `root`, keyed by the given relative paths. */
export async function hashFiles(root: string, relPaths: readonly string[]): Promise<Record<string, string>> {
  const entries = await Promise.all(relPaths.map(async (p) => [p, await sha256File(join(root, p))] as const));
  return Object.fromEntries(entries);
}

/** Every regular file under `root` (following symlinks), as sorted posix paths relative to it. */
export async function listFiles(root: string, rel = ""): Promise<string[]> {
  const out: string[] = [];
  const entries = await readdir(join(root, rel), { withFileTypes: true });
  for (const entry of entries) {
    const child = rel === "" ? entry.name : join(rel, entry.name);
    if (entry.isDirectory()) out.push(...(await listFiles(root, child)));
    else if (entry.isFile()) out.push(toPosix(child));
    else if (entry.isSymbolicLink()) out.push(...(await listSymlink(root, child)));
  }
  return out.sort();
}

async function listSymlink(root: string, rel: string): Promise<string[]> {
  const info = await stat(join(root, rel)).catch(() => undefined);
  if (info?.isDirectory()) return listFiles(root, rel);
  return info?.isFile() ? [toPosix(rel)] : [];
}

let ownSources: Promise<string> | undefined;

/**
 * Fingerprint of the builder's own code: a changed builder (plugins, entry template, esbuild
 * options) must rebuild functions even when their inputs did not change. Computed once per process.
 */
export function builderFingerprint(): Promise<string> {
  ownSources ??= (async () => {
    const dir = fileURLToPath(new URL(".", import.meta.url));
    const names = (await readdir(dir)).filter((n) => n.endsWith(".ts") && !n.endsWith(".test.ts")).sort();
    const hashes = await Promise.all(names.map(async (n) => `${n}:${await sha256File(join(dir, n))}`));
    return sha256(hashes.join("\n"));
  })();
  return ownSources;
}
