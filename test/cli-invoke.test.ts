// `skiff invoke <url>` run as a user would, against real function replicas (functions/hello,
// functions/echo-event, the behaviours fixture) and a recording server that shows exactly
// what the command sent.
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort } from "./harness/ports.ts";
import { runSkiff } from "./harness/processes.ts";
import { startBuiltReplica, waitReady, type RunningReplica } from "./harness/replica.ts";

const HELLO = fileURLToPath(new URL("../functions/hello", import.meta.url));
const ECHO = fileURLToPath(new URL("../functions/echo-event", import.meta.url));
const BEHAVIOURS = fileURLToPath(new URL("./fixtures/behaviours", import.meta.url));
const STACK_FRAME = /^\s{4}at /m;

interface Recorded {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: string;
}

let hello: RunningReplica;
let echo: RunningReplica;
let behaviours: RunningReplica;
let recorder: Server;
let recorderUrl: string;
const recorded: Recorded[] = [];
let tmp: string;

beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), "skiff-cli-invoke-"));
  [hello, echo, behaviours] = await Promise.all([startBuiltReplica(HELLO), startBuiltReplica(ECHO), startBuiltReplica(BEHAVIOURS)]);
  await Promise.all([waitReady(hello.url), waitReady(echo.url), waitReady(behaviours.url)]);
  recorder = createServer((req, res) => {
    let body = "";
    req.on("data", (chunk: Buffer) => (body += chunk.toString()));
    req.on("end", () => {
      recorded.push({ method: req.method ?? "", url: req.url ?? "", headers: req.headers, body });
      res.setHeader("content-type", "application/json");
      res.end(JSON.stringify({ ok: true }));
    });
  });
  await new Promise<void>((resolve) => recorder.listen(0, "127.0.0.1", resolve));
  const address = recorder.address();
  recorderUrl = `http://127.0.0.1:${typeof address === "object" && address ? address.port : 0}`;
});

afterAll(async () => {
  await new Promise((resolve) => recorder?.close(resolve));
  await rm(tmp, { recursive: true, force: true });
});

