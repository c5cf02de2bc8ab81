// The `--base` and `--image` flags, parsed purely, and where bases are cached.
import { describe, expect, it } from "vitest";
import { BaseSpecError, formatBaseSpec, parseBaseSpec } from "./base-spec.ts";
import { checkImageOptions } from "./image-build.ts";
import { baseCacheDirs, skiffCacheDir } from "./image-base.ts";
import { UsageError } from "./errors.ts";

describe("parseBaseSpec", () => {
  it.each([
    ["host", { kind: "host" }],
    ["scratch", { kind: "scratch" }],
    ["oci:/srv/base", { kind: "layout", dir: "/srv/base" }],
    ["oci:/srv/base:v1", { kind: "layout", dir: "/srv/base", tag: "v1" }],
    // As skopeo: the first colon ends the path, the rest is the tag.
    ["oci:/srv/base:a:b", { kind: "layout", dir: "/srv/base", tag: "a:b" }],
    ["oci:rel/base:v1", { kind: "layout", dir: "/work/fn/rel/base", tag: "v1" }],
  ])("%s", (text, expected) => {
    expect(parseBaseSpec(text, "/work/fn")).toEqual(expected);
  });

  it("reads registry references, pinned or not, with Docker Hub's defaults", () => {
    expect(parseBaseSpec("docker.io/library/node:20-bookworm-slim")).toMatchObject({ kind: "registry", ref: { registry: "docker.io", repository: "library/node", tag: "20-bookworm-slim" } });
    expect(parseBaseSpec("node")).toMatchObject({ kind: "registry", ref: { registry: "docker.io", repository: "library/node", tag: "latest" } });
    const digest = `sha256:${"a".repeat(64)}`;
    expect(parseBaseSpec(`127.0.0.1:5000/base:1@${digest}`)).toMatchObject({ kind: "registry", text: `127.0.0.1:5000/base:1@${digest}`, ref: { registry: "127.0.0.1:5000", repository: "base", digest } });
  });

  it.each([
    ["Node:20", /--base: invalid image reference "Node:20"/],
    ["oci:", /oci: needs a layout directory/],
    ["oci:/x:", /the tag after the path is empty/],
    ["base@sha256:abc", /digest "sha256:abc" must be sha256/],
  ])("refuses %s with a message naming the rule", (text, message) => {
    expect(() => parseBaseSpec(text)).toThrow(BaseSpecError);
    expect(() => parseBaseSpec(text)).toThrow(message);
  });

  it("formats each spec as a user writes it", () => {
    expect(["host", "scratch", "oci:/a:b", "oci:/a", "r.io/x:1"].map((t) => formatBaseSpec(parseBaseSpec(t)))).toEqual(["host", "scratch", "oci:/a:b", "oci:/a", "r.io/x:1"]);
  });
});

describe("checkImageOptions", () => {
  it("defaults the base to the host's node", () => {
    expect(checkImageOptions({ image: "r.io/team/hello:1" })).toEqual({ target: { registry: "r.io", repository: "team/hello", tag: "1" }, base: { kind: "host" } });
  });

  it("turns a bad reference or base into a usage error (exit 2)", () => {
    expect(() => checkImageOptions({ image: "hello@sha256:x" })).toThrow(UsageError);
    expect(() => checkImageOptions({ image: "hello:1", base: "oci:" }, "build ...")).toThrow(UsageError);
  });
});

describe("skiffCacheDir", () => {
  it("follows XDG_CACHE_HOME when absolute, else ~/.cache", () => {
    expect(skiffCacheDir({ XDG_CACHE_HOME: "/var/cache/me" }, "/home/u")).toBe("/var/cache/me/skiff");
    expect(skiffCacheDir({}, "/home/u")).toBe("/home/u/.cache/skiff");
    expect(skiffCacheDir({ XDG_CACHE_HOME: "relative" }, "/home/u")).toBe("/home/u/.cache/skiff");
    expect(baseCacheDirs("/c/skiff")).toEqual({ host: "/c/skiff/bases/host", registry: "/c/skiff/bases/registry" });
  });
});
