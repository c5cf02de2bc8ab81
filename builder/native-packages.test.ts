import { describe, expect, it } from "vitest";
import { BuildError } from "./errors.ts";
import {
  isNativeClosure,
  makeExternalList,
  makePackageClosure,
  makePruneFilter,
  packageNameOf,
  planNodeModulesLayout,
  type ClosurePackage,
  type PackageReader,
} from "./native-packages.ts";

/** An in-memory package tree: dir -> package facts; lookup walks node_modules like Node. */
function makeReader(packages: Record<string, { version?: string; deps?: string[]; native?: boolean }>): PackageReader {
  return {
    resolvePackage(name, fromDir) {
      for (let dir = fromDir; dir !== ""; dir = dir.slice(0, dir.lastIndexOf("/"))) {
        if (dir.endsWith("/node_modules")) continue;
        const candidate = `${dir}/node_modules/${name}`;
        if (packages[candidate]) return candidate;
      }
      return undefined;
    },
    readPackage: (dir) => (packages[dir] ? { version: packages[dir].version ?? "1.0.0", dependencies: packages[dir].deps ?? [] } : undefined),
    isNative: (dir) => packages[dir]?.native ?? false,
  };
}

describe("packageNameOf", () => {
  it.each([
    ["sharp", "sharp"],
    ["sharp/lib/index.js", "sharp"],
    ["@img/sharp-linux-x64", "@img/sharp-linux-x64"],
    ["@img/sharp-linux-x64/sharp.node", "@img/sharp-linux-x64"],
    ["./local", undefined],
    ["../up", undefined],
    ["/abs/path", undefined],
    ["#internal", undefined],
    ["node:fs", undefined],
    ["@scope", undefined],
  ])("%s -> %s", (specifier, name) => {
    expect(packageNameOf(specifier)).toBe(name);
  });
});

describe("makePackageClosure", () => {
  const tree = {
    "/f/node_modules/sharp": { version: "0.33.5", deps: ["color", "@img/sharp-linux-x64", "@img/sharp-darwin-arm64", "semver"] },
    "/f/node_modules/color": { deps: ["color-string"] },
    "/f/node_modules/color-string": { deps: ["color"] },
    "/f/node_modules/@img/sharp-linux-x64": { native: true },
    "/f/node_modules/sharp/node_modules/semver": { version: "7.6.0" },
    "/f/node_modules/semver": { version: "6.0.0" },
  };

  it("walks dependencies breadth first, resolving each from its requirer, skipping uninstalled optionals and cycles", () => {
    const closure = makePackageClosure("sharp", "/f/node_modules/sharp", makeReader(tree));
    expect(closure).toEqual([
      { name: "sharp", dir: "/f/node_modules/sharp", version: "0.33.5" },
      { name: "color", dir: "/f/node_modules/color", version: "1.0.0", requiredBy: "/f/node_modules/sharp" },
      { name: "@img/sharp-linux-x64", dir: "/f/node_modules/@img/sharp-linux-x64", version: "1.0.0", requiredBy: "/f/node_modules/sharp" },
      { name: "semver", dir: "/f/node_modules/sharp/node_modules/semver", version: "7.6.0", requiredBy: "/f/node_modules/sharp" },
      { name: "color-string", dir: "/f/node_modules/color-string", version: "1.0.0", requiredBy: "/f/node_modules/color" },
    ]);
  });

  it("is native when any member is", () => {
    const reader = makeReader(tree);
    expect(isNativeClosure(makePackageClosure("sharp", "/f/node_modules/sharp", reader), reader)).toBe(true);
    expect(isNativeClosure(makePackageClosure("color", "/f/node_modules/color", reader), reader)).toBe(false);
  });
});

describe("planNodeModulesLayout", () => {
  const pkg = (name: string, dir: string, requiredBy?: string, version = "1.0.0"): ClosurePackage =>
    requiredBy === undefined ? { name, dir, version } : { name, dir, version, requiredBy };

  it("places packages flat, deduplicating a directory reached twice", () => {
    const placed = planNodeModulesLayout([pkg("a", "/n/a"), pkg("dep", "/n/dep", "/n/a"), pkg("b", "/n/b"), pkg("dep", "/n/dep", "/n/b")]);
    expect(placed.map((p) => [p.name, p.dest])).toEqual([
      ["a", "node_modules/a"],
      ["b", "node_modules/b"],
      ["dep", "node_modules/dep"],
    ]);
  });

  it("nests a second copy of a name under the package requiring it", () => {
    const placed = planNodeModulesLayout([
      pkg("a", "/n/a"),
      pkg("semver", "/n/semver", "/n/a", "6.0.0"),
      pkg("b", "/n/b"),
      pkg("semver", "/n/b/node_modules/semver", "/n/b", "7.0.0"),
    ]);
    expect(placed.map((p) => p.dest)).toEqual(["node_modules/a", "node_modules/b", "node_modules/semver", "node_modules/b/node_modules/semver"]);
    expect(makeExternalList(placed)).toEqual(["a@1.0.0", "b@1.0.0", "semver@6.0.0", "semver@7.0.0"]);
  });

  it("gives roots the top-level name even when another closure's dependency shares it", () => {
    const placed = planNodeModulesLayout([pkg("a", "/n/a"), pkg("b", "/other/b", "/n/a"), pkg("b", "/n/b")]);
    expect(placed.find((p) => p.dir === "/n/b")?.dest).toBe("node_modules/b");
    expect(placed.find((p) => p.dir === "/other/b")?.dest).toBe("node_modules/a/node_modules/b");
  });

  it("refuses two different roots of one name", () => {
    expect(() => planNodeModulesLayout([pkg("sharp", "/x/sharp"), pkg("sharp", "/y/sharp")])).toThrow(BuildError);
  });
});

describe("makePruneFilter", () => {
  const linuxX64 = { platform: "linux", arch: "x64" };
  it("keeps only the target's binaries of onnxruntime-node", () => {
    const keep = makePruneFilter("onnxruntime-node", linuxX64)!;
    expect(keep("")).toBe(true);
    expect(keep("dist/index.js")).toBe(true);
    expect(keep("bin")).toBe(true);
    expect(keep("bin/napi-v6")).toBe(true);
    expect(keep("bin/napi-v6/linux")).toBe(true);
    expect(keep("bin/napi-v6/linux/x64/onnxruntime_binding.node")).toBe(true);
    expect(keep("bin/napi-v6/linux/arm64")).toBe(false);
    expect(keep("bin/napi-v6/darwin")).toBe(false);
    expect(keep("bin/napi-v6/win32/x64/onnxruntime.dll")).toBe(false);
    expect(keep("bin/napi-v7/darwin/arm64")).toBe(false);
  });

  it("follows the target and leaves other packages alone", () => {
    const keep = makePruneFilter("onnxruntime-node", { platform: "darwin", arch: "arm64" })!;
    expect(keep("bin/napi-v6/darwin/arm64/libonnxruntime.1.dylib")).toBe(true);
    expect(keep("bin/napi-v6/linux/x64")).toBe(false);
    expect(makePruneFilter("sharp", linuxX64)).toBeUndefined();
  });
});
