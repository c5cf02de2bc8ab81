import { describe, expect, it } from "vitest";
import { ConflictError, NotFoundError, ValidationError } from "./errors.ts";
import { makeTestSpec } from "./store-contract.ts";
import { LATEST_REVISION, makeDeployTraffic, parseTraffic, pickRollbackTarget, sameTraffic } from "./traffic.ts";
import type { FunctionRecord, TrafficTarget } from "./types.ts";

function makeRecord(ids: string[], traffic: TrafficTarget[]): FunctionRecord {
  const revisions = ids.map((id) => ({ id, fn: "f", spec: makeTestSpec("f"), bundleDir: `/x/${id}`, contentHash: "0", createdAtMs: 0 }));
  return { name: "f", revisions, traffic, createdAtMs: 0, updatedAtMs: 0, generation: 1 };
}

describe("parseTraffic", () => {
  it("accepts whole percents summing to 100, zero shares included", () => {
    const traffic = [{ revision: "a", percent: 100 }, { revision: "b", percent: 0 }];
    expect(parseTraffic(traffic)).toEqual(traffic);
  });

  it.each([
    [undefined, "non-empty list"],
    [[], "non-empty list"],
    [["a"], "traffic[0]: expected {revision, percent}"],
    [[{ revision: "a" }], "traffic[0].percent"],
    [[{ revision: "", percent: 100 }], "traffic[0].revision"],
    [[{ revision: "a", percent: 100, tag: "x" }], 'unknown key "tag"'],
    [[{ revision: "a", percent: 101 }], "traffic[0].percent"],
    [[{ revision: "a", percent: 50 }, { revision: "b", percent: 49.5 }], "traffic[1].percent"],
    [[{ revision: "a", percent: 50 }, { revision: "a", percent: 50 }], "listed twice"],
    [[{ revision: "a", percent: 50 }], "sum to 100, got 50"],
  ])("rejects %j (%s)", (value, message) => {
    expect(() => parseTraffic(value)).toThrow(ValidationError);
    expect(() => parseTraffic(value)).toThrow(message);
  });
});

describe("makeDeployTraffic", () => {
  it("routes everything to the revision by default and resolves @latest", () => {
    expect(makeDeployTraffic("b")).toEqual([{ revision: "b", percent: 100 }]);
    expect(makeDeployTraffic("b", [{ revision: "a", percent: 80 }, { revision: LATEST_REVISION, percent: 20 }])).toEqual([
      { revision: "a", percent: 80 },
      { revision: "b", percent: 20 },
    ]);
  });
});

describe("pickRollbackTarget", () => {
  it.each([
    ["the revision before the 100% target", makeRecord(["a", "b", "c"], [{ revision: "c", percent: 100 }]), undefined, "c", "b"],
    ["a named revision", makeRecord(["a", "b", "c"], [{ revision: "c", percent: 100 }]), "a", "a", "a"],
  ])("picks %s", (_what, record, to, _current, want) => {
    expect(pickRollbackTarget(record, to)).toBe(want);
  });

  it.each([
    ["no traffic", makeRecord(["a"], []), undefined, ConflictError, "has no traffic yet"],
    ["split traffic", makeRecord(["a", "b"], [{ revision: "a", percent: 50 }, { revision: "b", percent: 50 }]), undefined, ConflictError, "splits"],
    ["the oldest", makeRecord(["a", "b"], [{ revision: "a", percent: 100 }]), undefined, ConflictError, "no revision before a"],
    ["an unknown one", makeRecord(["a"], [{ revision: "a", percent: 100 }]), "zz", NotFoundError, 'no revision "zz"'],
  ])("refuses %s", (_what, record, to, type, message) => {
    expect(() => pickRollbackTarget(record, to)).toThrow(type);
    expect(() => pickRollbackTarget(record, to)).toThrow(message);
  });
});

describe("sameTraffic", () => {
  it("compares revisions, percents and order", () => {
    const a = { revision: "a", percent: 50 };
    const b = { revision: "b", percent: 50 };
    expect(sameTraffic([a, b], [{ ...a }, { ...b }])).toBe(true);
    expect(sameTraffic([a, b], [b, a])).toBe(false);
    expect(sameTraffic([a], [a, b])).toBe(false);
  });
});
