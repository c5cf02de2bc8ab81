import { describe, expect, it } from "vitest";
import { isServerOf } from "./leftover.ts";

describe("isServerOf", () => {
  it.each([
    [["nats-server", "-a", "127.0.0.1", "-p", "-1", "-js", "-sd", "/s/nats"], true],
    [["/usr/bin/nats-server", "-js", "--store_dir", "/s/nats"], true],
    [["nats-server", "-js", "-sd", "/other/nats"], false],
    [["nats-server", "-sd", "/s/nats"], false],
    [["sleep", "30"], false],
    [["-sd", "/s/nats", "-js"], false],
    [[], false],
  ])("%j -> %s", (argv, expected) => {
    expect(isServerOf(argv, "/s/nats")).toBe(expected);
  });
});
