// `skiff dev` run as a user would: `skiff init x && skiff dev x --port P` serves on P, an
// edit is served without restarting the command, a build error keeps the last good build
// serving, and SIGINT stops it with exit 0 and frees the port.
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from "vitest";
import { freePort } from "./harness/ports.ts";
import { runSkiff, SKIFF_BIN, startProcess, type TestProcess } from "./harness/processes.ts";
import { waitFor } from "./harness/wait-for.ts";

let tmp: string;
beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), "skiff-cli-dev-"));
});
afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

const RELOAD_TIMEOUT_MS = 10_000;

/** Starts `skiff dev`; at the end of the test it gets SIGINT first (so its replica is stopped too), SIGKILL only after. */
function startDev(args: string[]): TestProcess & { stdout(): string } {
  const proc = startProcess(process.execPath, [SKIFF_BIN, "dev", ...args]);
  let stdout = "";
  proc.child.stdout?.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
  // Registered after startProcess's own hook, so it runs first (after-hooks run in reverse).
  onTestFinished(async () => {
    proc.kill("SIGINT");
    await Promise.race([proc.exited, new Promise((resolve) => setTimeout(resolve, 5_000))]);
  });
  return { ...proc, stdout: () => stdout };
}

async function getJson(url: string): Promise<{ message: string; path: string }> {
  const res = await fetch(url);
  if (res.status !== 200) throw new Error(`HTTP ${res.status}`);
  return (await res.json()) as { message: string; path: string };
}

/** Writes `index.ts` and waits until `url` serves `message`; returns ms from the write to the first new response. */
async function editAndWait(dir: string, url: string, source: string, message: string): Promise<number> {
  await writeFile(join(dir, "index.ts"), source);
  const written = performance.now();
  await waitFor(async () => (await getJson(url)).message === message, { what: `"${message}" to be served`, timeoutMs: RELOAD_TIMEOUT_MS });
  return Math.round(performance.now() - written);
}

function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once("error", () => resolve(false));
    server.listen(port, "127.0.0.1", () => server.close(() => resolve(true)));
  });
}

describe("skiff dev", () => {
  it("serves the http template, reloads on edit, survives a build error, and stops on SIGINT", async () => {
    const dir = join(tmp, "greeter");
    expect((await runSkiff(["init", dir, "--template", "http"])).code).toBe(0);
    const original = await readFile(join(dir, "index.ts"), "utf8");
    const port = await freePort();
    const url = `http://127.0.0.1:${port}/`;
    const dev = startDev([dir, "--port", String(port)]);

    const first = await waitFor(() => getJson(url), { what: "skiff dev to serve the template", timeoutMs: 20_000 });
    expect(first).toEqual({ message: "hello from greeter", path: "/" });
    await waitFor(() => dev.output().includes(`skiff dev: greeter serving at ${url}`), { what: "the serving line" });

    const edited = original.replace("hello from", "howdy from");
    const reloadMs = await editAndWait(dir, url, edited, "howdy from greeter");
    console.log(`skiff dev reload (edit -> first new response): ${reloadMs}ms`);
    await waitFor(() => dev.output().includes("skiff dev: greeter reloaded at"), { what: "the reloaded line" });

    // A syntax error: the error is printed with its position, the last good build keeps serving.
    const broken = edited.replace("return Response.json(", "return Response.json((");
    await writeFile(join(dir, "index.ts"), broken);
    await waitFor(() => /build failed, still serving the last good build:\nindex\.ts:\d+:\d+: /.test(dev.output()), {
      what: "the build error to be printed",
      timeoutMs: RELOAD_TIMEOUT_MS,
    });
    expect(await getJson(url)).toEqual({ message: "howdy from greeter", path: "/" });
    expect(dev.child.exitCode).toBeNull();

    // Fixing it reloads again.
    const fixedMs = await editAndWait(dir, url, original.replace("hello from", "fixed from"), "fixed from greeter");
    console.log(`skiff dev reload after fixing a build error: ${fixedMs}ms`);

    dev.kill("SIGINT");
    expect(await dev.exited).toBe(0);
    expect(await portIsFree(port)).toBe(true);
    await expect(fetch(url)).rejects.toThrow();
  });

  it("--json prints one JSON object per stdout line, with a ready event", async () => {
    const dir = join(tmp, "jsonfn");
    expect((await runSkiff(["init", dir])).code).toBe(0);
    const port = await freePort();
    const dev = startDev([dir, "--port", String(port), "--json"]);
    const ready = await waitFor(
      () => dev.stdout().split("\n").filter(Boolean).map((line) => JSON.parse(line) as Record<string, unknown>).find((e) => e.event === "ready"),
      { what: "a ready event on stdout", timeoutMs: 20_000 },
    );
    expect(ready).toMatchObject({ event: "ready", url: `http://127.0.0.1:${port}/`, name: "jsonfn", why: "start" });
    expect(typeof ready.ms).toBe("number");
    expect(await getJson(`http://127.0.0.1:${port}/x`)).toEqual({ message: "hello from jsonfn", path: "/x" });
    // The replica's own log lines (on stderr in --json mode) arrived too, yet stdout stays JSON only.
    await waitFor(() => dev.output().includes("hello fn=jsonfn"), { what: "the request's log line" });
    for (const line of dev.stdout().split("\n").filter(Boolean)) expect(() => JSON.parse(line)).not.toThrow();
    dev.kill("SIGINT");
    expect(await dev.exited).toBe(0);
  });

  it("exits 1 with one line when the directory has no function.yaml", async () => {
    const dir = join(tmp, "empty");
    await mkdir(dir);
    const result = await runSkiff(["dev", dir, "--port", String(await freePort())]);
    expect(result.code).toBe(1);
    expect(result.stderr.trim()).toBe(`skiff dev: no function.yaml in ${dir} (create one, or run "skiff init")`);
  });

  it("rejects a bad --port with exit 2", async () => {
    const result = await runSkiff(["dev", tmp, "--port", "http"]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('--port must be a port number 0-65535, got "http"');
  });
});
