// The platform's nats-server, for real: start, use, stop without leftovers, JetStream data
// across restarts, crash restarts on the same URL, and no orphan when the platform dies.
import { spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { jetstream, jetstreamManager } from "@nats-io/jetstream";
import { afterAll, afterEach, expect, it, vi } from "vitest";
import { describeWithNats, findNatsServer } from "../../test/harness/nats-server.ts";
import { startProcess } from "../../test/harness/processes.ts";
import { waitFor } from "../../test/harness/wait-for.ts";
import { connectNats } from "./connect.ts";
import { NatsServerNotFoundError, NatsServerStartError } from "./errors.ts";
import { pidFilePath } from "./leftover.ts";
import { natsStoreDir, startNatsServer, type NatsServerHandle } from "./server.ts";

const root = mkdtempSync(join(tmpdir(), "skiff-nats-server-"));
const started: NatsServerHandle[] = [];
afterEach(async () => {
  await Promise.all(started.splice(0).map((server) => server.stop()));
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

let dirs = 0;
const stateDir = () => join(root, `state-${++dirs}`);
const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};
async function start(options: Parameters<typeof startNatsServer>[0]): Promise<NatsServerHandle> {
  const server = await startNatsServer(options);
  started.push(server);
  return server;
}

describeWithNats("startNatsServer", () => {
  it("serves publish/subscribe, records its pid, and stop() leaves no process or pid file", { timeout: 30_000 }, async () => {
    const dir = stateDir();
    const server = await start({ stateDir: dir });
    expect(server.url).toMatch(/^nats:\/\/127\.0\.0\.1:\d+$/);
    expect(readFileSync(pidFilePath(natsStoreDir(dir)), "utf8").trim()).toBe(String(server.pid));
    const nc = await connectNats(server.url);
    const sub = nc.subscribe("greet.>", { max: 1 });
    nc.publish("greet.you", "héllo");
    for await (const msg of sub) expect(msg.string()).toBe("héllo");
    await nc.close();
    const pid = server.pid;
    await server.stop();
    started.length = 0;
    expect(alive(pid)).toBe(false);
    expect(existsSync(pidFilePath(natsStoreDir(dir)))).toBe(false);
    await expect(connectNats(server.url, { timeoutMs: 500 })).rejects.toThrow(/cannot connect to NATS at nats:\/\/127\.0\.0\.1/);
  });

  it("keeps JetStream streams and messages in the state dir across restarts", { timeout: 30_000 }, async () => {
    const dir = stateDir();
    const first = await start({ stateDir: dir });
    let nc = await connectNats(first.url);
    await (await jetstreamManager(nc)).streams.add({ name: "KEEP", subjects: ["keep.>"] });
    for (const n of [1, 2, 3]) await jetstream(nc).publish("keep.it", `m${n}`);
    await nc.close();
    await first.stop();
    started.length = 0;
    const second = await start({ stateDir: dir });
    nc = await connectNats(second.url);
    const info = await (await jetstreamManager(nc)).streams.info("KEEP");
    expect(info.state.messages).toBe(3);
    expect((await (await jetstreamManager(nc)).streams.getMessage("KEEP", { seq: 3 }))?.string()).toBe("m3");
    await nc.close();
  });

  it("restarts a server that dies on the same URL, and clients reconnect", { timeout: 30_000 }, async () => {
    const lines: string[] = [];
    const logger = { info: (m: string) => lines.push(m), warn: (m: string) => lines.push(m), error: (m: string) => lines.push(m) };
    const server = await start({ stateDir: stateDir(), logger, restartBackoff: { initialMs: 10, maxMs: 100, resetAfterMs: 60_000 } });
    const nc = await connectNats(server.url);
    const first = server.pid;
    process.kill(first, "SIGKILL");
    await waitFor(() => server.pid !== first && lines.some((l) => l.startsWith("nats-server restarted")), { what: "the supervisor to restart nats-server", timeoutMs: 15_000 });
    expect(lines.some((l) => /nats-server exited unexpectedly \(SIGKILL\); restarting in 10ms/.test(l))).toBe(true);
    const sub = nc.subscribe("after.crash", { max: 1 });
    await waitFor(async () => (await nc.flush().then(() => true, () => false)), { what: "the client to reconnect" });
    nc.publish("after.crash", "back");
    for await (const msg of sub) expect(msg.string()).toBe("back");
    await nc.close();
  });

  it("kills a leftover nats-server of its store dir before starting, and leaves unrelated pids alone", { timeout: 30_000 }, async () => {
    const dir = stateDir();
    const storeDir = natsStoreDir(dir);
    mkdirSync(storeDir, { recursive: true });
    const orphan = spawn(findNatsServer()!, ["-a", "127.0.0.1", "-p", "-1", "-js", "-sd", storeDir], { stdio: "ignore", detached: true });
    writeFileSync(pidFilePath(storeDir), `${orphan.pid}\n`);
    const server = await start({ stateDir: dir });
    expect(alive(orphan.pid!) && orphan.exitCode === null && orphan.signalCode === null).toBe(false);
    expect(server.pid).not.toBe(orphan.pid);
    await server.stop();
    started.length = 0;
    // A recorded pid that is not nats-server on this store (a reused pid, say) is not touched.
    const bystander = startProcess("sleep", ["30"]);
    writeFileSync(pidFilePath(storeDir), `${bystander.child.pid}\n`);
    await start({ stateDir: dir });
    expect(bystander.child.exitCode === null && bystander.child.signalCode === null).toBe(true);
  });

  it("dies with a platform that is SIGKILLed (the watchdog)", { timeout: 30_000 }, async () => {
    const dir = stateDir();
    const platform = startProcess(process.execPath, ["--import", "tsx", join(import.meta.dirname, "testdata", "run-server.ts"), dir]);
    const { pid } = await waitFor(() => {
      const line = platform.output().split("\n").find((l) => l.startsWith("{"));
      return line ? (JSON.parse(line) as { pid: number }) : undefined;
    }, { what: `the stand-in platform to start nats-server (output: ${platform.output()})`, timeoutMs: 20_000 });
    expect(alive(pid)).toBe(true);
    platform.kill("SIGKILL");
    await waitFor(() => !alive(pid), { what: `nats-server pid ${pid} to exit after its platform was killed` });
  });

  it("fails with the server's output when it cannot start (port in use)", { timeout: 30_000 }, async () => {
    const taken = await start({ stateDir: stateDir() });
    const port = Number(new URL(taken.url.replace("nats:", "http:")).port);
    const error = await startNatsServer({ stateDir: stateDir(), port }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(NatsServerStartError);
    expect((error as Error).message).toMatch(/nats-server exited while starting; its last output:\n[\s\S]*address already in use/);
  });

  it("names the missing binary and how to fix it", async () => {
    vi.stubEnv("NATS_SERVER_BIN", join(root, "no-such-nats-server"));
    try {
      const error = await startNatsServer({ stateDir: stateDir() }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(NatsServerNotFoundError);
      expect((error as Error).message).toContain("nats-server not found");
      expect((error as Error).message).toContain("or pass --nats URL");
    } finally {
      vi.unstubAllEnvs();
    }
  });
});
