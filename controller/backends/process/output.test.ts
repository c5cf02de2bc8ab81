import { describe, expect, it } from "vitest";
import { makeLineSplitter, parseListeningPort, reportsListeningPort } from "./output.ts";

describe("makeLineSplitter", () => {
  it("buffers partial lines until their newline and flushes the rest at end", () => {
    const lines: string[] = [];
    const splitter = makeLineSplitter((l) => lines.push(l));
    splitter.push("hel");
    expect(lines).toEqual([]);
    splitter.push("lo\r\nwor");
    splitter.push(Buffer.from("ld\n\nlast"));
    expect(lines).toEqual(["hello", "world", ""]);
    splitter.end();
    expect(lines).toEqual(["hello", "world", "", "last"]);
  });

  it("keeps a multi-byte character split across chunks", () => {
    const lines: string[] = [];
    const splitter = makeLineSplitter((l) => lines.push(l));
    const bytes = Buffer.from("é\n");
    splitter.push(bytes.subarray(0, 1));
    splitter.push(bytes.subarray(1));
    expect(lines).toEqual(["é"]);
  });

  it("cuts an overlong line instead of growing without bound", () => {
    const lines: string[] = [];
    const splitter = makeLineSplitter((l) => lines.push(l), 4);
    splitter.push("abcdefghij");
    expect(lines).toEqual(["abcd", "efgh"]);
  });
});

describe("parseListeningPort", () => {
  const table: Array<[string, number | undefined]> = [
    ["2024-05-01T10:00:00.000Z INFO  listening fn=hello port=41234", 41234],
    ["2024-05-01T10:00:00.000Z INFO  listening port=8080", 8080],
    ["2024-05-01T10:00:00.000Z INFO  ready initMs=3", undefined],
    ["listening port=80", undefined],
    ["2024-05-01T10:00:00.000Z INFO  listening fn=x port=70000", undefined],
  ];
  for (const [line, want] of table) {
    it(`${JSON.stringify(line)} -> ${want}`, () => expect(parseListeningPort(line)).toBe(want));
  }
});

describe("reportsListeningPort", () => {
  it("is true unless the level hides info records", () => {
    expect([undefined, "debug", "info", "INFO", "bogus", "warn", "ERROR"].map(reportsListeningPort)).toEqual([
      true, true, true, true, true, false, false,
    ]);
  });
});
