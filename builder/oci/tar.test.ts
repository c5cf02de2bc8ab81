import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { makeTar, normalizeEntries, splitUstarName, type TarEntry } from "./tar.ts";

const tmp = mkdtempSync(join(tmpdir(), "skiff-tar-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** Lists a tar with GNU tar (numeric owners, full timestamps). */
function listTar(tar: Buffer): string[] {
  const path = join(tmp, `t-${Math.random().toString(16).slice(2)}.tar`);
  writeFileSync(path, tar);
  return execFileSync("tar", ["-tvf", path, "--numeric-owner", "--full-time"], { encoding: "utf8", env: { ...process.env, TZ: "UTC" } }).trim().split("\n");
}

const file = (path: string, text: string, mode?: number): TarEntry => ({ type: "file", path, data: Buffer.from(text), ...(mode !== undefined && { mode }) });

describe("normalizeEntries", () => {
  it.each([
    { name: "adds parents and sorts by bytes", input: [file("app/b/z.js", "z"), file("app/B.js", "B")], want: ["app", "app/B.js", "app/b", "app/b/z.js"] },
    { name: "cleans slashes and dots", input: [file("/app/./x", "x")], want: ["app", "app/x"] },
    { name: "merges repeated dirs", input: [{ type: "dir" as const, path: "app" }, { type: "dir" as const, path: "app/" }], want: ["app"] },
  ])("$name", ({ input, want }) => {
    expect(normalizeEntries(input).map((e) => e.path)).toEqual(want);
  });

  it.each([
    { name: "duplicate file", input: [file("a", "1"), file("a", "2")], error: /duplicate/ },
    { name: "file as parent", input: [file("a", "1"), file("a/b", "2")], error: /parent/ },
    { name: "dot-dot", input: [file("../etc/passwd", "x")], error: /bad tar entry path/ },
  ])("rejects $name", ({ input, error }) => {
    expect(() => normalizeEntries(input)).toThrow(error);
  });
});

describe("splitUstarName", () => {
  it.each([
    { path: "short", want: { name: "short", prefix: "" } },
    { path: `${"d".repeat(120)}/file`, want: { name: "file", prefix: "d".repeat(120) } },
    { path: `${"d".repeat(120)}/sub/`, want: { name: "sub/", prefix: "d".repeat(120) } },
    { path: "x".repeat(101), want: undefined },
  ])("$path.length bytes", ({ path, want }) => {
    expect(splitUstarName(path)).toEqual(want);
  });
});

describe("makeTar", () => {
  const entries = [file("app/index.mjs", "export {}\n"), file("app/bin/run", "#!/bin/sh\n", 0o755), file("app/chunks/a.mjs", "a".repeat(700))];

  it("gives byte-identical output for the same entries in any order", () => {
    const a = makeTar(entries, { mtimeSec: 0 });
    const b = makeTar([...entries].reverse(), { mtimeSec: 0 });
    expect(a.equals(b)).toBe(true);
    expect(a.length % 512).toBe(0);
  });

  it("writes root-owned entries with fixed modes and mtime that tar reads back", () => {
    const lines = listTar(makeTar(entries, { mtimeSec: 1_700_000_000 }));
    expect(lines).toEqual([
      expect.stringMatching(/^drwxr-xr-x 0\/0 +0 2023-11-14 22:13:20 app\/$/),
      expect.stringMatching(/^drwxr-xr-x 0\/0 +0 2023-11-14 22:13:20 app\/bin\/$/),
      expect.stringMatching(/^-rwxr-xr-x 0\/0 +10 2023-11-14 22:13:20 app\/bin\/run$/),
      expect.stringMatching(/^drwxr-xr-x 0\/0 +0 2023-11-14 22:13:20 app\/chunks\/$/),
      expect.stringMatching(/^-rw-r--r-- 0\/0 +700 2023-11-14 22:13:20 app\/chunks\/a\.mjs$/),
      expect.stringMatching(/^-rw-r--r-- 0\/0 +10 2023-11-14 22:13:20 app\/index\.mjs$/),
    ]);
  });

  it("keeps long paths intact (ustar prefix and PAX) and file contents exact", () => {
    const prefixed = `app/${"p".repeat(130)}/model.bin`;
    const pax = `app/${"q".repeat(150)}.bin`;
    const tar = makeTar([file(prefixed, "one"), file(pax, "two")], { mtimeSec: 0 });
    const names = listTar(tar).map((l) => l.split(" ").pop());
    expect(names).toEqual(["app/", `app/${"p".repeat(130)}/`, prefixed, pax]);
    const out = join(tmp, "x");
    rmSync(out, { recursive: true, force: true });
    execFileSync("mkdir", ["-p", out]);
    const path = join(tmp, "long.tar");
    writeFileSync(path, tar);
    execFileSync("tar", ["-xf", path, "-C", out]);
    expect(readFileSync(join(out, pax), "utf8")).toBe("two");
    expect(readFileSync(join(out, prefixed), "utf8")).toBe("one");
  });

  it("writes symlinks (short and PAX-long targets) that tar extracts as links", async () => {
    const long = `usr/lib/${"l".repeat(120)}.so`;
    const tar = makeTar([
      { type: "symlink", path: "lib", target: "usr/lib" },
      { type: "symlink", path: "usr/lib/libc.so", target: "libc.so.6" },
      { type: "symlink", path: "usr/lib/long.so", target: `/${long}` },
      file("usr/lib/libc.so.6", "c", 0o755),
      { type: "dir", path: "tmp", mode: 0o1777 },
    ], { mtimeSec: 0 });
    expect(listTar(tar)).toEqual([
      expect.stringMatching(/^lrwxrwxrwx 0\/0 +0 1970-01-01 00:00:00 lib -> usr\/lib$/),
      expect.stringMatching(/^drwxrwxrwt 0\/0 .* tmp\/$/),
      expect.stringMatching(/ usr\/$/),
      expect.stringMatching(/ usr\/lib\/$/),
      expect.stringMatching(/^lrwxrwxrwx .* usr\/lib\/libc\.so -> libc\.so\.6$/),
      expect.stringMatching(/^-rwxr-xr-x .* usr\/lib\/libc\.so\.6$/),
      expect.stringMatching(new RegExp(`usr/lib/long\\.so -> /${long.replace(/\./g, "\\.")}$`)),
    ]);
    const out = join(tmp, "links");
    execFileSync("mkdir", ["-p", out]);
    const path = join(tmp, "links.tar");
    writeFileSync(path, tar);
    execFileSync("tar", ["-xf", path, "-C", out]);
    expect(readFileSync(join(out, "lib", "libc.so"), "utf8")).toBe("c");
  });

  it("rejects a symlink used as a parent directory", () => {
    expect(() => normalizeEntries([{ type: "symlink", path: "lib", target: "usr/lib" }, file("lib/x", "x")])).toThrow(/is a symlink and a parent/);
  });
});
