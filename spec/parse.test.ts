import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  DEFAULTS, SpecError, loadFunctionSpec, makeFunctionSpecJsonSchema, parseFunctionSpec, subjectMatches,
  validateFunctionSpec,
} from "./index.ts";
import type { FunctionSpec } from "./index.ts";

// The example from DESIGN.md, comments included.
const designExample = `name: ocr-detect            # DNS-1123 label
entry: index.ts
http: true                  # reachable at /fn/<name>/*
events:                     # NATS triggers
  - subject: ocr.preprocessed
    type: skiff.ocr.preprocessed   # optional CloudEvent type filter
    reply: ocr.detected            # publish the returned event here
    maxDeliver: 5
    backoff: [1s, 10s, 60s]
scale: { min: 0, max: 10, concurrency: 4, target: 3, window: 60s, scaleToZeroAfter: 30s }
timeout: 30s
maxBodySize: 10mb
env: { LOG_LEVEL: info }
assets: [models/]
resources: { cpu: "1", memory: 1Gi, gpu: 0 }
batch: { maxSize: 16, maxDelay: 5ms }   # model functions: adaptive batching
`;

const minimalSpec: FunctionSpec = {
  name: "x",
  entry: "index.ts",
  http: true,
  events: [],
  scale: { min: 0, max: 10, concurrency: 10, target: 10, windowMs: 60_000, scaleToZeroAfterMs: 30_000 },
  timeoutMs: 30_000,
  maxBodyBytes: 10 * 1024 * 1024,
  env: {},
  assets: [],
  resources: { cpu: "1", cpuMillis: 1000, memory: "512Mi", memoryBytes: 512 * 1024 * 1024, gpu: 0 },
};

function messageOf(run: () => unknown): string {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(SpecError);
    return (error as Error).message;
  }
  throw new Error("expected a SpecError");
}

describe("parseFunctionSpec", () => {
  it("normalizes the DESIGN.md example", () => {
    expect(parseFunctionSpec(designExample)).toStrictEqual({
      name: "ocr-detect",
      entry: "index.ts",
      http: true,
      events: [{
        subject: "ocr.preprocessed",
        type: "skiff.ocr.preprocessed",
        reply: "ocr.detected",
        maxDeliver: 5,
        backoffMs: [1000, 10_000, 60_000],
      }],
      scale: { min: 0, max: 10, concurrency: 4, target: 3, windowMs: 60_000, scaleToZeroAfterMs: 30_000 },
      timeoutMs: 30_000,
      maxBodyBytes: 10_485_760,
      env: { LOG_LEVEL: "info" },
      assets: ["models/"],
      resources: { cpu: "1", cpuMillis: 1000, memory: "1Gi", memoryBytes: 1_073_741_824, gpu: 0 },
      batch: { maxSize: 16, maxDelayMs: 5 },
    });
  });

  it("fills every default for `name: x`, matching DEFAULTS", () => {
    const spec = parseFunctionSpec("name: x\n");
    expect(spec).toStrictEqual(minimalSpec);
    expect(spec.scale).toEqual(DEFAULTS.scale);
    expect(spec.resources).toEqual({ ...DEFAULTS.resources });
    expect(spec.timeoutMs).toBe(DEFAULTS.timeoutMs);
  });

  it("fills trigger and batch defaults", () => {
    const spec = parseFunctionSpec("name: x\nevents: [{ subject: a.* }]\nbatch: { maxSize: 8 }\n");
    expect(spec.events).toStrictEqual([{ subject: "a.*", maxDeliver: 5, backoffMs: [1000, 10_000, 60_000] }]);
    expect(spec.batch).toStrictEqual({ maxSize: 8, maxDelayMs: 5 });
  });

  it("defaults target to concurrency, and allows scaling to zero at once", () => {
    const spec = parseFunctionSpec("name: x\nscale: { concurrency: 4, scaleToZeroAfter: 0s, target: 2.5 }\n");
    expect(spec.scale).toMatchObject({ concurrency: 4, target: 2.5, scaleToZeroAfterMs: 0 });
    expect(parseFunctionSpec("name: x\nscale: { concurrency: 4 }\n").scale.target).toBe(4);
  });

  it("stringifies env values and accepts numeric quantities and byte counts", () => {
    const spec = parseFunctionSpec(
      "name: x\nenv: { WORKERS: 4, DEBUG: false, RATIO: 0.5 }\nresources: { cpu: 0.1, memory: 1000000 }\nmaxBodySize: 2048\n",
    );
    expect(spec.env).toStrictEqual({ WORKERS: "4", DEBUG: "false", RATIO: "0.5" });
    expect(spec.resources).toMatchObject({ cpu: "0.1", cpuMillis: 100, memory: "1000000", memoryBytes: 1_000_000 });
    expect(spec.maxBodyBytes).toBe(2048);
  });

  it("rounds cpu up to whole millicores, as Kubernetes does", () => {
    expect(parseFunctionSpec("name: x\nresources: { cpu: 250m, memory: 1G }\n").resources).toMatchObject({
      cpuMillis: 250, memoryBytes: 1e9,
    });
    expect(parseFunctionSpec("name: x\nresources: { cpu: 1500u }\n").resources.cpuMillis).toBe(2);
  });

  it("labels messages with options.file, default function.yaml", () => {
    expect(messageOf(() => parseFunctionSpec("name: X\n"))).toMatch(/^function\.yaml:1:7: name: /);
    expect(messageOf(() => parseFunctionSpec("name: X\n", { file: "functions/x/function.yaml" })))
      .toMatch(/^functions\/x\/function\.yaml:1:7: name: /);
  });

  it("reports a second YAML document as a syntax error", () => {
    expect(messageOf(() => parseFunctionSpec("name: x\n---\nname: y\n"))).toMatch(/^function\.yaml:2:1: \(yaml\): source contains multiple documents/);
  });

  it("points at the key of a mapping that lacks a required key, and quotes odd key names", () => {
    expect(messageOf(() => parseFunctionSpec("name: x\nevents:\n  - type: t\n"))).toBe("function.yaml:3:5: events[0].subject: required");
    expect(messageOf(() => parseFunctionSpec("name: x\nenv: { A.B: c }\n"))).toMatch(/^function\.yaml:2:8: env\["A\.B"\]: expected an environment variable name/);
  });
});

