// build: what `skiff build --image` costs on top of bundling. In one run, on a temp copy of
// functions/hello (so the repo's .skiff is untouched): (a) the builder's forced bundle step
// alone (buildFunction with force, what `skiff build --force` does) and (b) the full
// `build --image` path: the same forced build plus buildImageLayout into an emptied layout
// (every blob written), app layers only as before bases existed, so the ratio stays comparable
// with earlier runs (a host base adds one hard link of a cached blob). Same process model for
// both (in this process), alternating with a rotating first, medians; ratio = (b)/(a).
// Then a code-only change (a line appended to index.ts) rebuilt into the existing layout: which
// layer digests changed and the bytes of the blobs newly written to the layout. Then the same
// change pushed to a real local docker-registry through the CLI's buildFunctionImage (host base,
// the default): bytes uploaded by the first push and by the code-only one, per-blob actions;
// skipped, and said so, without docker-registry. Finally functions/ocr-detect (onnxruntime-node
// in its node_modules layer), once each way, if the time budget allows.
import { appendFile, cp, mkdtemp, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { buildFunction, buildImageLayout, type BuildResult, type ImageLayoutResult } from "../../builder/index.ts";
import { buildFunctionImage } from "../../cli/image-build.ts";
import { loadFunctionSpec } from "../../spec/index.ts";
import { median, round2 } from "../harness.ts";
import { hasDockerRegistry, startBenchRegistry } from "../registry.ts";

const FUNCTIONS = fileURLToPath(new URL("../../functions", import.meta.url));
const ITERATIONS = 10;
/** A discarded first round: esbuild's service start and a cold disk cache. */
const WARMUP_ITERATIONS = 1;
const REFERENCE = "skiff.local/hello:bench";
/** The suite's whole budget is 90 s; ocr-detect runs only if this much is left. */
const OCR_MIN_LEFT_MS = 45_000;
const BUDGET_MS = 90_000;

type Kind = "bundle" | "image";

/** Runs the suite and returns its figures. */
export async function run(): Promise<Record<string, unknown>> {
  const suiteStarted = performance.now();
  const root = await mkdtemp(join(tmpdir(), "skiff-bench-build-"));
  try {
    const dir = await copyFunction(root, "hello");
    const times: Record<Kind, number[]> = { bundle: [], image: [] };
    for (let i = 0; i < WARMUP_ITERATIONS + ITERATIONS; i++) {
      const order: Kind[] = i % 2 ? ["image", "bundle"] : ["bundle", "image"];
      for (const kind of order) {
        const ms = await timeOnce(kind, dir);
        if (i >= WARMUP_ITERATIONS) times[kind].push(ms);
      }
      if (i >= WARMUP_ITERATIONS) {
        process.stderr.write(`round ${i + 1 - WARMUP_ITERATIONS}/${ITERATIONS}: bundle ${round2(times.bundle.at(-1)!)}ms, build --image ${round2(times.image.at(-1)!)}ms\n`);
      }
    }
    const rebuild = await codeOnlyRebuild(dir);
    const push = await codeOnlyPush(root);
    const ocr = await ocrDetect(root, suiteStarted);
    const [bundleMs, imageMs] = [median(times.bundle), median(times.image)];
    return {
      ratio: round2(imageMs / bundleMs),
      target: "<= 1.5",
      bundleMs: round2(bundleMs),
      imageMs: round2(imageMs),
      iterations: ITERATIONS,
      ...rebuild,
      ...push,
      ...ocr,
      elapsedMs: Math.round(performance.now() - suiteStarted),
    };
  } finally {
    await rm(root, { recursive: true, force: true });
  }
}

/** Copies functions/<name> (without its .skiff) under root/functions, models dereferenced. */
async function copyFunction(root: string, name: string): Promise<string> {
  const to = join(root, "functions", name);
  await cp(join(FUNCTIONS, name), to, { recursive: true, dereference: true, filter: (src) => !src.split(/[\\/]/).includes(".skiff") });
  return to;
}

async function forcedBuild(dir: string): Promise<BuildResult> {
  return buildFunction({ dir, spec: await loadFunctionSpec(dir), force: true });
}

async function writeLayout(build: BuildResult, dir: string): Promise<ImageLayoutResult> {
  // As the CLI does with --base scratch (no revision given: it asks git, as the CLI does).
  return buildImageLayout(build, { dir, reference: REFERENCE });
}

/** One timed build; for "image" the layout is emptied first, so every blob is written. */
async function timeOnce(kind: Kind, dir: string): Promise<number> {
  if (kind === "image") await rm(layoutDir(dir), { recursive: true, force: true });
  const started = performance.now();
  const build = await forcedBuild(dir);
  if (kind === "image") await writeLayout(build, dir);
  return performance.now() - started;
}

function layoutDir(dir: string, name = "hello"): string {
  return join(dir, ".skiff", "images", name);
}

/** Rebuilds after an edit of index.ts into the existing layout: changed layers and new blob bytes. */
async function codeOnlyRebuild(dir: string, name = "hello", prefix = "codeOnly"): Promise<Record<string, unknown>> {
  const before = await writeLayout(await forcedBuild(dir), dir);
  const blobDir = join(layoutDir(dir, name), "blobs", "sha256");
  const blobsBefore = new Set(await readdir(blobDir));
  const entry = join(dir, "index.ts");
  await writeFile(entry, `${await readFile(entry, "utf8")}\n// edited by bench/suites/build.ts\n`);
  const after = await writeLayout(await forcedBuild(dir), dir);
  const newBlobs = (await readdir(blobDir)).filter((name) => !blobsBefore.has(name));
  let newBlobBytes = 0;
  for (const name of newBlobs) newBlobBytes += (await stat(join(blobDir, name))).size;
  const changedLayers = after.layers.filter((layer) => !before.layers.some((b) => b.kind === layer.kind && b.digest === layer.digest)).map((l) => l.kind);
  const totalLayerBytes = after.layers.reduce((sum, l) => sum + l.size, 0);
  return {
    [`${prefix}ChangedLayers`]: changedLayers,
    [`${prefix}Layers`]: after.layers.map((l) => l.kind),
    [`${prefix}NewBlobs`]: newBlobs.length,
    // Layer + config + manifest blobs newly written to the layout (codeOnlyPush measures the wire).
    [`${prefix}NewBlobBytes`]: newBlobBytes,
    [`${prefix}ImageLayerBytes`]: totalLayerBytes,
  };
}

/**
 * A fresh copy of hello built and pushed on the host base (what `skiff build --image REF --push`
 * does), then a line appended to index.ts and pushed again under a new tag: what goes over the wire.
 */
async function codeOnlyPush(root: string): Promise<Record<string, unknown>> {
  if (!hasDockerRegistry()) return { push: "skipped: docker-registry is not installed (apt-get install docker-registry)" };
  const registry = await startBenchRegistry();
  try {
    const dir = await copyFunction(join(root, "push"), "hello");
    // A temp cache: the first push includes building the host base, as on a fresh machine.
    const options = { push: true, cacheDir: join(root, "cache") };
    let started = performance.now();
    const first = await buildFunctionImage(dir, { ...options, image: `${registry.host}/bench/hello:1` });
    const firstMs = performance.now() - started;
    await appendFile(join(dir, "index.ts"), "\n// edited by bench/suites/build.ts\n");
    started = performance.now();
    const second = await buildFunctionImage(dir, { ...options, image: `${registry.host}/bench/hello:2` });
    const codeOnlyMs = performance.now() - started;
    const blobs = second.push!.blobs;
    process.stderr.write(`push: first ${first.push!.bytesUploaded} B in ${round2(firstMs)}ms, code-only ${second.push!.bytesUploaded} B in ${round2(codeOnlyMs)}ms\n`);
    return {
      pushBase: second.base.name,
      pushFirstBytes: first.push!.bytesUploaded,
      pushFirstMs: round2(firstMs),
      pushCodeOnlyBytes: second.push!.bytesUploaded,
      pushCodeOnlyImageBytes: blobs.reduce((sum, b) => sum + b.size, 0),
      pushCodeOnlyBlobs: blobs.map((b) => `${second.layout.layers.find((l) => l.digest === b.digest)?.kind ?? "config"}:${b.action}`),
      pushCodeOnlyMs: round2(codeOnlyMs),
    };
  } finally {
    await registry.stop();
  }
}

/** functions/ocr-detect (with ../ocr-shared): forced bundle once, build --image once, then a code-only rebuild. */
async function ocrDetect(root: string, suiteStarted: number): Promise<Record<string, unknown>> {
  if (BUDGET_MS - (performance.now() - suiteStarted) < OCR_MIN_LEFT_MS) return { ocrDetect: "skipped (time budget)" };
  await copyFunction(root, "ocr-shared");
  const dir = await copyFunction(root, "ocr-detect");
  await forcedBuild(dir); // warm: first build of this function pays for a cold disk cache
  let started = performance.now();
  await forcedBuild(dir);
  const bundleMs = performance.now() - started;
  started = performance.now();
  const layout = await writeLayout(await forcedBuild(dir), dir);
  const imageMs = performance.now() - started;
  process.stderr.write(`ocr-detect: bundle ${round2(bundleMs)}ms, build --image ${round2(imageMs)}ms\n`);
  return {
    ocrBundleMs: round2(bundleMs),
    ocrImageMs: round2(imageMs),
    ocrRatio: round2(imageMs / bundleMs),
    ocrLayerBytes: Object.fromEntries(layout.layers.map((l) => [l.kind, l.size])),
    ...(await codeOnlyRebuild(dir, "ocr-detect", "ocrCodeOnly")),
  };
}