describe("skiff invoke <url>", () => {
  it("prints the body and exits 0", async () => {
    const result = await runSkiff(["invoke", hello.url]);
    expect(result.code).toBe(0);
    expect(result.stdout).toBe("hello, world\n");
    expect(result.stderr).toBe("");
  });

  it("--path with a query reaches the function", async () => {
    const result = await runSkiff(["invoke", hello.url, "--path", "/greet?name=skiff"]);
    expect(result.code).toBe(0);
    expect(result.stdout).toBe("hello, skiff\n");
  });

  it("--path /x --data JSON sends a JSON POST to /x", async () => {
    recorded.length = 0;
    const result = await runSkiff(["invoke", recorderUrl, "--path", "/x", "--data", '{"a":1}']);
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toEqual({ ok: true });
    expect(recorded).toHaveLength(1);
    expect(recorded[0]).toMatchObject({ method: "POST", url: "/x", body: '{"a":1}' });
    expect(recorded[0]!.headers["content-type"]).toBe("application/json");
  });

  it("--data @file sends the file's content", async () => {
    recorded.length = 0;
    const file = join(tmp, "payload.json");
    await writeFile(file, '{"features":[1,2,3]}\n');
    const result = await runSkiff(["invoke", recorderUrl, "--data", `@${file}`]);
    expect(result.code).toBe(0);
    expect(recorded[0]).toMatchObject({ method: "POST", url: "/", body: '{"features":[1,2,3]}\n' });
    expect(recorded[0]!.headers["content-type"]).toBe("application/json");

    const behavioursResult = await runSkiff(["invoke", behaviours.url, "--path", "/body", "--data", `@${file}`]);
    expect(behavioursResult.code).toBe(0);
    expect(JSON.parse(behavioursResult.stdout)).toEqual({ bytes: 21 });
  });

  it("--data @missing-file: exit 1, one line naming the file", async () => {
    const missing = join(tmp, "nope.json");
    const result = await runSkiff(["invoke", recorderUrl, "--data", `@${missing}`]);
    expect(result.code).toBe(1);
    expect(result.stderr.trim()).toBe(`skiff invoke: cannot read --data file ${missing}: no such file`);
  });

  it("--event --type --source --data to echo-event prints the reply event", async () => {
    const result = await runSkiff(["invoke", echo.url, "--event", "--type", "t", "--source", "/s", "--data", '{"a":1}']);
    expect(result.code).toBe(0);
    const reply = JSON.parse(result.stdout) as Record<string, unknown>;
    expect(reply).toMatchObject({ type: "t", source: "/s", data: { a: 1 }, specversion: "1.0" });
    expect(typeof reply.id).toBe("string");
  });

  it("--event --structured round-trips through echo-event too", async () => {
    const result = await runSkiff(["invoke", echo.url, "--event", "--structured", "--type", "t2", "--source", "/s2", "--data", '{"b":[1,2]}']);
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject({ type: "t2", source: "/s2", data: { b: [1, 2] } });
  });

  it("--event without --type: exit 2", async () => {
    const result = await runSkiff(["invoke", echo.url, "--event", "--data", '{"a":1}']);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("--event needs --type");
    expect(result.stderr).not.toMatch(STACK_FRAME);
  });

  it("an HTTP 500 prints the body and exits 1 with HTTP 500 on stderr", async () => {
    const result = await runSkiff(["invoke", behaviours.url, "--path", "/throw"]);
    expect(result.code).toBe(1);
    expect(JSON.parse(result.stdout)).toMatchObject({ error: "boom" });
    expect(result.stderr.trim()).toBe("HTTP 500");
  });

  it("an unreachable URL: exit 1, one line cannot reach ...", async () => {
    const url = `http://127.0.0.1:${await freePort()}`;
    const result = await runSkiff(["invoke", url]);
    expect(result.code).toBe(1);
    const lines = result.stderr.trim().split("\n");
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(new RegExp(`^skiff invoke: cannot reach ${url.replace(/\./g, "\\.")}: ECONNREFUSED`));
  });

  it("a function name with no platform running: exit 1, saying to start skiff up", async () => {
    const stateDir = await mkdtemp(join(tmpdir(), "skiff-noplatform-"));
    const result = await runSkiff(["invoke", "hello", "--state-dir", stateDir]);
    expect(result.code).toBe(1);
    expect(result.stderr.trim()).toBe(`skiff invoke: no platform is running for ${stateDir}: start one with "skiff up" (or pass --state-dir)`);
    await rm(stateDir, { recursive: true, force: true });
  });

  it("neither a URL nor a function name: exit 2", async () => {
    const result = await runSkiff(["invoke", "Not_A_Name"]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('"Not_A_Name" is neither a URL nor a function name');
    expect(result.stderr).not.toMatch(STACK_FRAME);
  });

  it("a malformed URL: exit 2 naming it", async () => {
    const result = await runSkiff(["invoke", "http://127.0.0.1:99999/"]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('"http://127.0.0.1:99999/" is not a valid URL');
    expect(result.stderr).not.toMatch(STACK_FRAME);
  });

  it("--json gives {status, headers, body}", async () => {
    const ok = await runSkiff(["invoke", behaviours.url, "--path", "/env", "--json"]);
    expect(ok.code).toBe(0);
    const parsed = JSON.parse(ok.stdout) as { status: number; headers: Record<string, string>; body: unknown };
    expect(parsed.status).toBe(200);
    expect(parsed.headers["content-type"]).toMatch(/^application\/json/);
    expect(parsed.body).toMatchObject({ env: { GREETING: "hi" } });

    const text = await runSkiff(["invoke", hello.url, "--json"]);
    expect(JSON.parse(text.stdout)).toMatchObject({ status: 200, body: "hello, world\n" });

    const failed = await runSkiff(["invoke", behaviours.url, "--path", "/throw", "--json"]);
    expect(failed.code).toBe(1);
    expect(JSON.parse(failed.stdout)).toMatchObject({ status: 500, body: { error: "boom" } });
  });
});
