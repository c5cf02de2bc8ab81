// `skiff up` as users run it: a real process, killed with SIGKILL and started again on the same
// state dir. The same functions come back, min-scale replicas return, and nothing runs twice.
import { readdir, readFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { expect, it } from "vitest";
import { readPlatformInfo } from "../controller/platform/index.ts";
import { functionVariant, tempDir } from "./harness/platform.ts";
import { runSkiff, startProcess, SKIFF_BIN } from "./harness/processes.ts";
import { describeWithNats } from "./harness/nats-server.ts";
import { waitFor } from "./harness/wait-for.ts";

const BEHAVIOURS = fileURLToPath(new URL("./fixtures/behaviours", import.meta.url));

/** Pids of live processes whose command line mentions `needle`. */
async function processesMentioning(needle: string): Promise<number[]> {
  const pids: number[] = [];
  for (const entry of await readdir("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    const cmdline = await readFile(`/proc/${entry}/cmdline`, "utf8").catch(() => "");
    if (cmdline.includes(needle) && !cmdline.includes("vitest")) pids.push(Number(entry));
  }
  return pids;
}

function startUp(stateDir: string) {
  return startProcess(process.execPath, [SKIFF_BIN, "up", "--state-dir", stateDir, "--port", "0"], { env: { ...process.env, LOG_LEVEL: "info" } });
}

describeWithNats("skiff up restart", () => {
  it("keeps the same functions after a kill -9 and runs no replica twice", async () => {
    const stateDir = await tempDir("skiff-restart-");
    const dir = await functionVariant(BEHAVIOURS, `name: keeper\nentry: index.ts\nscale: { min: 1, max: 2 }\nenv:\n  INIT_DELAY_MS: "0"\n  GREETING: hi\n`);
    const first = startUp(stateDir);
    await waitFor(() => readPlatformInfo(stateDir), { what: "the first platform to record itself", timeoutMs: 20_000 });
    const deployed = await runSkiff(["deploy", dir, "--state-dir", stateDir, "--json"]);
    expect(deployed.code, deployed.stderr).toBe(0);
    const revision = (JSON.parse(deployed.stdout) as { revision: { id: string } }).revision.id;
    const firstInfo = (await readPlatformInfo(stateDir))!;
    expect(await (await fetch(`${firstInfo.gatewayUrl}/fn/keeper/hello`)).text()).toBe("hi from keeper");

    first.kill("SIGKILL");
    await first.exited;
    // Orphaned replicas notice their parent is gone and drain away.
    await waitFor(async () => (await processesMentioning(revision)).length === 0, { what: "the old replicas to exit", timeoutMs: 15_000 });

    const second = startUp(stateDir);
    await waitFor(async () => (await readPlatformInfo(stateDir))?.pid === second.child.pid, { what: "the second platform to record itself", timeoutMs: 20_000 });
    const info = (await readPlatformInfo(stateDir))!;
    await waitFor(async () => (await fetch(`${info.gatewayUrl}/fn/keeper/hello`)).status === 200, { what: "keeper to answer after the restart" });
    const listed = await runSkiff(["list", "--state-dir", stateDir, "--json"]);
    const functions = JSON.parse(listed.stdout) as Array<{ name: string; latestRevision: string; replicas: { ready: number; desired: number } }>;
    expect(functions.map((f) => [f.name, f.latestRevision])).toEqual([["keeper", revision]]);
    expect(functions[0]!.replicas).toEqual({ ready: 1, desired: 1 });
    expect(await processesMentioning(revision)).toHaveLength(1);

    second.kill("SIGTERM");
    expect(await second.exited).toBe(0);
    expect(await processesMentioning(revision)).toHaveLength(0);
    expect(await readPlatformInfo(stateDir)).toBeUndefined();
  });

  it("fails at once on a busy port, names it, and leaves no nats-server behind", async () => {
    const stateDir = await tempDir("skiff-busy-");
    const { createServer } = await import("node:net");
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, "127.0.0.1", () => resolve()));
    const port = (blocker.address() as { port: number }).port;
    const result = await runSkiff(["up", "--state-dir", stateDir, "--port", String(port)]);
    blocker.close();
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`skiff up: port in use: EADDRINUSE: address already in use 127.0.0.1:${port} (pick another with --port)`);
    expect(await processesMentioning(`${stateDir}/nats`)).toEqual([]);
  });

  it("refuses to start a second platform on the same state dir", async () => {
    const stateDir = await tempDir("skiff-twice-");
    const first = startUp(stateDir);
    await waitFor(() => readPlatformInfo(stateDir), { what: "the first platform to record itself", timeoutMs: 20_000 });
    const second = await runSkiff(["up", "--state-dir", stateDir, "--port", "0"]);
    expect(second.code).toBe(1);
    expect(second.stderr).toMatch(/a platform is already running for .* \(pid \d+/);
    first.kill("SIGTERM");
    expect(await first.exited).toBe(0);
  });
});
