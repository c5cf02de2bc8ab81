import { describe, expect, it } from "vitest";
import { isFunctionName, parseGatewayPath, pickTarget } from "./router.ts";
import { seededRandom } from "./testdata/harness.ts";

describe("parseGatewayPath", () => {
  it.each([
    ["/fn/hello/a/b?x=1", { kind: "function", name: "hello", valid: true, path: "/a/b?x=1" }],
    ["/fn/hello", { kind: "function", name: "hello", valid: true, path: "/" }],
    ["/fn/hello/", { kind: "function", name: "hello", valid: true, path: "/" }],
    ["/fn/hello?x=1&y=2", { kind: "function", name: "hello", valid: true, path: "/?x=1&y=2" }],
    ["/fn/hello/?x=1", { kind: "function", name: "hello", valid: true, path: "/?x=1" }],
    ["/fn/ocr-detect/v2/models/m/infer", { kind: "function", name: "ocr-detect", valid: true, path: "/v2/models/m/infer" }],
    // The rest is forwarded as sent: no decoding, no normalization.
    ["/fn/hello/a%2Fb/../c?q=%20", { kind: "function", name: "hello", valid: true, path: "/a%2Fb/../c?q=%20" }],
    ["/fn/hello//double", { kind: "function", name: "hello", valid: true, path: "//double" }],
    ["/fn/Hello/x", { kind: "function", name: "Hello", valid: false, path: "/x" }],
    ["/fn/he_llo", { kind: "function", name: "he_llo", valid: false, path: "/" }],
    ["/fn/hello%2D1", { kind: "function", name: "hello%2D1", valid: false, path: "/" }],
    ["/fn//x", { kind: "function", name: "", valid: false, path: "/x" }],
    ["/fn/", { kind: "function", name: "", valid: false, path: "/" }],
    ["/fn", { kind: "function", name: "", valid: false, path: "/" }],
    ["/fn?x=1", { kind: "function", name: "", valid: false, path: "/?x=1" }],
    ["http://gw.local:8080/fn/hello/a?b=1", { kind: "function", name: "hello", valid: true, path: "/a?b=1" }],
    ["/_skiff/metrics", { kind: "platform", path: "/_skiff/metrics" }],
    ["/", { kind: "none", path: "/" }],
    ["/fnord/x", { kind: "none", path: "/fnord/x" }],
    ["/functions/hello", { kind: "none", path: "/functions/hello" }],
  ])("%s", (target, expected) => {
    expect(parseGatewayPath(target)).toEqual(expected);
  });
});

describe("isFunctionName", () => {
  it.each([
    ["hello", true],
    ["ocr-detect-2", true],
    ["a", true],
    ["a".repeat(63), true],
    ["a".repeat(64), false],
    ["2fast", false],
    ["-x", false],
    ["x-", false],
    ["X", false],
    ["", false],
  ])("%s -> %s", (name, valid) => {
    expect(isFunctionName(name)).toBe(valid);
  });
});

describe("pickTarget", () => {
  const count = (targets: Array<{ revision: string; percent: number }>, picks: number, seed = 42) => {
    const random = seededRandom(seed);
    const counts: Record<string, number> = {};
    for (let i = 0; i < picks; i++) {
      const r = pickTarget(targets, random) ?? "none";
      counts[r] = (counts[r] ?? 0) + 1;
    }
    return counts;
  };

  it("splits 90/10 within tolerance over 1000 picks", () => {
    const counts = count([{ revision: "a", percent: 90 }, { revision: "b", percent: 10 }], 1000);
    expect(counts.a! + counts.b!).toBe(1000);
    expect(counts.b).toBeGreaterThan(70);
    expect(counts.b).toBeLessThan(130);
  });

  it("holds 90/10 for several seeds", () => {
    for (const seed of [1, 7, 1234, 99999]) {
      const counts = count([{ revision: "a", percent: 90 }, { revision: "b", percent: 10 }], 1000, seed);
      expect(Math.abs(counts.b! - 100)).toBeLessThan(35);
    }
  });

  it("weights shares against their sum when they do not add to 100", () => {
    const counts = count([{ revision: "a", percent: 1 }, { revision: "b", percent: 3 }], 4000);
    expect(Math.abs(counts.b! - 3000)).toBeLessThan(120);
  });

  it("never picks a 0% target", () => {
    const counts = count([{ revision: "a", percent: 0 }, { revision: "b", percent: 100 }, { revision: "c", percent: 0 }], 500);
    expect(counts).toEqual({ b: 500 });
  });

  it("returns undefined with no positive share", () => {
    expect(pickTarget([], Math.random)).toBeUndefined();
    expect(pickTarget([{ revision: "a", percent: 0 }], Math.random)).toBeUndefined();
    expect(pickTarget([{ revision: "a", percent: 0 }, { revision: "b", percent: 0 }], Math.random)).toBeUndefined();
  });

  it("does not draw a random number for a single revision", () => {
    let draws = 0;
    expect(pickTarget([{ revision: "only", percent: 100 }], () => (draws++, 0.5))).toBe("only");
    expect(draws).toBe(0);
  });

  it("maps the edges of [0, 1) to the first and last targets", () => {
    const targets = [{ revision: "a", percent: 50 }, { revision: "b", percent: 50 }];
    expect(pickTarget(targets, () => 0)).toBe("a");
    expect(pickTarget(targets, () => 0.4999)).toBe("a");
    expect(pickTarget(targets, () => 0.5)).toBe("b");
    expect(pickTarget(targets, () => 0.9999999999999999)).toBe("b");
  });
});
