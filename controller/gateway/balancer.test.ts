import { describe, expect, it } from "vitest";
import { pickLeastOutstanding } from "./balancer.ts";

const c = (spec: string) =>
  spec
    .split(" ")
    .filter(Boolean)
    .map((pair) => {
      const [id, n] = pair.split("=");
      return { id: id!, outstanding: Number(n) };
    });

describe("pickLeastOutstanding", () => {
  it.each([
    // candidates, capacity, rotation, expected
    ["a=0", 2, 0, "a"],
    ["a=1 b=0", 2, 0, "b"],
    ["a=0 b=1", 2, 0, "a"],
    ["a=3 b=1 c=2", 4, 0, "b"],
    ["a=2 b=2", 2, 0, undefined],
    ["a=2 b=1", 2, 0, "b"],
    ["a=1 b=1", 1, 0, undefined],
    ["", 4, 0, undefined],
    // ties rotate
    ["a=0 b=0 c=0", 2, 0, "a"],
    ["a=0 b=0 c=0", 2, 1, "b"],
    ["a=0 b=0 c=0", 2, 2, "c"],
    ["a=0 b=0 c=0", 2, 3, "a"],
    // rotation only among the least loaded; full ones never count
    ["a=1 b=0 c=1 d=0", 2, 1, "d"],
    ["a=5 b=1 c=1", 2, 1, "c"],
    // an over-full replica (capacity lowered) is skipped, not picked
    ["a=9 b=3", 4, 0, "b"],
  ])("%s cap %i rot %i -> %s", (candidates, capacity, rotation, expected) => {
    expect(pickLeastOutstanding(c(candidates), capacity, rotation)).toBe(expected);
  });

  it("spreads equal load evenly when the caller bumps rotation", () => {
    const load: Record<string, number> = { a: 0, b: 0, c: 0 };
    for (let rotation = 0; rotation < 9; rotation++) {
      const id = pickLeastOutstanding(Object.entries(load).map(([id, outstanding]) => ({ id, outstanding })), 3, rotation)!;
      load[id]! += 1;
    }
    expect(load).toEqual({ a: 3, b: 3, c: 3 });
  });
});
