// runtime: functions/hello through the Skiff runtime against a bare node:http hello server,
// same load tool, same connections, in alternating short rounds of one run (the machine is
// noisy: the ratio is the median of per-round ratios); plus boot to first response.
import { build } from "esbuild";
import { spawn } from "node:child_process";
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { loadAndBuild } from "../../cli/build-function.ts";
import { freePort } from "../../test/harness/ports.ts";
import { firstResponseMs, load, LOAD_TOOL, median, round2, startServer, stopServer } from "../harness.ts";

const HELLO = fileURLToPath(new URL("../../functions/hello", import.meta.url));
const BARE = fileURLToPath(new URL("../bare-hello.mjs", import.meta.url));
const HONO = fileURLToPath(new URL("../hono-hello.ts", import.meta.url));
const CONNECTIONS = 32;
const ROUND_S = 2;
const ROUNDS = 8;
const BOOTS = 15;

/** Runs the suite and returns its figures. */
export async function run(): Promise<Record<string, unknown>> {
  const build = await loadAndBuild(HELLO);
  const throughput = await measureThroughput(build.bundlePath);
  const boot = await measureBoots(build.bundlePath);
  return {
    ratio: round2(throughput.ratio),
    target: ">= 0.75",
    loadTool: LOAD_TOOL,
    connections: CONNECTIONS,
    skiffRps: Math.round(throughput.skiffRps),
    bareRps: Math.round(throughput.bareRps),
    bootSkiffMs: round2(boot.skiffMs),
    bootBareMs: round2(boot.bareMs),
    bootRatio: round2(boot.skiffMs / boot.bareMs),
    bootTarget: "<= 1.5",
    bootHonoMinimalMs: round2(boot.honoMs),
    bootHonoMinimalRatio: round2(boot.honoMs / boot.bareMs),
  };
}

async function measureThroughput(bundlePath: string) {
  const [skiffPort, barePort] = [await freePort(), await freePort()];
  const skiff = await startServer(bundlePath, skiffPort);
  const bare = await startServer(BARE, barePort);
  const skiffUrl = `http://127.0.0.1:${skiffPort}/`;
  const bareUrl = `http://127.0.0.1:${barePort}/`;
  const ratios: number[] = [];
  const skiffRps: number[] = [];
  const bareRps: number[] = [];
  try {
    await load(skiffUrl, { connections: CONNECTIONS, durationS: 2 });
    await load(bareUrl, { connections: CONNECTIONS, durationS: 2 });
    for (let round = 0; round < ROUNDS; round++) {
      // Alternate which goes first so a drifting machine favours neither.
      const [first, second] = round % 2 ? [bareUrl, skiffUrl] : [skiffUrl, bareUrl];
      const a = (await load(first, { connections: CONNECTIONS, durationS: ROUND_S })).rps;
      const b = (await load(second, { connections: CONNECTIONS, durationS: ROUND_S })).rps;
      const [s, r] = first === skiffUrl ? [a, b] : [b, a];
      skiffRps.push(s);
      bareRps.push(r);
      ratios.push(s / r);
      process.stderr.write(`round ${round + 1}: skiff ${Math.round(s)} req/s, bare ${Math.round(r)} req/s, ratio ${round2(s / r)}\n`);
    }
  } finally {
    await stopServer(skiff);
    await stopServer(bare);
  }
  return { ratio: median(ratios), skiffRps: median(skiffRps), bareRps: median(bareRps) };
}

/** Median spawn-to-first-200 of each server (Skiff, bare node:http, minimal Hono), alternating so drift hits all alike. */
async function measureBoots(bundlePath: string): Promise<{ skiffMs: number; bareMs: number; honoMs: number }> {
  const honoBundle = join(await mkdtemp(join(tmpdir(), "skiff-bench-")), "hono-hello.mjs");
  await build({ entryPoints: [HONO], bundle: true, platform: "node", format: "esm", target: "node20", minify: true, outfile: honoBundle });
  const skiffMs: number[] = [];
  const bareMs: number[] = [];
  const honoMs: number[] = [];
  for (let i = 0; i < BOOTS; i++) {
    skiffMs.push(await bootOnce(bundlePath));
    bareMs.push(await bootOnce(BARE));
    honoMs.push(await bootOnce(honoBundle));
  }
  process.stderr.write(`boot medians: skiff ${round2(median(skiffMs))}ms, bare ${round2(median(bareMs))}ms, minimal hono ${round2(median(honoMs))}ms\n`);
  return { skiffMs: median(skiffMs), bareMs: median(bareMs), honoMs: median(honoMs) };
}

async function bootOnce(script: string): Promise<number> {
  const port = await freePort();
  const started = performance.now();
  const child = spawn(process.execPath, [script], { env: { PATH: process.env.PATH ?? "", PORT: String(port), HOST: "127.0.0.1" }, stdio: "ignore" });
  try {
    return await firstResponseMs(port, "/", child, started);
  } finally {
    await stopServer(child);
  }
}
