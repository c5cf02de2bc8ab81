import { describe, expect, it } from "vitest";
import { hostPlatform, normalizeVariant, parsePlatform, selectPlatformEntry, type PlatformEntry } from "./platform.ts";

const entry = (digest: string, architecture: string, variant?: string, os = "linux"): PlatformEntry => ({ digest, platform: { os, architecture, ...(variant ? { variant } : {}) } });

describe("parsePlatform", () => {
  it.each([
    ["linux/amd64", { os: "linux", architecture: "amd64" }],
    ["linux/arm64/v8", { os: "linux", architecture: "arm64", variant: "v8" }],
  ])("%s", (text, want) => expect(parsePlatform(text)).toEqual(want));

  it.each(["linux", "linux/", "linux/arm/", "a/b/c/d"])("rejects %s", (text) => {
    expect(() => parsePlatform(text)).toThrow(/invalid platform/);
  });
});

describe("hostPlatform and normalizeVariant", () => {
  it("maps Node's arch names and gives arm a variant", () => {
    expect(hostPlatform("x64")).toEqual({ os: "linux", architecture: "amd64" });
    expect(hostPlatform("arm64")).toEqual({ os: "linux", architecture: "arm64" });
    expect(hostPlatform("arm", "6")).toEqual({ os: "linux", architecture: "arm", variant: "v6" });
  });

  it.each([
    ["arm64", undefined, "v8"], ["arm64", "8", "v8"], ["arm", undefined, "v7"], ["arm", "6", "v6"], ["amd64", undefined, "v1"], ["amd64", "v3", "v3"], ["s390x", undefined, ""],
  ])("%s %s -> %s", (arch, variant, want) => expect(normalizeVariant(arch, variant)).toBe(want));
});

describe("selectPlatformEntry", () => {
  const index = [
    entry("amd", "amd64"),
    entry("armv6", "arm", "v6"),
    entry("armv7", "arm", "v7"),
    entry("arm64", "arm64", "v8"),
    { digest: "att", platform: { os: "unknown", architecture: "unknown" }, annotations: { "vnd.docker.reference.type": "attestation-manifest" } },
    entry("win", "amd64", undefined, "windows"),
  ];

  it.each([
    [{ os: "linux", architecture: "amd64" }, "amd"],
    [{ os: "linux", architecture: "arm64" }, "arm64"],
    [{ os: "linux", architecture: "arm64", variant: "v8" }, "arm64"],
    [{ os: "linux", architecture: "arm" }, "armv7"],
    [{ os: "linux", architecture: "arm", variant: "v6" }, "armv6"],
    [{ os: "windows", architecture: "amd64" }, "win"],
  ])("%j -> %s", (want, digest) => {
    expect(selectPlatformEntry(index, want).digest).toBe(digest);
  });

  it("matches arm64 without a variant to v8, and falls back to another variant only when none was asked", () => {
    expect(selectPlatformEntry([entry("a", "arm64")], { os: "linux", architecture: "arm64", variant: "v8" }).digest).toBe("a");
    expect(selectPlatformEntry([entry("v3", "amd64", "v3")], { os: "linux", architecture: "amd64" }).digest).toBe("v3");
    expect(() => selectPlatformEntry([entry("v3", "amd64", "v3")], { os: "linux", architecture: "amd64", variant: "v2" })).toThrow(/no linux\/amd64\/v2 image/);
  });

  it("lists what the index has, leaving attestations out", () => {
    expect(() => selectPlatformEntry(index, { os: "linux", architecture: "riscv64" }))
      .toThrow("no linux/riscv64 image in the index (it has linux/amd64, linux/arm/v6, linux/arm/v7, linux/arm64/v8, windows/amd64)");
  });
});
