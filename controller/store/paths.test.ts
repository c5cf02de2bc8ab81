import { describe, expect, it } from "vitest";
import { ValidationError } from "./errors.ts";
import { MAX_PATH_BYTES, checkRelativePath, validateRevisionPaths } from "./paths.ts";

describe("checkRelativePath", () => {
  it.each([
    ["index.mjs", undefined],
    ["node_modules/sharp/build/Release/sharp.node", undefined],
    [".hidden/file", undefined],
    ["file..name", undefined],
    ["", "is empty"],
    ["a\0b", "NUL"],
    ["/abs", "absolute"],
    ["C:/windows", "absolute"],
    ["a\\b", '"\\"'],
    ["..", '".."'],
    ["a/../b", '".."'],
    ["./a", '"."'],
    ["a/", "empty segment"],
    ["a//b", "empty segment"],
    ["x".repeat(MAX_PATH_BYTES + 1), "longer than"],
  ])("%j -> %s", (path, problem) => {
    const got = checkRelativePath(path);
    if (problem === undefined) expect(got).toBeUndefined();
    else expect(got).toContain(problem);
  });
});

describe("validateRevisionPaths", () => {
  it("accepts distinct safe paths", () => {
    expect(() => validateRevisionPaths(["a/b", "a/c", "d"])).not.toThrow();
  });

  it.each([
    [["a", "a"], 'duplicate file path "a"'],
    [["a", "a/b"], '"a/b" needs "a" to be a directory'],
    [["ok", "../x"], 'invalid file path "../x"'],
  ])("rejects %j", (paths, message) => {
    expect(() => validateRevisionPaths(paths)).toThrow(ValidationError);
    expect(() => validateRevisionPaths(paths)).toThrow(message);
  });
});
