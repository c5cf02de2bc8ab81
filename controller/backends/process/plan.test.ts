import { describe, expect, it } from "vitest";
import { type PlanInput, type PlanReplica, pickDrainVictims, planScale } from "./plan.ts";

const starting = (id: string, startedAtMs: number): PlanReplica => ({ id, phase: "starting", startedAtMs });
const ready = (id: string, startedAtMs: number, readyAtMs: number): PlanReplica => ({ id, phase: "ready", startedAtMs, readyAtMs });
const draining = (id: string): PlanReplica => ({ id, phase: "draining", startedAtMs: 0, readyAtMs: 1 });
const exited = (id: string): PlanReplica => ({ id, phase: "exited", startedAtMs: 0 });

describe("planScale", () => {
  const cases: Array<{ name: string; input: PlanInput; want: ReturnType<typeof planScale> }> = [
    { name: "0 -> 2 starts two", input: { replicas: [], desired: 2, nowMs: 1000, retryAtMs: 0 }, want: { start: 2, drain: [] } },
    {
      name: "steady state does nothing",
      input: { replicas: [ready("a", 0, 10), starting("b", 20)], desired: 2, nowMs: 1000, retryAtMs: 0 },
      want: { start: 0, drain: [] },
    },
    {
      name: "draining and exited replicas do not count toward desired",
      input: { replicas: [ready("a", 0, 10), draining("b"), exited("c")], desired: 2, nowMs: 1000, retryAtMs: 0 },
      want: { start: 1, drain: [] },
    },
    {
      name: "a start during crash backoff waits and asks to be woken",
      input: { replicas: [], desired: 1, nowMs: 1000, retryAtMs: 1400 },
      want: { start: 0, drain: [], wakeAtMs: 1400 },
    },
    {
      name: "backoff ended: starts",
      input: { replicas: [], desired: 1, nowMs: 1400, retryAtMs: 1400 },
      want: { start: 1, drain: [] },
    },
    {
      name: "backoff never holds back a drain",
      input: { replicas: [ready("a", 0, 10), ready("b", 0, 20)], desired: 1, nowMs: 1000, retryAtMs: 5000 },
      want: { start: 0, drain: ["b"] },
    },
    {
      name: "2 -> 0 drains both",
      input: { replicas: [ready("a", 0, 10), ready("b", 0, 20)], desired: 0, nowMs: 1000, retryAtMs: 0 },
      want: { start: 0, drain: ["b", "a"] },
    },
  ];
  for (const c of cases) {
    it(c.name, () => expect(planScale(c.input)).toEqual(c.want));
  }

  it("never plans more than desired non-draining replicas", () => {
    for (let have = 0; have <= 5; have++) {
      for (let desired = 0; desired <= 5; desired++) {
        const replicas = Array.from({ length: have }, (_, i) => ready(`r${i}`, i, i + 1));
        const plan = planScale({ replicas, desired, nowMs: 0, retryAtMs: 0 });
        expect(have + plan.start - plan.drain.length).toBe(desired);
      }
    }
  });
});

describe("pickDrainVictims", () => {
  it("drains starting replicas first, newest first, then the most recently ready", () => {
    const active = [ready("old", 0, 100), starting("s1", 300), ready("new", 50, 400), starting("s2", 500)];
    expect(pickDrainVictims(active, 1)).toEqual(["s2"]);
    expect(pickDrainVictims(active, 3)).toEqual(["s2", "s1", "new"]);
    expect(pickDrainVictims(active, 9)).toEqual(["s2", "s1", "new", "old"]);
    expect(pickDrainVictims(active, 0)).toEqual([]);
  });
});
