// runtime: functions/hello through the Skiff runtime against a bare node:http hello server,
// same load tool, same connections, interleaved rounds in one run; plus boot to first response.
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { loadAndBuild } from "../../cli/build-function.ts";
import { firstResponseMs, load, median, portIsFree, round2, startServer, stopServer } from "../harness.ts";

const HELLO = fileURLToPath(new URL("../../functions/hello", import.meta.url));
const BARE = fileURLToPath(new URL("../bare-hello.mjs", import.meta.url));
const CONNECTIONS = 32;
const ROUND_S = 5;
const ROUNDS = 3;
const BOOTS = 15;

/** Runs the suite and returns its figures. */
export async function run(): Promise<Record<string, unknown>> {
  const build = await loadAndBuild(HELLO);
  const skiffThroughput: number[] = [];
  const bareThroughput: number[] = [];
  const skiff = await startServer(build.bundlePath, 18081);
  const bare = await startServer(BARE, 18082);
  try {
    await load("http://127.0.0.1:18081/", { connections: CONNECTIONS, durationS: 2 });
    await load("http://127.0.0.1:18082/", { connections: CONNECTIONS, durationS: 2 });
    for (let round = 0; round < ROUNDS; round++) {
      skiffThroughput.push((await load("http://127.0.0.1:18081/", { connections: CONNECTIONS, durationS: ROUND_S })).rps);
      bareThroughput.push((await load("http://127.0.0.1:18082/", { connections: CONNECTIONS, durationS: ROUND_S })).rps);
      process.stderr.write(`round ${round + 1}: skiff ${Math.round(skiffThroughput.at(-1)!)} req/s, bare ${Math.round(bareThroughput.at(-1)!)} req/s\n`);
    }
  } finally {
    await stopServer(skiff);
    await stopServer(bare);
  }
  const boot = await measureBoots(build.bundlePath);
  const ratio = median(skiffThroughput) / median(bareThroughput);
  return {
    ratio: round2(ratio),
    target: ">= 0.75",
    connections: CONNECTIONS,
    skiffRps: Math.round(median(skiffThroughput)),
    bareRps: Math.round(median(bareThroughput)),
    bootSkiffMs: round2(boot.skiffMs),
    bootBareMs: round2(boot.bareMs),
    bootRatio: round2(boot.skiffMs / boot.bareMs),
    bootTarget: "<= 1.5",
  };
}

/** Median spawn-to-first-200 of each server, alternating so drift hits both alike. */
async function measureBoots(bundlePath: string): Promise<{ skiffMs: number; bareMs: number }> {
  const skiffMs: number[] = [];
  const bareMs: number[] = [];
  for (let i = 0; i < BOOTS; i++) {
    skiffMs.push(await bootOnce(bundlePath, 18083));
    bareMs.push(await bootOnce(BARE, 18084));
  }
  process.stderr.write(`boot medians: skiff ${round2(median(skiffMs))}ms, bare ${round2(median(bareMs))}ms\n`);
  return { skiffMs: median(skiffMs), bareMs: median(bareMs) };
}

async function bootOnce(script: string, port: number): Promise<number> {
  if (!(await portIsFree(port))) throw new Error(`port ${port} is busy`);
  const started = performance.now();
  const child = spawn(process.execPath, [script], { env: { PATH: process.env.PATH ?? "", PORT: String(port), HOST: "127.0.0.1" }, stdio: "ignore" });
  try {
    return await firstResponseMs(port, "/", child, started);
  } finally {
    await stopServer(child);
  }
}
