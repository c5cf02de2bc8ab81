import { describe, expect, it } from "vitest";
import { makeOutputSink, parseNatsLogLine } from "./output.ts";

function recorder() {
  const lines: string[] = [];
  const at = (level: string) => (msg: string) => lines.push(`${level} ${msg}`);
  return { lines, logger: { info: at("info"), warn: at("warn"), error: at("error") } };
}

describe("parseNatsLogLine", () => {
  it.each([
    ["[12] 2024/01/02 15:04:05.123456 [INF] Starting nats-server", { level: "info", text: "Starting nats-server" }],
    ["[12] 2024/01/02 15:04:05.123456 [WRN] slow consumer", { level: "warn", text: "slow consumer" }],
    ["[12] 2024/01/02 15:04:05.123456 [ERR] listen tcp: address already in use", { level: "error", text: "listen tcp: address already in use" }],
    ["[12] 2024/01/02 15:04:05.123456 [FTL] bad config", { level: "error", text: "bad config" }],
    ["[12] 2024/01/02 15:04:05.123456 [DBG] detail", { level: "info", text: "detail" }],
    ["[12] 2024/01/02 15:04:05.123456 [INF] ", { level: "info", text: "" }],
    ["panic: something", { level: "info", text: "panic: something" }],
  ])("parses %j", (line, expected) => {
    expect(parseNatsLogLine(line)).toEqual(expected);
  });
});

describe("makeOutputSink", () => {
  const line = (level: string, text: string) => `[7] 2024/01/02 15:04:05.000001 [${level}] ${text}\n`;

  it("keeps the startup banner out of the log but logs warnings at once and info after ready", () => {
    const { lines, logger } = recorder();
    const sink = makeOutputSink(logger);
    sink.write(line("INF", "Starting nats-server") + line("WRN", "no auth"));
    // A line split across chunks is logged once, whole.
    sink.write(line("INF", "Server is ready").slice(0, 20));
    sink.write(line("INF", "Server is ready").slice(20) + line("INF", "Initiating Shutdown..."));
    expect(lines).toEqual(["warn nats-server: no auth", "info nats-server: Initiating Shutdown..."]);
    sink.restarted();
    sink.write(line("INF", "Starting nats-server") + line("ERR", "boom"));
    expect(lines.slice(2)).toEqual(["error nats-server: boom"]);
  });

  it("remembers the last lines (and a partial one) for error messages", () => {
    const sink = makeOutputSink(recorder().logger, 2);
    sink.write("one\ntwo\nthree\nfour");
    expect(sink.tail()).toBe("two\nthree\nfour");
  });
});
