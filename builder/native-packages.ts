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