describe("validateFunctionSpec", () => {
  it("validates a plain object (e.g. a Function resource's spec) with the same schema", () => {
    expect(validateFunctionSpec({ name: "x" })).toStrictEqual(minimalSpec);
    expect(messageOf(() => validateFunctionSpec({ name: "x", scale: { max: "ten" }, timout: "5s" }))).toBe(
      'scale.max: expected an integer >= 1, got "ten"\ntimout: unknown key "timout" (did you mean "timeout"?)',
    );
  });
});

describe("makeFunctionSpecJsonSchema", () => {
  it("derives a strict JSON Schema of the file as written", () => {
    const schema = makeFunctionSpecJsonSchema() as {
      required: string[]; additionalProperties: boolean; properties: Record<string, Record<string, unknown>>;
    };
    expect(schema.required).toEqual(["name"]);
    expect(schema.additionalProperties).toBe(false);
    expect(schema.properties.timeout).toMatchObject({ type: "string", default: "30s" });
  });
});

describe("subjectMatches", () => {
  it.each([
    ["a.b", "a.b", true], ["a.*", "a.b", true], ["a.*", "a.b.c", false], ["a.>", "a.b.c", true],
    ["a.>", "a", false], [">", "a", true], ["*.b", "a.b", true], ["a.b", "a.c", false], ["a.b.c", "a.b", false],
  ])("%s matches %s: %s", (pattern, subject, matches) => {
    expect(subjectMatches(pattern, subject)).toBe(matches);
  });
});

describe("loadFunctionSpec", () => {
  let dir = "";
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), "skiff-spec-"));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("reads function.yaml, or function.yml", async () => {
    await writeFile(join(dir, "function.yml"), "name: from-yml\n");
    expect((await loadFunctionSpec(dir)).name).toBe("from-yml");
  });

  it("says how to fix a missing file", async () => {
    await expect(loadFunctionSpec(dir)).rejects.toThrow(`no function.yaml in ${dir} (create one, or run "skiff init")`);
    await expect(loadFunctionSpec(join(dir, "nope"))).rejects.toBeInstanceOf(SpecError);
  });

  it("labels issues with the file's path", async () => {
    await mkdir(join(dir, "fn"));
    await writeFile(join(dir, "fn", "function.yaml"), "name: x\nhttp: yes\n");
    await expect(loadFunctionSpec(join(dir, "fn"))).rejects.toThrow(`${join(dir, "fn", "function.yaml")}:2:7: http: expected a boolean, got "yes"`);
  });

  it("refuses both function.yaml and function.yml", async () => {
    await writeFile(join(dir, "function.yaml"), "name: a\n");
    await writeFile(join(dir, "function.yml"), "name: b\n");
    await expect(loadFunctionSpec(dir)).rejects.toThrow(/both .*function\.yaml and .*function\.yml exist \(keep one\)/);
  });
});
