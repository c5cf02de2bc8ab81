import { describe, expect, it } from "vitest";
import { parseFunctionSpec, validateFunctionSpec } from "../../spec/index.ts";
import { makeSpecInput } from "./spec-input.ts";

describe("makeSpecInput", () => {
  it.each([
    ["defaults only", "name: hello\n"],
    [
      "every field",
      [
        "name: ocr-detect",
        "entry: main.mts",
        "http: false",
        "events:",
        "  - { subject: ocr.preprocessed, type: skiff.ocr.preprocessed, reply: ocr.detected, maxDeliver: 3, backoff: [1500ms, 1m30s] }",
        "  - { subject: 'ocr.*' }",
        "scale: { min: 1, max: 7, concurrency: 4, target: 2.5, window: 90s, scaleToZeroAfter: 0s }",
        "timeout: 59m59s1ms",
        "maxBodySize: 1.37mb",
        "env: { LOG_LEVEL: debug, N: 3 }",
        "assets: [models/, labels.txt]",
        "resources: { cpu: 500m, memory: 1.5Gi, gpu: 1 }",
        "batch: { maxSize: 16, maxDelay: 2ms }",
      ].join("\n"),
    ],
  ])("round-trips through validateFunctionSpec: %s", (_what, yaml) => {
    const spec = parseFunctionSpec(yaml);
    expect(validateFunctionSpec(makeSpecInput(spec))).toEqual(spec);
  });
});
