// buildFunction: decide whether the previous build is still good, else bundle into a staging
// folder beside the output and swap it in, so a failed build leaves the last good one in place.
import { version as esbuildVersion, type BuildOptions, type Metafile, type OutputFile } from "esbuild";
import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdir, realpath, rename, rm, writeFile } from "node:fs/promises";
import { dirname, join, relative, resolve } from "node:path";
import type { FunctionSpec } from "../spec/types.ts";
import { copyAssets, listAssetFiles } from "./assets.ts";
import { BUNDLE_FILE, makeBundleOptions, runBundle } from "./bundle.ts";
import { BuildError, formatDiagnostic } from "./errors.ts";
import { builderFingerprint, hashFiles, listFiles, sha256File, stableJson } from "./hash.ts";
import { isReusable, makeManifest, MANIFEST_FILE, readManifest, type BuildManifest, type HashBasis } from "./manifest.ts";
import { makeExternalList, planNodeModulesLayout, type ClosurePackage, type PlacedPackage } from "./native-packages.ts";
import { copyPlacedPackages, makeFsPackageReader, makeNativeDetector } from "./package-fs.ts";
import { defaultOutDir, displayPath, HTTP2_STUB, REPO_NODE_MODULES, RUNTIME_ENTRY } from "./paths.ts";
import { makeNativeExternalsPlugin, makeNodeServerHttp2StubPlugin, makeRuntimePlugin } from "./plugins.ts";

/** What to build. */
export interface BuildFunctionOptions {
  /** Function directory (holding function.yaml and the entry). */
  dir: string;
  /** The parsed function.yaml. */
  spec: FunctionSpec;
  /** Output folder; defaults to `<dir>/.skiff/build/<name>`. */
  outDir?: string;
  /** Rebuild even when the previous build is up to date. */
  force?: boolean;
  /** File `skiff/runtime` resolves to; defaults to this repository's runtime/index.ts (tests swap it). */
  runtimeEntry?: string;
}

/** A finished (or reused) build. */
export interface BuildResult {
  spec: FunctionSpec;
  /** Absolute output folder. */
  outDir: string;
  /** Absolute path of the bundle: run it with `node` (PORT set) to start a replica. */
  bundlePath: string;
  manifest: BuildManifest;
  /** False when the previous build was up to date and kept. */
  rebuilt: boolean;
  durationMs: number;
  /** esbuild warnings as `file:line:col: text` lines (empty when not rebuilt). */
  warnings: string[];
}

/** Everything one build works from, resolved once. */
interface BuildContext {
  /** Real path of the function dir: esbuild reports real paths, so names stay relative to it. */
  dir: string;
  outDir: string;
  spec: FunctionSpec;
  runtimeEntry: string;
  nodePaths: string[];
  esbuildOptions: BuildOptions;
  /** The hash basis minus source inputs, which are known only after bundling. */
  basis: Omit<HashBasis, "inputs">;
}

/** Bundles a function into `outDir` (index.mjs, its map, native packages, assets, manifest.json). */
export async function buildFunction(options: BuildFunctionOptions): Promise<BuildResult> {
  const started = performance.now();
  const ctx = await makeContext(options);
  // One build per output folder at a time in this process (`skiff dev` may fire several):
  // the later one then usually finds the earlier one's output up to date.
  return serialized(ctx.outDir, async () => {
    if (!options.force) {
      const previous = await findReusableBuild(ctx);
      if (previous) return makeResult(ctx, previous, false, started, []);
    }
    const { manifest, warnings } = await buildStaged(ctx);
    return makeResult(ctx, manifest, true, started, warnings);
  });
}

function makeResult(ctx: BuildContext, manifest: BuildManifest, rebuilt: boolean, started: number, warnings: string[]): BuildResult {
  const bundlePath = join(ctx.outDir, BUNDLE_FILE);
  return { spec: ctx.spec, outDir: ctx.outDir, bundlePath, manifest, rebuilt, durationMs: performance.now() - started, warnings };
}

const inFlight = new Map<string, Promise<unknown>>();

/** Runs `task` after any task already queued under `key` has settled. */
async function serialized<T>(key: string, task: () => Promise<T>): Promise<T> {
  const run = (inFlight.get(key) ?? Promise.resolve()).catch(() => undefined).then(task);
  inFlight.set(key, run);
  try {
    return await run;
  } finally {
    if (inFlight.get(key) === run) inFlight.delete(key);
  }
}

async function makeContext(options: BuildFunctionOptions): Promise<BuildContext> {
  const givenDir = resolve(options.dir);
  const spec = options.spec;
  const outDir = resolve(options.outDir ?? defaultOutDir(givenDir, spec.name));
  const runtimeEntry = resolve(options.runtimeEntry ?? RUNTIME_ENTRY);
  if (!existsSync(resolve(givenDir, spec.entry))) throw new BuildError(`entry "${spec.entry}" not found in ${givenDir}`);
  const dir = await realpath(givenDir);
  if (!existsSync(runtimeEntry)) throw new BuildError(`skiff runtime not found at ${runtimeEntry}`);
  const nodePaths = [REPO_NODE_MODULES];
  // Listing assets first also reports a missing one before any bundling work.
  const assets = await hashFiles(dir, await listAssetFiles(dir, spec.assets));
  const esbuildOptions = makeBundleOptions({ dir, spec, outDir, runtimeEntry, nodePaths });
  // The target is part of the basis: native packages are pruned to it (PLATFORM_PRUNES).
  const target = { platform: process.platform, arch: process.arch };
  const basis = { spec, options: { esbuild: esbuildOptions, runtimeEntry, builder: await builderFingerprint(), target }, esbuildVersion, assets };
  return { dir, outDir, spec, runtimeEntry, nodePaths, esbuildOptions, basis };
}

