// Assets declared in function.yaml: checked, listed file by file (for hashing) and copied to
// the same relative paths under the output, where ctx.assetPath() looks for them.
import { cp, mkdir, stat } from "node:fs/promises";
import { dirname, isAbsolute, join, normalize, resolve } from "node:path";
import { BuildError } from "./errors.ts";
import { listFiles } from "./hash.ts";
import { toPosix } from "./paths.ts";

/** Output names the bundle owns; an asset may not overwrite them. */
const RESERVED = ["index.mjs", "index.mjs.map", "manifest.json", "node_modules"];

/** Normalizes one declared asset to a posix path relative to the function dir, or throws why not. */
export function parseAssetPath(asset: string): string {
  const rel = toPosix(normalize(asset)).replace(/\/+$/, "");
  if (isAbsolute(asset) || rel === "" || rel === "." || rel === ".." || rel.startsWith("../")) {
    throw new BuildError(`asset "${asset}" must be a path inside the function directory`);
  }
  const first = rel.split("/")[0]!;
  if (RESERVED.includes(first)) throw new BuildError(`asset "${asset}" would overwrite the build's own "${first}"; rename it`);
  return rel;
}

/** Every file of the declared assets, as sorted posix paths relative to `dir`; a missing asset throws. */
export async function listAssetFiles(dir: string, assets: readonly string[]): Promise<string[]> {
  const files = new Set<string>();
  for (const asset of assets) {
    const rel = parseAssetPath(asset);
    const abs = resolve(dir, rel);
    const info = await stat(abs).catch(() => undefined);
    if (info === undefined) throw new BuildError(`asset "${asset}" not found in ${dir}`);
    if (info.isDirectory()) for (const file of await listFiles(abs)) files.add(`${rel}/${file}`);
    else files.add(rel);
  }
  return [...files].sort();
}

/** Copies the declared assets from `dir` to the same relative paths under `outDir`. */
export async function copyAssets(dir: string, assets: readonly string[], outDir: string): Promise<void> {
  for (const asset of assets) {
    const rel = parseAssetPath(asset);
    // dereference: a symlinked model must arrive as a file, the output is shipped elsewhere.
    await mkdir(dirname(join(outDir, rel)), { recursive: true });
    await cp(join(dir, rel), join(outDir, rel), { recursive: true, dereference: true });
  }
}
