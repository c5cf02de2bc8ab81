// Pure core of native-package handling: which installed packages a native import drags
// along, and where their copies go under the output's node_modules. File access is
// injected (see package-fs.ts) so these are table-tested without a disk.
import { BuildError } from "./errors.ts";

/** The package.json facts the closure needs. */
export interface PackageInfo {
  version: string;
  /** Names from dependencies, optionalDependencies and peerDependencies. */
  dependencies: string[];
}

/** Read access to installed packages. */
export interface PackageReader {
  /** Real directory of package `name` as Node would resolve it from `fromDir`, if installed. */
  resolvePackage(name: string, fromDir: string): string | undefined;
  /** Facts from `<dir>/package.json`, or undefined when unreadable. */
  readPackage(dir: string): PackageInfo | undefined;
  /** True when the package itself holds native code (a *.node file, gypfile, binary). */
  isNative(dir: string): boolean;
}

/** One package of a closure: its install name, real directory and who required it. */
export interface ClosurePackage {
  /** Name it is installed (and required) under; may differ from package.json's for aliases. */
  name: string;
  dir: string;
  version: string;
  /** Directory of the package that depends on it; undefined for the imported root. */
  requiredBy?: string;
}

/** A closure package with its destination, a posix path relative to the output folder. */
export interface PlacedPackage extends ClosurePackage {
  dest: string;
}

/** Package name of a bare specifier (`@img/sharp/x` -> `@img/sharp`), or undefined if not bare. */
export function packageNameOf(specifier: string): string | undefined {
  if (/^[./]/.test(specifier) || specifier.startsWith("#") || specifier.includes(":")) return undefined;
  const parts = specifier.split("/");
  const name = specifier.startsWith("@") ? parts.slice(0, 2).join("/") : parts[0];
  if (!name || (specifier.startsWith("@") && parts.length < 2)) return undefined;
  return name;
}

/**
 * The installed dependency closure of a package, breadth first, root first: dependencies,
 * optional and peer dependencies that are installed, each resolved from the package that
 * requires it (as Node does). Missing ones are skipped: optional ones legitimately are.
 */
export function makePackageClosure(name: string, dir: string, reader: PackageReader): ClosurePackage[] {
  const rootInfo = reader.readPackage(dir);
  const closure: ClosurePackage[] = [{ name, dir, version: rootInfo?.version ?? "0.0.0" }];
  const seen = new Set([dir]);
  for (let i = 0; i < closure.length; i++) {
    const pkg = closure[i]!;
    for (const dep of reader.readPackage(pkg.dir)?.dependencies ?? []) {
      const depDir = reader.resolvePackage(dep, pkg.dir);
      if (depDir === undefined || seen.has(depDir)) continue;
      seen.add(depDir);
      closure.push({ name: dep, dir: depDir, version: reader.readPackage(depDir)?.version ?? "0.0.0", requiredBy: pkg.dir });
    }
  }
  return closure;
}

/** True when any package of the closure holds native code, so the root must stay external. */
export function isNativeClosure(closure: readonly ClosurePackage[], reader: Pick<PackageReader, "isNative">): boolean {
  return closure.some((pkg) => reader.isNative(pkg.dir));
}

/**
 * Flat node_modules layout for the union of closures: each package at `node_modules/<name>`,
 * except a second, different copy of a name, which nests under the package requiring it
 * (where Node looks first). Two different roots of one name cannot both be top-level.
 */
export function planNodeModulesLayout(packages: readonly ClosurePackage[]): PlacedPackage[] {
  const byDir = new Map<string, PlacedPackage>();
  const topLevel = new Map<string, string>();
  // Roots first: the bundle requires them by bare name from the top, so they must win it.
  const ordered = [...packages.filter((p) => p.requiredBy === undefined), ...packages.filter((p) => p.requiredBy !== undefined)];
  for (const pkg of ordered) {
    if (byDir.has(pkg.dir)) continue;
    const holder = topLevel.get(pkg.name);
    if (holder === undefined) {
      topLevel.set(pkg.name, pkg.dir);
      byDir.set(pkg.dir, { ...pkg, dest: `node_modules/${pkg.name}` });
      continue;
    }
    const parent = pkg.requiredBy === undefined ? undefined : byDir.get(pkg.requiredBy);
    if (parent === undefined) {
      throw new BuildError(`two different copies of native package "${pkg.name}" are imported (${holder} and ${pkg.dir}); install one`);
    }
    byDir.set(pkg.dir, { ...pkg, dest: `${parent.dest}/node_modules/${pkg.name}` });
  }
  return [...byDir.values()];
}

/** `name@version` of each placed package, sorted and unique: the manifest's `external`. */
export function makeExternalList(placed: readonly PlacedPackage[]): string[] {
  return [...new Set(placed.map((p) => `${p.name}@${p.version}`))].sort();
}

/** The platform a build targets: native binaries for others are pruned from copied packages. */
export interface BuildTarget {
  platform: string;
  arch: string;
}

/**
 * Per-package prune table: packages that ship prebuilt binaries for every OS/arch in one
 * tarball. Each pattern is a posix path inside the package whose `<platform>` and `<arch>`
 * segments name the target; a path under the pattern's prefix whose platform or arch segment
 * differs from the build's target is left out of the copy. `*` in a segment matches any run of
 * characters (`napi-v*`). Paths that do not follow the pattern are kept.
 *
 * onnxruntime-node 1.x: `bin/napi-v6/{darwin,linux,win32}/{x64,arm64}/` is ~280 MB of which
 * one platform (linux/x64: ~45 MB) is ever loaded.
 */
export const PLATFORM_PRUNES: Readonly<Record<string, readonly string[]>> = {
  "onnxruntime-node": ["bin/napi-v*/<platform>/<arch>"],
};

/**
 * Keep-predicate for the files of package `name` (paths relative to the package, posix), or
 * undefined when the package has nothing to prune.
 */
export function makePruneFilter(name: string, target: BuildTarget): ((relPath: string) => boolean) | undefined {
  const patterns = PLATFORM_PRUNES[name];
  if (patterns === undefined || patterns.length === 0) return undefined;
  const parsed = patterns.map((p) => p.split("/"));
  return (relPath) => {
    const segments = relPath.split("/").filter((s) => s !== "");
    return parsed.every((pattern) => keepsPath(pattern, segments, target));
  };
}

function keepsPath(pattern: readonly string[], segments: readonly string[], target: BuildTarget): boolean {
  const n = Math.min(pattern.length, segments.length);
  for (let i = 0; i < n; i++) {
    const want = pattern[i]!;
    const seg = segments[i]!;
    if (want === "<platform>") {
      if (seg !== target.platform) return false;
    } else if (want === "<arch>") {
      if (seg !== target.arch) return false;
    } else if (!globSegment(want).test(seg)) {
      return true; // not under this pattern's prefix
    }
  }
  return true;
}

function globSegment(segment: string): RegExp {
  const escaped = segment.replace(/[.+?^${}()|[\]\\]/g, "\\$&").replace(/\*/g, ".*");
  return new RegExp(`^${escaped}$`);
}
