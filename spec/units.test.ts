import { describe, expect, it } from "vitest";
import {
  SpecError, formatDuration, formatSize, parseDuration, parseQuantity, parseSize, tryParseDuration,
} from "./index.ts";

describe("parseDuration", () => {
  it.each([
    ["500ms", 500], ["30s", 30_000], ["5m", 300_000], ["1h", 3_600_000], ["1m30s", 90_000],
    ["1h2m3s4ms", 3_723_004], ["0s", 0], ["0ms", 0], ["1.5s", 1500], ["2.5ms", 3], ["90m", 5_400_000],
  ])("%s -> %d ms", (text, ms) => {
    expect(parseDuration(text)).toBe(ms);
  });

  it.each(["30", "0", "", "s", "1d", "-1s", "1 s", "1S", "1.s", ".5s", "30sec", "1m 30s", "ms"])(
    "rejects %j",
    (text) => {
      expect(() => parseDuration(text)).toThrow(SpecError);
      expect(tryParseDuration(text)).toBeUndefined();
    },
  );

  it("says what a duration looks like", () => {
    expect(() => parseDuration("30")).toThrow('expected a duration like "30s" or "500ms", got "30"');
  });
});

describe("formatDuration", () => {
  it.each([
    [0, "0s"], [5, "5ms"], [1000, "1s"], [1500, "1s500ms"], [90_000, "1m30s"], [3_600_000, "1h"], [3_723_004, "1h2m3s4ms"],
  ])("%d ms -> %s (and back)", (ms, text) => {
    expect(formatDuration(ms)).toBe(text);
    expect(parseDuration(text)).toBe(ms);
  });
});

describe("parseSize", () => {
  it.each([
    ["512b", 512], ["512", 512], ["0", 0], ["64kb", 65_536], ["64KB", 65_536], ["64KiB", 65_536],
    ["10mb", 10_485_760], ["10MiB", 10_485_760], ["1gb", 1_073_741_824], ["1GiB", 1_073_741_824],
    ["1.5kb", 1536], ["0b", 0],
  ])("%s -> %d bytes", (text, bytes) => {
    expect(parseSize(text)).toBe(bytes);
  });

  it.each(["10tb", "10 mb", "mb", "", "-1kb", "1.5", "10m", "10k", "1e3", "10mbb"])("rejects %j", (text) => {
    expect(() => parseSize(text)).toThrow(SpecError);
  });
});

describe("formatSize", () => {
  it.each([[0, "0b"], [512, "512b"], [1024, "1kb"], [1536, "1.5kb"], [10_485_760, "10mb"], [1_073_741_824, "1gb"]])(
    "%d bytes -> %s",
    (bytes, text) => {
      expect(formatSize(bytes)).toBe(text);
    },
  );
});

describe("parseQuantity (Kubernetes)", () => {
  it.each([
    ["1", 1], ["0.5", 0.5], ["500m", 0.5], ["250u", 0.00025], ["1k", 1000], ["512Mi", 536_870_912],
    ["1Gi", 1_073_741_824], ["1G", 1e9], ["1000000", 1e6], ["1e3", 1000], ["1E3", 1000], [".5", 0.5], ["2Ki", 2048],
  ])("%s -> %d", (text, value) => {
    expect(parseQuantity(text)).toBeCloseTo(value, 9);
  });

  it.each(["", "1GB", "1gi", "Mi", "-1", "1.2.3", "1 Gi", "1mi", "one"])("rejects %j", (text) => {
    expect(() => parseQuantity(text)).toThrow(SpecError);
  });
});
