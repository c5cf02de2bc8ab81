import { describe, expect, it } from "vitest";
import { baseHistory, checkBasePlatform, DEFAULT_PATH, mergeImageEnv, ociLayerMediaType } from "./base-config.ts";

const layer = (n: number) => ({ mediaType: "application/vnd.oci.image.layer.v1.tar+gzip", digest: `sha256:${String(n).repeat(64)}`, size: n, diffId: `sha256:${"d".repeat(64)}` });

describe("mergeImageEnv", () => {
  it.each<{ name: string; base: string[] | undefined; env: Record<string, string>; want: string[] }>([
    { name: "no base: default PATH first", base: undefined, env: { Z: "1" }, want: [`PATH=${DEFAULT_PATH}`, "PORT=8080", "Z=1"] },
    { name: "keeps the base's PATH and variables in order", base: ["NODE_VERSION=20", "PATH=/opt/node/bin:/bin"], env: {}, want: ["NODE_VERSION=20", "PATH=/opt/node/bin:/bin", "PORT=8080"] },
    { name: "defaults override the base, the function overrides both", base: ["PORT=1", "A=base"], env: { A: "fn", PATH: "/x" }, want: ["PORT=8080", "A=fn", `PATH=/x`] },
    { name: "values may hold '='", base: ["OPTS=a=b"], env: {}, want: ["OPTS=a=b", `PATH=${DEFAULT_PATH}`, "PORT=8080"] },
  ])("$name", ({ base, env, want }) => {
    expect(mergeImageEnv(base, [["PORT", "8080"]], env)).toEqual(want);
  });
});

describe("ociLayerMediaType", () => {
  it.each([
    ["application/vnd.docker.image.rootfs.diff.tar.gzip", "application/vnd.oci.image.layer.v1.tar+gzip"],
    ["application/vnd.oci.image.layer.v1.tar+zstd", "application/vnd.oci.image.layer.v1.tar+zstd"],
  ])("%s -> %s", (from, to) => expect(ociLayerMediaType(from)).toBe(to));

  it("refuses foreign layers", () => {
    expect(() => ociLayerMediaType("application/vnd.docker.image.rootfs.foreign.diff.tar.gzip")).toThrow(/not supported/);
  });
});

describe("baseHistory", () => {
  it("keeps a history that matches the layers (empty layers aside)", () => {
    const history = [{ created_by: "ENV X=1", empty_layer: true }, { created_by: "ADD rootfs" }];
    expect(baseHistory([layer(1)], { history }, "c")).toBe(history);
  });

  it("makes one entry per layer when the history does not match", () => {
    expect(baseHistory([layer(1), layer(2)], { history: [{ created_by: "x" }] }, "c")).toEqual([
      { created: "c", created_by: "base layer 111111111111" },
      { created: "c", created_by: "base layer 222222222222" },
    ]);
  });
});

describe("checkBasePlatform", () => {
  it("accepts a matching or unspecified platform, refuses another", () => {
    expect(() => checkBasePlatform({}, "amd64")).not.toThrow();
    expect(() => checkBasePlatform({ os: "linux", architecture: "amd64" }, "amd64")).not.toThrow();
    expect(() => checkBasePlatform({ architecture: "arm64" }, "amd64")).toThrow(/for arm64, but this build is for amd64/);
    expect(() => checkBasePlatform({ os: "windows" }, "amd64")).toThrow(/not linux/);
  });
});
