// What a replica sees and says: only its declared env plus platform keys; every output line
// reaches onLog and the per-function log file, tagged with the replica id.
import { readFile } from "node:fs/promises";
import { mkdtemp, rm } from "node:fs/promises";
import { existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it, onTestFinished } from "vitest";
import { waitFor } from "../../../test/harness/wait-for.ts";
import type { LogLine, Revision } from "../../types.ts";
import { logFilePath } from "./index.ts";
import { BEHAVIOURS, buildFixture, startTestBackend } from "./testdata/support.ts";

let behaviours: (env?: Record<string, string>) => Revision;
beforeAll(async () => {
  behaviours = await buildFixture(BEHAVIOURS);
}, 60_000);

describe("process backend: env and logs", { timeout: 20_000 }, () => {
  it("gives a replica only its declared env and the platform's variables", async () => {
    process.env.LEAK_SECRET = "s3cret";
    onTestFinished(() => void delete process.env.LEAK_SECRET);
    const t = startTestBackend({ platformEnv: { SKIFF_NATS_URL: "nats://127.0.0.1:4222" } });
    const revision = behaviours({ GREETING: "hey" });
    t.backend.scale(revision, 1);
    const [replica] = await t.waitPhase(revision, "ready");
    const body = (await (await fetch(`${replica!.url}/env`)).json()) as { env: Record<string, string>; leaked: string[] };
    expect(body).toEqual({ env: { INIT_DELAY_MS: "0", GREETING: "hey" }, leaked: [] });
    // The whole process environment, as the kernel holds it (Linux).
    const environ = `/proc/${replica!.pid}/environ`;
    if (existsSync(environ)) {
      const keys = (await readFile(environ, "utf8")).split("\0").filter(Boolean).map((kv) => kv.slice(0, kv.indexOf("="))).sort();
      // A replica in a pool worker (started before its function was known) keeps the worker's
      // launch env in the kernel's copy; its process.env is the replica's, as /env showed.
      const expected = replica!.pooled
        ? ["NODE_CHANNEL_FD", "NODE_CHANNEL_SERIALIZATION_MODE", "NODE_ENV", "PATH"]
        : ["GREETING", "HOST", "INIT_DELAY_MS", "NODE_ENV", "PATH", "PORT", "SKIFF_CPU_MILLIS", "SKIFF_DRAIN_GRACE_MS", "SKIFF_FUNCTION", "SKIFF_NATS_URL", "SKIFF_REPLICA", "SKIFF_REVISION"];
      expect(keys).toEqual(expected);
    }
  });

  it("delivers every output line to onLog and appends it to <stateDir>/logs/<fn>.log", async () => {
    const stateDir = await mkdtemp(join(tmpdir(), "skiff-process-logs-"));
    onTestFinished(() => rm(stateDir, { recursive: true, force: true }));
    const lines: LogLine[] = [];
    const t = startTestBackend({ stateDir, onLog: (l) => lines.push(l) });
    const revision = behaviours();
    t.backend.scale(revision, 1);
    const [replica] = await t.waitPhase(revision, "ready");
    const ready = await waitFor(() => lines.find((l) => / INFO +ready\b/.test(l.text)), { what: "the runtime's ready line" });
    expect(ready).toMatchObject({ fn: "behaviours", replica: replica!.id, stream: "stdout" });
    await t.backend.stop(); // flushes the file
    const file = await readFile(logFilePath(stateDir, "behaviours"), "utf8");
    const fileLines = file.trimEnd().split("\n");
    expect(fileLines.length).toBe(lines.length);
    for (const line of fileLines) expect(line).toMatch(new RegExp(`^\\d{4}-\\d\\d-\\d\\dT[\\d:.]+Z ${replica!.id} `));
    expect(file).toContain(`${replica!.id} ${ready.text}\n`);
    expect(file).toContain(`${replica!.id} shutdown hook ran (in flight 0)\n`);
  });

  it("finds a port by probing when LOG_LEVEL hides the runtime's listening line", async () => {
    const t = startTestBackend();
    const revision = behaviours({ LOG_LEVEL: "warn" });
    t.backend.scale(revision, 1);
    const [replica] = await t.waitPhase(revision, "ready");
    expect((await fetch(`${replica!.url}/hello`)).status).toBe(200);
  });
});