/** The previous manifest when its recorded inputs re-hash to the same build, else undefined. */
async function findReusableBuild(ctx: BuildContext): Promise<BuildManifest | undefined> {
  const previous = await readManifest(ctx.outDir);
  if (previous === undefined) return undefined;
  const inputs = await rehashInputs(ctx.dir, Object.keys(previous.inputs));
  const outputsExist = Object.keys(previous.files).every((file) => existsSync(join(ctx.outDir, file)));
  return isReusable(previous, ctx.basis, inputs, outputsExist) ? previous : undefined;
}

/** Re-hashes recorded inputs (relative to dir or absolute); undefined if any is gone. */
async function rehashInputs(dir: string, paths: string[]): Promise<Record<string, string> | undefined> {
  try {
    const entries = await Promise.all(paths.map(async (p) => [p, await sha256File(resolve(dir, p))] as const));
    return Object.fromEntries(entries);
  } catch {
    return undefined;
  }
}

/** Builds into a fresh staging folder beside outDir, then swaps it in; staging never outlives us. */
async function buildStaged(ctx: BuildContext): Promise<{ manifest: BuildManifest; warnings: string[] }> {
  const staging = `${ctx.outDir}.tmp-${process.pid}-${randomBytes(4).toString("hex")}`;
  try {
    const built = await buildInto(staging, ctx);
    await replaceDir(staging, ctx.outDir);
    return built;
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
}

async function buildInto(staging: string, ctx: BuildContext): Promise<{ manifest: BuildManifest; warnings: string[] }> {
  const found = new Map<string, ClosurePackage[]>();
  const detect = makeNativeDetector(makeFsPackageReader(ctx.nodePaths));
  const plugins = [makeRuntimePlugin(ctx.runtimeEntry), makeNodeServerHttp2StubPlugin(HTTP2_STUB), makeNativeExternalsPlugin(detect, found)];
  const bundle = await runBundle(ctx.esbuildOptions, plugins, ctx.dir);
  const placed = planNodeModulesLayout([...found.values()].flat());
  try {
    await mkdir(staging, { recursive: true });
    await writeOutputs(bundle.files, ctx.outDir, staging);
    await copyPlacedPackages(placed, staging, { platform: process.platform, arch: process.arch });
    await copyAssets(ctx.dir, ctx.spec.assets, staging);
    const inputs = await hashInputs(ctx.dir, bundle.metafile, placed);
    const files = await hashFiles(staging, await listFiles(staging));
    const manifest = makeManifest({ ...ctx.basis, inputs }, files, makeExternalList(placed));
    await writeFile(join(staging, MANIFEST_FILE), `${stableJson(manifest)}\n`);
    return { manifest, warnings: bundle.warnings.map(formatDiagnostic) };
  } catch (error) {
    throw new BuildError(`failed to write the build of "${ctx.spec.name}" to ${staging}: ${String(error)}`, { cause: error });
  }
}

/** esbuild computed outputs for the final folder (source map paths included); write them to staging. */
async function writeOutputs(files: OutputFile[], outDir: string, staging: string): Promise<void> {
  for (const file of files) {
    const target = join(staging, relative(outDir, file.path));
    await mkdir(dirname(target), { recursive: true });
    await writeFile(target, file.contents);
  }
}

/** Hashes every file esbuild read (the generated entry aside) and each external package's package.json. */
async function hashInputs(dir: string, metafile: Metafile, placed: readonly PlacedPackage[]): Promise<Record<string, string>> {
  // Metafile paths are relative to absWorkingDir (= dir); virtual modules look like `<stdin>` or `ns:path`.
  const sources = Object.keys(metafile.inputs).filter((p) => !p.startsWith("<") && !/^[a-z-]+:/i.test(p));
  const paths = [...sources.map((p) => resolve(dir, p)), ...placed.map((p) => join(p.dir, "package.json"))];
  const entries = await Promise.all(paths.map(async (p) => [displayPath(dir, p), await sha256File(p)] as const));
  return Object.fromEntries(entries);
}

/** Moves staging to outDir, keeping the previous build until the new one is in place. */
async function replaceDir(staging: string, outDir: string): Promise<void> {
  const old = `${staging}.old`;
  const hadPrevious = await rename(outDir, old).then(
    () => true,
    (error: NodeJS.ErrnoException) => {
      if (error.code === "ENOENT") return false;
      throw new BuildError(`failed to replace ${outDir}: ${error.message}`, { cause: error });
    },
  );
  try {
    await rename(staging, outDir);
  } catch (error) {
    if (hadPrevious) await rename(old, outDir).catch(() => undefined);
    throw new BuildError(`failed to move the new build into ${outDir}: ${String(error)}`, { cause: error });
  }
  if (hadPrevious) await rm(old, { recursive: true, force: true });
}
