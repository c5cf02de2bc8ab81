import { describe, expect, it } from "vitest";
import { parseRuncError } from "./runc.ts";

describe("parseRuncError", () => {
  it.each([
    {
      line: 'time="2026-11-28T11:40:17Z" level=error msg="runc run failed: unable to start container process: exec: \\"node\\": executable file not found in $PATH"',
      want: 'runc run failed: unable to start container process: exec: "node": executable file not found in $PATH',
    },
    { line: "time=x level=fatal msg=boom", want: "boom" },
    { line: 'time="x" level=warning msg="cgroup v1 is deprecated"', want: undefined },
    { line: "INFO  listening fn=hello port=1", want: undefined },
  ])("$line", ({ line, want }) => {
    expect(parseRuncError(line)).toBe(want);
  });
});

