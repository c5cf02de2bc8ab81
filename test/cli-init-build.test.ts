// `skiff init` and `skiff build` run as a user would (node bin/skiff.mjs): every template
// builds and is then up to date, the model template serves a score, and user errors exit
// 1 or 2 with one clear line and no stack trace (the stack only with --debug).
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort } from "./harness/ports.ts";
import { runSkiff, startProcess } from "./harness/processes.ts";
import { waitFor } from "./harness/wait-for.ts";

let tmp: string;
beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), "skiff-cli-init-"));
});
afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

/** A stack frame line as Node prints it. */
const STACK_FRAME = /^\s{4}at /m;
const lines = (text: string) => text.trim().split("\n").filter(Boolean);

interface BuildJson {
  name: string;
  outDir: string;
  bundle: string;
  rebuilt: boolean;
  durationMs: number;
  inputsHash: string;
}

async function buildJson(dir: string): Promise<BuildJson> {
  const result = await runSkiff(["build", dir, "--json"]);
  expect(result.stderr).toBe("");
  expect(result.code).toBe(0);
  return JSON.parse(result.stdout) as BuildJson;
}

describe("skiff init + build", () => {
  for (const template of ["http", "event", "model"] as const) {
    it(`init --template ${template} makes a function that builds, then is up to date`, async () => {
      const dir = join(tmp, `fn-${template}`);
      const init = await runSkiff(["init", dir, "--template", template]);
      expect(init.code).toBe(0);
      expect(init.stdout).toContain(`created ${template} function "fn-${template}" in ${dir}`);

      const first = await buildJson(dir);
      expect(first).toMatchObject({ name: `fn-${template}`, rebuilt: true });
      expect(first.bundle.startsWith(join(dir, ".skiff", "build"))).toBe(true);

      const second = await buildJson(dir);
      expect(second).toMatchObject({ rebuilt: false, inputsHash: first.inputsHash });
      const human = await runSkiff(["build", dir]);
      expect(human.code).toBe(0);
      expect(human.stdout).toContain(`fn-${template} is up to date`);
    });
  }

  it("init --json describes what it created", async () => {
    const dir = join(tmp, "json-init");
    const init = await runSkiff(["init", dir, "--template", "event", "--json"]);
    expect(init.code).toBe(0);
    expect(JSON.parse(init.stdout)).toMatchObject({ dir, name: "json-init", template: "event" });
  });

  it("the model template's built bundle answers a POST with a score", async () => {
    const dir = join(tmp, "scorer");
    expect((await runSkiff(["init", dir, "--template", "model"])).code).toBe(0);
    const { bundle } = await buildJson(dir);
    const port = await freePort();
    const replica = startProcess(process.execPath, [bundle], {
      env: { PATH: process.env.PATH ?? "", PORT: String(port), HOST: "127.0.0.1" },
    });
    const url = `http://127.0.0.1:${port}`;
    await waitFor(async () => (await fetch(`${url}/_skiff/ready`)).status === 200, { what: "the model replica to be ready", timeoutMs: 15_000 });
    const res = await fetch(url, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ features: [1, 2, 3] }) });
    expect(res.status).toBe(200);
    // weights [0.8, -0.4, 0.25], bias 0.1: z = 0.85
    const { score } = (await res.json()) as { score: number };
    expect(score).toBeCloseTo(1 / (1 + Math.exp(-0.85)), 10);
    const wrong = await fetch(url, { method: "POST", body: JSON.stringify({ features: [1] }) });
    expect(wrong.status).toBe(400);
    expect(replica.output()).not.toMatch(STACK_FRAME);
  });
});

describe("skiff init usage and user errors", () => {
  it("refuses a non-empty directory: exit 1, one line naming it", async () => {
    const dir = join(tmp, "occupied");
    await mkdir(dir);
    await writeFile(join(dir, "notes.txt"), "mine\n");
    const result = await runSkiff(["init", dir]);
    expect(result.code).toBe(1);
    expect(lines(result.stderr)).toHaveLength(1);
    expect(result.stderr).toContain(dir);
    expect(result.stderr).toMatch(/not empty/);
  });

  it("rejects an unknown template with exit 2 and the allowed list", async () => {
    const result = await runSkiff(["init", join(tmp, "never"), "--template", "nope"]);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/--template must be one of http, event, model, got "nope"/);
    expect(result.stderr).not.toMatch(STACK_FRAME);
  });

  it("wants a directory: exit 2 with a usage line", async () => {
    const result = await runSkiff(["init"]);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/^usage: skiff init <dir>/m);
  });

  it("names an unknown flag: exit 2", async () => {
    const result = await runSkiff(["init", join(tmp, "never"), "--bogus"]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("--bogus");
    expect(result.stderr).not.toMatch(STACK_FRAME);
  });

  it("rejects an unknown command: exit 2", async () => {
    const result = await runSkiff(["frobnicate"]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('unknown command "frobnicate"');
  });
});

describe("skiff build user errors", () => {
  it("a directory without function.yaml: exit 1, one line naming the file and the fix, no stack", async () => {
    const dir = join(tmp, "no-spec");
    await mkdir(dir);
    const result = await runSkiff(["build", dir]);
    expect(result.code).toBe(1);
    expect(lines(result.stderr)).toEqual([`skiff build: no function.yaml in ${dir} (create one, or run "skiff init")`]);
    expect(result.stderr).not.toMatch(STACK_FRAME);
  });

  it("a broken function.yaml: exit 1 with every spec error as file:line:col: path: message, no stack", async () => {
    const dir = join(tmp, "bad-spec");
    expect((await runSkiff(["init", dir])).code).toBe(0);
    await writeFile(join(dir, "function.yaml"), 'name: bad-spec\nentry: index.ts\nscale: {max: "ten"}\ncolour: blue\n');
    const result = await runSkiff(["build", dir]);
    expect(result.code).toBe(1);
    const file = join(dir, "function.yaml");
    expect(result.stderr).toMatch(new RegExp(`${escape(file)}:3:\\d+: scale\\.max: .*"ten"`));
    expect(result.stderr).toMatch(new RegExp(`${escape(file)}:4:1: colour: unknown key "colour"`));
    expect(result.stderr).not.toMatch(STACK_FRAME);
    expect(result.stderr).not.toContain("--debug");
  });

  it("a TypeScript syntax error: exit 1 with index.ts:<line>:<col>:, no stack; --debug adds the stack", async () => {
    const dir = join(tmp, "bad-code");
    expect((await runSkiff(["init", dir])).code).toBe(0);
    await writeFile(
      join(dir, "index.ts"),
      'import { defineFunction } from "skiff/runtime";\n\nexport default defineFunction({\n  http() {\n    return new Response("x"\n  },\n});\n',
    );
    const result = await runSkiff(["build", dir]);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^skiff build: index\.ts:6:\d+: /m);
    expect(result.stderr).not.toMatch(STACK_FRAME);

    const debug = await runSkiff(["build", dir, "--debug"]);
    expect(debug.code).toBe(1);
    expect(debug.stderr).toMatch(/index\.ts:6:\d+: /);
    expect(debug.stderr).toMatch(STACK_FRAME);
  });

  it("--debug on a missing function.yaml prints the stack", async () => {
    const result = await runSkiff(["build", join(tmp, "no-spec-debug"), "--debug"]);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(STACK_FRAME);
  });
});

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}
