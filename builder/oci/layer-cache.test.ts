import { describe, expect, it } from "vitest";
import {
  decideLayer, LAYER_CACHE_FORMAT, layerCacheKey, nextLayerCache, parseLayerCache, serializeLayerCache,
  type LayerCache, type LayerCacheEntry, type LayerKeyInput,
} from "./layer-cache.ts";

const hex = (c: string) => c.repeat(64);
const entry = (c: string, kind: LayerCacheEntry["kind"] = "bundle", size = 100): LayerCacheEntry => ({ kind, digest: `sha256:${hex(c)}`, diffId: `sha256:${hex("f")}`, size });
const input: LayerKeyInput = {
  kind: "bundle",
  files: [{ path: "app/index.mjs", sha256: hex("1"), mode: 0o644, size: 10 }, { path: "app/manifest.json", sha256: hex("2"), mode: 0o644, size: 20 }],
  mtimeSec: 0,
  gzipLevel: 6,
  zlibVersion: "1.3.0.1-motley",
  fingerprint: "fp",
};

describe("layerCacheKey", () => {
  it("is stable for the same inputs", () => {
    expect(layerCacheKey({ ...input })).toBe(layerCacheKey(input));
    expect(layerCacheKey(input)).toMatch(/^[0-9a-f]{64}$/);
  });

  it.each<[string, Partial<LayerKeyInput>]>([
    ["a file's content", { files: [{ ...input.files[0]!, sha256: hex("3") }, input.files[1]!] }],
    ["a file's mode", { files: [{ ...input.files[0]!, mode: 0o755 }, input.files[1]!] }],
    ["a file's size", { files: [{ ...input.files[0]!, size: 11 }, input.files[1]!] }],
    ["a file's path", { files: [{ ...input.files[0]!, path: "app/main.mjs" }, input.files[1]!] }],
    ["a file more", { files: [...input.files, { path: "app/x", sha256: hex("4"), mode: 0o644, size: 1 }] }],
    ["a file less", { files: input.files.slice(0, 1) }],
    ["the kind", { kind: "assets" }],
    ["the mtime epoch", { mtimeSec: 1 }],
    ["the gzip level", { gzipLevel: 9 }],
    ["zlib", { zlibVersion: "1.3.1" }],
    ["the builder code", { fingerprint: "fp2" }],
  ])("changes with %s", (_what, change) => {
    expect(layerCacheKey({ ...input, ...change })).not.toBe(layerCacheKey(input));
  });
});

describe("parseLayerCache", () => {
  const good = serializeLayerCache(new Map([[hex("a"), entry("b")]]));

  it("round-trips what serializeLayerCache wrote", () => {
    expect(parseLayerCache(good)).toEqual(new Map([[hex("a"), entry("b")]]));
  });

  it.each([
    ["no file", undefined],
    ["not JSON", "{"],
    ["a truncated file", good.slice(0, good.length / 2)],
    ["JSON null", "null"],
    ["another format", JSON.stringify({ format: LAYER_CACHE_FORMAT + 1, entries: { [hex("a")]: entry("b") } })],
    ["entries not an object", JSON.stringify({ format: LAYER_CACHE_FORMAT, entries: 3 })],
  ])("reads %s as an empty cache", (_what, text) => {
    expect(parseLayerCache(text).size).toBe(0);
  });

  it.each<[string, string, unknown]>([
    ["a key that is not a sha256", "abc", entry("b")],
    ["a digest that is not a sha256 (it would name a file)", hex("a"), { ...entry("b"), digest: "sha256:../../x" }],
    ["a bad diff id", hex("a"), { ...entry("b"), diffId: "md5:1" }],
    ["a negative size", hex("a"), { ...entry("b"), size: -1 }],
    ["a fractional size", hex("a"), { ...entry("b"), size: 1.5 }],
    ["an unknown kind", hex("a"), { ...entry("b"), kind: "base" }],
    ["a null entry", hex("a"), null],
  ])("drops %s, keeping the other entries", (_what, key, bad) => {
    const text = JSON.stringify({ format: LAYER_CACHE_FORMAT, entries: { [key]: bad, [hex("c")]: entry("d") } });
    expect(parseLayerCache(text)).toEqual(new Map([[hex("c"), entry("d")]]));
  });
});

describe("decideLayer", () => {
  it("reuses an entry of the same kind whose blob is in the layout at its size", () => {
    expect(decideLayer(entry("b"), "bundle", 100)).toEqual({ action: "reuse", layer: entry("b") });
  });

  it.each<[string, LayerCacheEntry | undefined, number | undefined, string]>([
    ["no entry", undefined, 100, "no entry"],
    ["an entry of another kind", entry("b", "assets"), 100, "other kind"],
    ["a blob gone from the layout", entry("b"), undefined, "blob missing"],
    ["a blob of another size (truncated, replaced)", entry("b"), 99, "blob size differs"],
  ])("builds on %s", (_what, e, size, reason) => {
    expect(decideLayer(e, "bundle", size)).toEqual({ action: "build", reason });
  });
});

describe("nextLayerCache", () => {
  const live = (...cs: string[]) => new Set(cs.map((c) => `sha256:${hex(c)}`));

  it("keeps this build's entries and earlier ones whose blob survived the layout's GC", () => {
    const previous: LayerCache = new Map([[hex("1"), entry("a")], [hex("2"), entry("b")]]);
    const current = new Map([[hex("3"), entry("c")]]);
    expect([...nextLayerCache(previous, current, live("a", "c")).keys()]).toEqual([hex("3"), hex("1")]);
  });

  it("keeps one key per blob, this build's first", () => {
    const previous: LayerCache = new Map([[hex("1"), entry("a")]]);
    const current = new Map([[hex("2"), entry("a")]]);
    expect(nextLayerCache(previous, current, live("a"))).toEqual(new Map([[hex("2"), entry("a")]]));
  });

  it("serializes the same cache to the same bytes whatever the insertion order", () => {
    const a = new Map([[hex("1"), entry("a")], [hex("2"), entry("b")]]);
    const b = new Map([[hex("2"), entry("b")], [hex("1"), entry("a")]]);
    expect(serializeLayerCache(a)).toBe(serializeLayerCache(b));
  });
});
