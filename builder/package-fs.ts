// The disk side of native-package handling: reading package.json files, Node-style package
// lookup, scanning for native code, and copying a planned layout into the output.
import { existsSync, readdirSync, readFileSync, realpathSync } from "node:fs";
import { cp, mkdir } from "node:fs/promises";
import { basename, dirname, join, relative, sep } from "node:path";
import { makePackageClosure, makePruneFilter, isNativeClosure, type BuildTarget, type ClosurePackage, type PackageInfo, type PackageReader, type PlacedPackage } from "./native-packages.ts";

/** A PackageReader over the file system; caches everything for the life of one build. */
export function makeFsPackageReader(nodePaths: readonly string[]): PackageReader {
  const infos = new Map<string, PackageInfo | undefined>();
  const natives = new Map<string, boolean>();
  const lookups = new Map<string, string | undefined>();
  return {
    resolvePackage(name, fromDir) {
      const key = `${fromDir}\0${name}`;
      if (!lookups.has(key)) lookups.set(key, findPackageDir(name, fromDir, nodePaths));
      return lookups.get(key);
    },
    readPackage(dir) {
      if (!infos.has(dir)) infos.set(dir, readPackageInfo(dir));
      return infos.get(dir);
    },
    isNative(dir) {
      let native = natives.get(dir);
      if (native === undefined) natives.set(dir, (native = hasNativeCode(dir)));
      return native;
    },
  };
}

/** Finds the native closure of a bare import, memoized per package directory; undefined if not native. */
export function makeNativeDetector(reader: PackageReader): (name: string, fromDir: string) => ClosurePackage[] | undefined {
  const byDir = new Map<string, ClosurePackage[] | undefined>();
  return (name, fromDir) => {
    const dir = reader.resolvePackage(name, fromDir);
    if (dir === undefined) return undefined;
    if (!byDir.has(dir)) {
      const closure = makePackageClosure(name, dir, reader);
      byDir.set(dir, isNativeClosure(closure, reader) ? closure : undefined);
    }
    return byDir.get(dir);
  };
}

/**
 * Node's lookup of `<name>/package.json`: `node_modules` of `fromDir` and each ancestor
 * (never `node_modules/node_modules`), then the fallback paths. Returns the real directory.
 */
export function findPackageDir(name: string, fromDir: string, nodePaths: readonly string[]): string | undefined {
  const candidates: string[] = [];
  for (let dir = fromDir; ; dir = dirname(dir)) {
    if (basename(dir) !== "node_modules") candidates.push(join(dir, "node_modules", name));
    if (dirname(dir) === dir) break;
  }
  for (const path of nodePaths) candidates.push(join(path, name));
  const found = candidates.find((c) => existsSync(join(c, "package.json")));
  return found === undefined ? undefined : realpathSync(found);
}

function readPackageInfo(dir: string): PackageInfo | undefined {
  const json = readPackageJson(dir);
  if (json === undefined) return undefined;
  const names = (field: unknown) => (field && typeof field === "object" ? Object.keys(field) : []);
  const dependencies = [
    ...new Set([...names(json.dependencies), ...names(json.optionalDependencies), ...names(json.peerDependencies)]),
  ];
  return { version: typeof json.version === "string" ? json.version : "0.0.0", dependencies };
}

function readPackageJson(dir: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(readFileSync(join(dir, "package.json"), "utf8"));
    return value && typeof value === "object" ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Native code is a `*.node` file anywhere in the package (nested node_modules aside: those
 * are packages of their own), a binding.gyp, or package.json's `gypfile`/`binary` (node-gyp
 * and node-pre-gyp packages, whose binary may be fetched later).
 */
export function hasNativeCode(dir: string): boolean {
  const json = readPackageJson(dir);
  if (json?.gypfile === true || json?.binary !== undefined) return true;
  if (existsSync(join(dir, "binding.gyp"))) return true;
  return containsNodeFile(dir);
}

function containsNodeFile(dir: string): boolean {
  let entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return false;
  }
  for (const entry of entries) {
    if (entry.isFile() && entry.name.endsWith(".node")) return true;
    if (entry.isDirectory() && entry.name !== "node_modules" && containsNodeFile(join(dir, entry.name))) return true;
  }
  return false;
}

/**
 * Copies each placed package into `outDir` at its destination, without its nested
 * node_modules and without other platforms' binaries (see PLATFORM_PRUNES).
 */
export async function copyPlacedPackages(
  placed: readonly PlacedPackage[],
  outDir: string,
  target: BuildTarget = { platform: process.platform, arch: process.arch },
): Promise<void> {
  for (const pkg of placed) {
    const skip = join(pkg.dir, "node_modules");
    const keep = makePruneFilter(pkg.name, target);
    // Nested node_modules are left out: every dependency that matters is placed on its own.
    await mkdir(dirname(join(outDir, pkg.dest)), { recursive: true });
    await cp(pkg.dir, join(outDir, pkg.dest), {
      recursive: true,
      verbatimSymlinks: true,
      filter: (source) => source !== skip && (keep === undefined || keep(relative(pkg.dir, source).split(sep).join("/"))),
    });
  }
}
