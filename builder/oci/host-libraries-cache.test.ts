import { mkdtemp, rm, utimes, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cachedHostLibraries, parseLddRecord } from "./host-libraries-cache.ts";

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "skiff-ldd-"));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

/** A fake binary and two fake libraries, and an ldd that counts its runs. */
async function setup(name: string) {
  const binary = join(dir, `${name}-node`);
  const libs = [join(dir, `${name}-libc.so`), join(dir, `${name}-libm.so`)];
  for (const path of [binary, ...libs]) await writeFile(path, path);
  const runs: string[] = [];
  const ldd = async (b: string) => {
    runs.push(b);
    return libs;
  };
  return { binary, libs, runs, ldd, file: join(dir, name, "libraries.json") };
}

describe("cachedHostLibraries", () => {
  it("runs ldd once while nothing it depends on changes", async () => {
    const { binary, libs, runs, ldd, file } = await setup("same");
    expect(await cachedHostLibraries(binary, file, ldd)).toEqual(libs);
    expect(await cachedHostLibraries(binary, file, ldd)).toEqual(libs);
    expect(runs).toHaveLength(1);
  });

  it.each([
    ["the binary is replaced", async (s: Awaited<ReturnType<typeof setup>>) => writeFile(s.binary, "a newer node")],
    ["a library is upgraded in place", async (s: Awaited<ReturnType<typeof setup>>) => utimes(s.libs[1]!, 1, 1)],
    ["a library is gone", async (s: Awaited<ReturnType<typeof setup>>) => rm(s.libs[0]!)],
    ["the record is corrupt", async (s: Awaited<ReturnType<typeof setup>>) => writeFile(s.file, "{")],
  ])("runs ldd again when %s", async (_what, change) => {
    const s = await setup(`change-${Math.random().toString(16).slice(2)}`);
    await cachedHostLibraries(s.binary, s.file, s.ldd);
    await change(s);
    await cachedHostLibraries(s.binary, s.file, s.ldd);
    expect(s.runs).toHaveLength(2);
  });

  it("runs ldd again for another binary or another LD_LIBRARY_PATH", async () => {
    const s = await setup("other");
    await cachedHostLibraries(s.binary, s.file, s.ldd);
    const other = join(dir, "other-node2");
    await writeFile(other, "node 2");
    await cachedHostLibraries(other, s.file, s.ldd);
    expect(s.runs).toEqual([s.binary, other]);
    const saved = process.env.LD_LIBRARY_PATH;
    process.env.LD_LIBRARY_PATH = "/opt/libs";
    try {
      await cachedHostLibraries(other, s.file, s.ldd);
    } finally {
      if (saved === undefined) delete process.env.LD_LIBRARY_PATH;
      else process.env.LD_LIBRARY_PATH = saved;
    }
    expect(s.runs).toHaveLength(3);
  });
});

describe("parseLddRecord", () => {
  it("refuses records of another shape", () => {
    expect(parseLddRecord(undefined)).toBeUndefined();
    expect(parseLddRecord('{"format":1,"binary":"/n","key":"k","libraries":["relative.so"]}')).toBeUndefined();
    expect(parseLddRecord('{"format":2,"binary":"/n","key":"k","libraries":[]}')).toBeUndefined();
    expect(parseLddRecord('{"format":1,"binary":"/n","key":"k","libraries":["/l.so"]}')).toEqual({ binary: "/n", key: "k", libraries: ["/l.so"] });
  });
});
