// `skiff publish`, `skiff events tail` and `skiff dlq` run as a user would: publish and tail
// against a real nats-server found through a platform.json in a temp state dir (or --nats),
// and the dlq verbs against a control API served here from the in-memory platform.
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type ServerType, serve } from "@hono/node-server";
import { jetstreamManager } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/nats-core";
import { connect } from "@nats-io/transport-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { makeControlApi } from "../controller/api/index.ts";
import { makeMemoryOps, type MemoryOps } from "../controller/api/testdata/memory-ops.ts";
import { fromNatsMsg, NATS } from "../controller/events/index.ts";
import { validateFunctionSpec } from "../spec/index.ts";
import { describeWithNats, startNatsServer, type NatsServer } from "./harness/nats-server.ts";
import { REPO_ROOT, runSkiff, SKIFF_BIN, startProcess, type TestProcess } from "./harness/processes.ts";
import { waitFor } from "./harness/wait-for.ts";

const TOKEN = "cli-events-token";
const STACK_FRAME = /^\s{4}at /m;
let tmp: string;
let dirs = 0;

beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), "skiff-cli-events-"));
});
afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

/** A state dir as `skiff up` leaves it: platform.json (with the given addresses) and the token. */
async function fakeStateDir(info: { natsUrl?: string; apiUrl?: string }): Promise<string> {
  const dir = join(tmp, `state-${++dirs}`);
  await mkdir(dir, { recursive: true });
  const platform = { pid: process.pid, apiUrl: info.apiUrl ?? "http://127.0.0.1:9", gatewayUrl: "http://127.0.0.1:9", natsUrl: info.natsUrl, startedAtMs: Date.now() };
  await writeFile(join(dir, "platform.json"), JSON.stringify(platform));
  await writeFile(join(dir, "token"), `${TOKEN}\n`, { mode: 0o600 });
  return dir;
}

/** Starts `skiff events tail` and resolves once it says it is subscribed. */
async function startTail(args: string[]): Promise<TestProcess> {
  const tail = startProcess(process.execPath, [SKIFF_BIN, "events", "tail", ...args], { cwd: REPO_ROOT });
  await waitFor(() => tail.output().includes("listening on "), { what: `"listening on" from skiff events tail (output: ${tail.output()})`, timeoutMs: 20_000 });
  return tail;
}

const stdoutLines = (tail: TestProcess) => tail.output().split("\n").filter((line) => line !== "" && !line.startsWith("listening on "));

