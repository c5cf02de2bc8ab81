import { describe, expect, it } from "vitest";
import { makeFakeClock } from "./fake-clock.ts";

describe("makeFakeClock", () => {
  it("fires due timers in time order, then ties in scheduling order", () => {
    const clock = makeFakeClock(1000);
    const fired: string[] = [];
    clock.setTimeout(() => fired.push(`b@${clock.now()}`), 200);
    clock.setTimeout(() => fired.push(`a@${clock.now()}`), 100);
    clock.setTimeout(() => fired.push(`c@${clock.now()}`), 200);
    clock.setTimeout(() => fired.push("late"), 301);
    clock.advance(300);
    expect(fired).toEqual(["a@1100", "b@1200", "c@1200"]);
    expect(clock.now()).toBe(1300);
    expect(clock.pending()).toBe(1);
  });

  it("fires timers scheduled by a timer when they fall within the same advance", () => {
    const clock = makeFakeClock();
    const fired: number[] = [];
    const repeat = () => {
      fired.push(clock.now());
      clock.setTimeout(repeat, 100);
    };
    clock.setTimeout(repeat, 100);
    clock.advance(350);
    expect(fired).toEqual([100, 200, 300]);
  });

  it("does not fire cleared timers", () => {
    const clock = makeFakeClock();
    let fired = false;
    const handle = clock.setTimeout(() => (fired = true), 10);
    clock.clearTimeout(handle);
    clock.advance(100);
    expect(fired).toBe(false);
    expect(clock.pending()).toBe(0);
  });
});
