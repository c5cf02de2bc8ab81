import { describe, expect, it } from "vitest";
import { makeKeyedMutex } from "./lock.ts";

describe("makeKeyedMutex", () => {
  it("runs tasks of one key in order, one at a time, and survives a failing task", async () => {
    const mutex = makeKeyedMutex();
    const log: string[] = [];
    const task = (name: string, fail = false) => async () => {
      log.push(`start ${name}`);
      await Promise.resolve();
      log.push(`end ${name}`);
      if (fail) throw new Error(name);
      return name;
    };
    const results = await Promise.allSettled([mutex.run("k", task("a")), mutex.run("k", task("b", true)), mutex.run("k", task("c"))]);
    expect(results.map((r) => r.status)).toEqual(["fulfilled", "rejected", "fulfilled"]);
    expect(log).toEqual(["start a", "end a", "start b", "end b", "start c", "end c"]);
  });

  it("lets different keys interleave", async () => {
    const mutex = makeKeyedMutex();
    let release!: () => void;
    const blocked = mutex.run("a", () => new Promise<void>((resolve) => { release = resolve; }));
    await expect(mutex.run("b", async () => "b")).resolves.toBe("b");
    release();
    await blocked;
    await mutex.idle();
  });
});
