import { describe, expect, it } from "vitest";
import { formatLogLine, parseLogLine } from "./log-format.ts";

const base = { fn: "hello", replica: "hello-abc-r1", stream: "stdout" as const, atMs: Date.UTC(2025, 0, 2, 3, 4, 5, 6) };

describe("log lines", () => {
  it.each([
    ["plain text", "listening", "2025-01-02T03:04:05.006Z hello-abc-r1 listening\n"],
    ["a trailing newline", "done\n", "2025-01-02T03:04:05.006Z hello-abc-r1 done\n"],
    ["embedded newlines", "a\r\nb", "2025-01-02T03:04:05.006Z hello-abc-r1 a\n2025-01-02T03:04:05.006Z hello-abc-r1 b\n"],
    ["empty text", "", "2025-01-02T03:04:05.006Z hello-abc-r1 \n"],
  ])("formats %s", (_what, text, want) => {
    expect(formatLogLine({ ...base, text })).toBe(want);
  });

  it.each([
    ["2025-01-02T03:04:05.006Z r1 some  text", { atMs: base.atMs, replica: "r1", text: "some  text" }],
    ["2025-01-02T03:04:05.006Z r1 ", { atMs: base.atMs, replica: "r1", text: "" }],
    ["not a log line", undefined],
    ["yesterday r1 text", undefined],
  ])("parses %j", (line, want) => {
    expect(parseLogLine(line)).toEqual(want);
  });
});
