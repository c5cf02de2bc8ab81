import { describe, expect, it } from "vitest";
import { type BackoffPolicy, NO_CRASHES, backoffDelayMs, longestReadyStreakMs, recordCrash } from "./backoff.ts";

const policy: BackoffPolicy = { initialMs: 100, maxMs: 10_000, resetAfterMs: 10_000 };

describe("backoffDelayMs", () => {
  const table: Array<[number, number]> = [[0, 0], [1, 100], [2, 200], [3, 400], [7, 6400], [8, 10_000], [500, 10_000]];
  for (const [failures, want] of table) {
    it(`${failures} failures -> ${want}ms`, () => expect(backoffDelayMs(failures, policy)).toBe(want));
  }
});

describe("recordCrash", () => {
  it("doubles the delay with each consecutive crash", () => {
    let state = NO_CRASHES;
    const delays: number[] = [];
    for (let t = 0; t < 5; t++) {
      state = recordCrash(state, { nowMs: t * 1000, readyStreakMs: 0 }, policy);
      delays.push(state.retryAtMs - t * 1000);
    }
    expect(delays).toEqual([100, 200, 400, 800, 1600]);
    expect(state.failures).toBe(5);
    expect(state.lastCrashAtMs).toBe(4000);
  });

  it("forgives earlier crashes once a replica stayed ready for resetAfterMs", () => {
    const looping = { failures: 6, retryAtMs: 0, lastCrashAtMs: 0 };
    expect(recordCrash(looping, { nowMs: 50_000, readyStreakMs: 10_000 }, policy)).toEqual({ failures: 1, retryAtMs: 50_100, lastCrashAtMs: 50_000 });
    expect(recordCrash(looping, { nowMs: 50_000, readyStreakMs: 9_999 }, policy).failures).toBe(7);
  });
});

describe("longestReadyStreakMs", () => {
  it("counts readiness that began after the last crash, ended or ongoing", () => {
    const streaks = [{ readyAtMs: 1000, endedAtMs: 4000 }, { readyAtMs: 2000 }, {}, { readyAtMs: 100 }];
    expect(longestReadyStreakMs(streaks, 10_000, 500)).toBe(8000);
    expect(longestReadyStreakMs(streaks, 10_000, 1500)).toBe(8000);
    expect(longestReadyStreakMs(streaks, 10_000, 3000)).toBe(0);
    expect(longestReadyStreakMs(streaks, 10_000, undefined)).toBe(9900);
  });
});
