import { describe, expect, it } from "vitest";
import { checkContainerSupport, findExecutable, memoryControllers } from "./preflight.ts";

describe("memoryControllers", () => {
  it.each([
    { facts: { v2Controllers: "cpuset cpu io memory pids\n", v1Memory: false, v1MemorySwap: false }, want: { memory: true, swap: true } },
    { facts: { v2Controllers: "cpu pids", v1Memory: false, v1MemorySwap: false }, want: { memory: false, swap: false } },
    { facts: { v1Memory: true, v1MemorySwap: false }, want: { memory: true, swap: false } },
    { facts: { v1Memory: false, v1MemorySwap: false }, want: { memory: false, swap: false } },
  ])("%j", ({ facts, want }) => {
    expect(memoryControllers(facts)).toEqual(want);
  });
});

describe("findExecutable", () => {
  it("looks on PATH and in the sbin dirs, and takes absolute paths as they are", () => {
    expect(findExecutable("sh", "/nonexistent")).toMatch(/\/sh$/);
    expect(findExecutable("/bin/sh")).toBe("/bin/sh");
    expect(findExecutable("surely-not-a-tool-xyz")).toBeUndefined();
  });
});

describe("checkContainerSupport", () => {
  it.each([
    { name: "runc missing", options: { runc: "/nonexistent/runc" }, error: /^cannot run container replicas: runc was not found .*; install it with `apt-get install runc` \(or deploy with --isolation process\)$/ },
    { name: "umoci missing", options: { runc: "/bin/true", umoci: "/nonexistent/umoci" }, error: /umoci was not found.*apt-get install umoci/ },
    { name: "not root", options: { runc: "/bin/true", umoci: "/bin/true", uid: 1000 }, error: /runs as uid 1000, and runc needs root.*run `skiff up` as root/ },
    { name: "a runc that does not run", options: { runc: "/bin/false", umoci: "/bin/true", uid: 0 }, error: /\/bin\/false --version failed.*reinstall runc/ },
  ])("names what is missing and the fix: $name", async ({ options, error }) => {
    await expect(checkContainerSupport(options)).rejects.toThrow(error);
  });
});