describeWithNats("skiff publish and skiff events tail", () => {
  let nats: NatsServer;
  let nc: NatsConnection;
  let stateDir: string;
  beforeAll(async () => {
    nats = await startNatsServer();
    nc = await connect({ servers: nats.url });
    stateDir = await fakeStateDir({ natsUrl: nats.url });
  });
  afterAll(async () => {
    await nc?.close();
    await nats?.stop();
  });

  it("round-trips type, source, id and data (unicode, JSON and text, binary and structured mode); skips non-events", async () => {
    const tail = await startTail(["demo.>", "--count", "2", "--json", "--state-dir", stateDir]);
    const first = await runSkiff(["publish", "demo.one", "--type", "com.exämple.greeting", "--source", "/cli/ü", "--id", "ev-1", "--data", '{"msg":"héllo 🌍","n":1}', "--state-dir", stateDir]);
    expect(first, first.stderr).toMatchObject({ code: 0, stderr: "" });
    expect(first.stdout.trim()).toBe("published ev-1 to demo.one (no function listens on demo.one: published on core NATS only)");
    nc.publish("demo.junk", "not an event");
    await nc.flush();
    const second = await runSkiff(["publish", "demo.two", "--type", "t.text", "--data", "plain täxt, not JSON", "--structured", "--state-dir", stateDir]);
    expect(second.code, second.stderr).toBe(0);
    expect(await tail.exited).toBe(0);
    const lines = stdoutLines(tail);
    expect(lines).toHaveLength(3);
    expect(JSON.parse(lines[0]!)).toMatchObject({
      specversion: "1.0", id: "ev-1", type: "com.exämple.greeting", source: "/cli/ü", datacontenttype: "application/json", data: { msg: "héllo 🌍", n: 1 },
    });
    expect(JSON.parse(lines[1]!)).toMatchObject({ subject: "demo.junk", error: expect.stringContaining("invalid CloudEvent") });
    expect(JSON.parse(lines[2]!)).toMatchObject({ type: "t.text", source: "/skiff/cli", datacontenttype: "text/plain; charset=utf-8", data: "plain täxt, not JSON" });
  });

  it("prints one human line per event, and a line naming the reason for a message that is not one", async () => {
    const tail = await startTail(["human.*", "--count", "1", "--state-dir", stateDir]);
    nc.publish("human.junk", "x");
    await nc.flush();
    const result = await runSkiff(["publish", "human.one", "--type", "t.human", "--id", "h-1", "--data", '{"text":"ünïcode"}', "--state-dir", stateDir]);
    expect(result.code, result.stderr).toBe(0);
    expect(await tail.exited).toBe(0);
    const [junk, event] = stdoutLines(tail);
    expect(junk).toMatch(/^not a CloudEvent on human\.junk: invalid CloudEvent: .+/);
    expect(event).toMatch(/^\d{4}-\d{2}-\d{2}T\S+ t\.human \/skiff\/cli h-1 \{"text":"ünïcode"\}$/);
  });

  it("exits 0 on SIGINT", async () => {
    const tail = await startTail(["quiet.>", "--state-dir", stateDir]);
    tail.kill("SIGINT");
    expect(await tail.exited).toBe(0);
  });

  it("publishes --data @file bytes as application/octet-stream", async () => {
    const file = join(tmp, "blob.bin");
    const bytes = new Uint8Array([0, 1, 2, 0xff, 0xfe, 0x80, 10]);
    await writeFile(file, bytes);
    const sub = nc.subscribe("blob.in", { max: 1 });
    await nc.flush();
    const result = await runSkiff(["publish", "blob.in", "--type", "t.blob", "--data", `@${file}`, "--json", "--state-dir", stateDir]);
    expect(result.code, result.stderr).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject({ subject: "blob.in", stored: false });
    for await (const msg of sub) {
      const event = NATS.toEvent(fromNatsMsg(msg));
      expect(event.datacontenttype).toBe("application/octet-stream");
      expect(Buffer.from(event.data as Uint8Array).equals(Buffer.from(bytes))).toBe(true);
    }
  });

  it("stores events in JetStream when a stream covers the subject, and says so with the seq (--nats works alone)", async () => {
    await (await jetstreamManager(nc)).streams.add({ name: "ORDERS", subjects: ["orders.>"] });
    const publish = (id: string, ...extra: string[]) => runSkiff(["publish", "orders.new", "--type", "t.order", "--id", id, "--data", "{}", "--nats", nats.url, "--state-dir", join(tmp, "none"), ...extra]);
    const first = await publish("o-1");
    expect(first.stdout.trim(), first.stderr).toBe("published o-1 to orders.new (stored in JetStream seq 1)");
    const second = await publish("o-2", "--json");
    expect(JSON.parse(second.stdout)).toMatchObject({ id: "o-2", subject: "orders.new", stored: true, stream: "ORDERS", seq: 2 });
    const repeat = await publish("o-1");
    expect(repeat.stdout).toContain("already stored in JetStream seq 1");
  });

  it.each([["a.*.b"], ["a.>"], ["a..b"], ["has space"], [".lead"]])("rejects the subject %j with exit 2 and one line naming it", async (subject) => {
    const result = await runSkiff(["publish", subject, "--type", "t", "--state-dir", stateDir]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(`invalid subject ${JSON.stringify(subject)}`);
    expect(result.stderr).not.toMatch(STACK_FRAME);
  });

  it("rejects a bad tail subject, a missing --type and a missing subcommand with exit 2", async () => {
    const results = await Promise.all([
      runSkiff(["events", "tail", "a.>.b", "--state-dir", stateDir]),
      runSkiff(["publish", "a.b", "--state-dir", stateDir]),
      runSkiff(["events", "a.b"]),
    ]);
    expect(results.map((r) => r.code)).toEqual([2, 2, 2]);
    expect(results[0]!.stderr).toContain('invalid subject "a.>.b"');
    expect(results[1]!.stderr).toContain("--type is required");
    expect(results[2]!.stderr).toContain('unknown subcommand "a.b" (expected tail)');
  });

  it("fails with one line when no platform runs and no --nats is given, or NATS is unreachable", async () => {
    const empty = join(tmp, "empty-state");
    const [none, tailNone, down] = await Promise.all([
      runSkiff(["publish", "a.b", "--type", "t", "--state-dir", empty]),
      runSkiff(["events", "tail", "a.b", "--state-dir", empty]),
      runSkiff(["publish", "a.b", "--type", "t", "--nats", "nats://127.0.0.1:9"]),
    ]);
    for (const result of [none, tailNone]) {
      expect(result.code).toBe(1);
      expect(result.stderr.trim().split("\n")).toEqual([expect.stringMatching(/no platform is running for .*empty-state: start one with "skiff up", or pass --nats URL/)]);
    }
    expect(down.code).toBe(1);
    expect(down.stderr.trim().split("\n")).toEqual([expect.stringContaining("cannot connect to NATS at nats://127.0.0.1:9")]);
  });
});

describe("skiff dlq", () => {
  let ops: MemoryOps;
  let server: ServerType;
  let stateDir: string;
  beforeAll(async () => {
    ops = makeMemoryOps();
    await ops.deploy({ name: "detect", spec: validateFunctionSpec({ name: "detect" }), files: new Map([["index.mjs", new Uint8Array([1])]]) });
    const app = makeControlApi(ops, { token: TOKEN });
    await new Promise<void>((resolve) => {
      server = serve({ fetch: app.fetch, hostname: "127.0.0.1", port: 0 }, () => resolve());
    });
    stateDir = await fakeStateDir({ apiUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}` });
  });
  afterAll(async () => {
    await new Promise((resolve) => server?.close(resolve));
  });

  const letters = () => [
    { seq: 4, subject: "ocr.in", reason: "status 400", status: 400, error: "bad\nimage", deliveries: 1, time: "2025-01-01T00:00:00.000Z", event: { id: "e-4", type: "t.ocr", source: "/cam", data: { n: "ü" } } },
    { seq: 9, subject: "ocr.in", reason: "maxDeliver", status: 503, deliveries: 5, time: "2025-01-01T00:01:00.000Z" },
  ];

  it("lists dead letters as a table, as JSON, and with --limit", async () => {
    ops.deadLetters.set("detect", letters());
    const [table, json, limited] = await Promise.all([
      runSkiff(["dlq", "list", "detect", "--state-dir", stateDir]),
      runSkiff(["dlq", "list", "detect", "--json", "--state-dir", stateDir]),
      runSkiff(["dlq", "list", "detect", "--limit", "1", "--json", "--state-dir", stateDir]),
    ]);
    expect(table.code, table.stderr).toBe(0);
    const rows = table.stdout.trim().split("\n");
    expect(rows[0]).toMatch(/^SEQ\s+TIME\s+SUBJECT\s+REASON\s+STATUS\s+DELIVERIES\s+EVENT\s+ERROR$/);
    expect(rows[1]).toMatch(/^4\s+2025-01-01T00:00:00.000Z\s+ocr\.in\s+status 400\s+400\s+1\s+t\.ocr e-4\s+bad image$/);
    expect(rows[2]).toMatch(/^9\s+.*maxDeliver\s+503\s+5\s+\(unreadable\)/);
    expect(JSON.parse(json.stdout)).toEqual({ deadLetters: letters() });
    expect(JSON.parse(limited.stdout).deadLetters.map((d: { seq: number }) => d.seq)).toEqual([4]);
  });

  it("redrives, exiting 1 when some could not be", async () => {
    ops.deadLetters.set("detect", letters());
    ops.failRedrive.add(9);
    const partial = await runSkiff(["dlq", "redrive", "detect", "--state-dir", stateDir]);
    expect(partial.code).toBe(1);
    expect(partial.stdout.trim()).toBe("redrove 1 dead letter of detect (1 failed, 1 remaining)");
    expect(partial.stderr).toContain("1 dead letter could not be redriven");
    ops.failRedrive.clear();
    const rest = await runSkiff(["dlq", "redrive", "detect", "--json", "--state-dir", stateDir]);
    expect(rest.code).toBe(0);
    expect(JSON.parse(rest.stdout)).toEqual({ redriven: 1, failed: 0, remaining: 0 });
    const empty = await runSkiff(["dlq", "list", "detect", "--state-dir", stateDir]);
    expect(empty.stdout.trim()).toBe("no dead letters for detect");
  });

  it("reports an unknown function in one line (exit 1) and bad usage with exit 2", async () => {
    const [ghost, noSub, badLimit] = await Promise.all([
      runSkiff(["dlq", "list", "ghost", "--state-dir", stateDir]),
      runSkiff(["dlq", "detect", "--state-dir", stateDir]),
      runSkiff(["dlq", "list", "detect", "--limit", "0", "--state-dir", stateDir]),
    ]);
    expect(ghost.code).toBe(1);
    expect(ghost.stderr.trim().split("\n")).toEqual(['skiff dlq: function "ghost" not found']);
    expect(noSub.code).toBe(2);
    expect(noSub.stderr).toContain('unknown subcommand "detect" (expected list or redrive)');
    expect(badLimit.code).toBe(2);
    expect(badLimit.stderr).toContain('--limit must be a whole number >= 1, got "0"');
  });
});
