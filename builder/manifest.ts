// The build manifest: what went in (hashed), what came out, and the decision whether a
// previous build can be reused. Pure except where the name says read.
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import type { FunctionSpec } from "../spec/types.ts";
import { sha256, stableJson } from "./hash.ts";

/** Version of the builder's output format and behaviour; bump it to invalidate every build. */
export const BUILDER_VERSION = "1";

/** Manifest file name inside the output folder. */
export const MANIFEST_FILE = "manifest.json";

/** `<outDir>/manifest.json`: reproducible (no timestamps), keys sorted. */
export interface BuildManifest {
  name: string;
  /** sha256 over everything below plus the builder version and esbuild options. */
  inputsHash: string;
  /** Source files esbuild read and external packages' package.json: path (relative to dir, else absolute) -> sha256. */
  inputs: Record<string, string>;
  /** Asset files (relative to dir) -> sha256. */
  assets: Record<string, string>;
  /** Files in the output folder (posix, relative), manifest.json aside -> sha256. */
  files: Record<string, string>;
  /** Copied native packages as `name@version`, sorted. */
  external: string[];
  spec: FunctionSpec;
  skiffBuilderVersion: string;
  esbuildVersion: string;
}

/** Everything the inputs hash covers. */
export interface HashBasis {
  spec: FunctionSpec;
  /** The esbuild options (plain data) and anything else shaping the output, e.g. the runtime path. */
  options: unknown;
  esbuildVersion: string;
  inputs: Record<string, string>;
  assets: Record<string, string>;
}

/** The inputs hash: sha256 of the stable JSON of the basis and the builder version. */
export function makeInputsHash(basis: HashBasis): string {
  return sha256(stableJson({ ...basis, skiffBuilderVersion: BUILDER_VERSION }));
}

/** Builds the manifest of a finished build. */
export function makeManifest(basis: HashBasis, files: Record<string, string>, external: string[]): BuildManifest {
  return {
    name: basis.spec.name,
    inputsHash: makeInputsHash(basis),
    inputs: basis.inputs,
    assets: basis.assets,
    files,
    external,
    spec: basis.spec,
    skiffBuilderVersion: BUILDER_VERSION,
    esbuildVersion: basis.esbuildVersion,
  };
}

/** Parses manifest text; undefined when it is not a manifest of this builder version (so: rebuild). */
export function parseManifest(text: string): BuildManifest | undefined {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (!value || typeof value !== "object") return undefined;
  const m = value as Partial<BuildManifest>;
  const isMap = (v: unknown) => !!v && typeof v === "object" && !Array.isArray(v);
  if (m.skiffBuilderVersion !== BUILDER_VERSION || typeof m.inputsHash !== "string" || typeof m.name !== "string") return undefined;
  if (!isMap(m.inputs) || !isMap(m.assets) || !isMap(m.files) || !Array.isArray(m.external) || !isMap(m.spec)) return undefined;
  return m as BuildManifest;
}

/** Reads and parses `<outDir>/manifest.json`; undefined when absent or unusable. */
export async function readManifest(outDir: string): Promise<BuildManifest | undefined> {
  const text = await readFile(join(outDir, MANIFEST_FILE), "utf8").catch(() => undefined);
  return text === undefined ? undefined : parseManifest(text);
}

/**
 * True when a previous build is still valid: the inputs it recorded, re-hashed now
 * (`currentInputs`, undefined if any is gone), give its hash together with today's spec,
 * options and assets, and all its output files exist.
 */
export function isReusable(
  previous: BuildManifest,
  current: Omit<HashBasis, "inputs">,
  currentInputs: Record<string, string> | undefined,
  outputsExist: boolean,
): boolean {
  if (currentInputs === undefined || !outputsExist) return false;
  return makeInputsHash({ ...current, inputs: currentInputs }) === previous.inputsHash;
}
