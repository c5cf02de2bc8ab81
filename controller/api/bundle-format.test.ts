import { describe, expect, it } from "vitest";
import {
  BUNDLE_MAGIC, type Bundle, bundleByteLength, decodeBundle, encodeBundle, encodeBundleChunks, makeBundleDecoder,
} from "./bundle-format.ts";
import { BundleFormatError, BundleLimitError } from "./errors.ts";

const text = (s: string) => new TextEncoder().encode(s);

/** Raw framing without the encoder's checks, to build malformed bundles. */
function raw(meta: string, entries: Array<[string, Uint8Array | { declared: bigint }]>, count = entries.length): Uint8Array {
  const parts: number[] = [...text(BUNDLE_MAGIC)];
  const u32 = (n: number) => { const b = new Uint8Array(4); new DataView(b.buffer).setUint32(0, n); parts.push(...b); };
  const u64 = (n: bigint) => { const b = new Uint8Array(8); new DataView(b.buffer).setBigUint64(0, n); parts.push(...b); };
  u32(text(meta).length);
  parts.push(...text(meta));
  u32(count);
  for (const [path, content] of entries) {
    u32(text(path).length);
    parts.push(...text(path));
    if (content instanceof Uint8Array) { u64(BigInt(content.length)); parts.push(...content); } else u64(content.declared);
  }
  return new Uint8Array(parts);
}

const sample: Bundle = {
  meta: { spec: { name: "hello", timeout: "5s" }, traffic: [{ revision: "@latest", percent: 100 }] },
  files: new Map([
    ["index.mjs", text("export default 1;\n")],
    ["assets/empty.txt", new Uint8Array(0)],
    ["assets/modèle/ü.bin", new Uint8Array([0, 255, 1, 254])],
  ]),
};

describe("bundle round trip", () => {
  it.each([
    ["no files", { meta: { spec: {} }, files: new Map() }],
    ["one file", { meta: {}, files: new Map([["a", text("x")]]) }],
    ["nested, empty and unicode files", sample],
  ])("decodes what it encodes: %s", (_what, bundle: Bundle) => {
    const bytes = encodeBundle(bundle);
    expect(bytes.length).toBe(bundleByteLength(bundle));
    expect(decodeBundle(bytes)).toEqual(bundle);
  });

  it.each([1, 3, 7, 64])("decodes the same whatever the chunk size (%i bytes)", (size) => {
    const bytes = encodeBundle(sample);
    const decoder = makeBundleDecoder();
    for (let i = 0; i < bytes.length; i += size) decoder.push(bytes.subarray(i, i + size));
    expect(decoder.end()).toEqual(sample);
  });

  it("encodes equal bundles to equal bytes, whatever the map order, and yields contents without copying", () => {
    const reversed = { meta: sample.meta, files: new Map([...sample.files].reverse()) };
    expect(encodeBundle(reversed)).toEqual(encodeBundle(sample));
    const content = sample.files.get("index.mjs")!;
    expect([...encodeBundleChunks(sample)]).toContain(content);
  });
});

describe("malformed bundles", () => {
  const good = encodeBundle(sample);

  it("reports every truncation as truncated, saying where", () => {
    for (let length = 0; length < good.length; length++) {
      expect(() => decodeBundle(good.subarray(0, length)), `length ${length}`).toThrow(BundleFormatError);
    }
    expect(() => decodeBundle(good.subarray(0, good.length - 2))).toThrow(/truncated bundle: it ended inside entry 3 of 3 \("index.mjs", 16 of 18 bytes\)/);
  });

  it.each([
    ["trailing data", new Uint8Array([...good, 0]), "after the last entry"],
    ["a bad magic", text("PK\u0003\u0004 not a bundle at all"), "not a skiff bundle"],
    ["a header that is not JSON", raw("{nope", []), "header is not valid JSON"],
    ["a header that is not an object", raw("[1]", []), "must be a JSON object"],
    ["a parent path", raw("{}", [["../etc/passwd", text("x")]]), '"../etc/passwd" contains ".."'],
    ["an absolute path", raw("{}", [["/etc/passwd", text("x")]]), '"/etc/passwd" is absolute'],
    ["a NUL in a path", raw("{}", [["a\0b", text("x")]]), "NUL"],
    ["an empty path", raw("{}", [["", text("x")]]), '"" is empty'],
    ["a duplicate path", raw("{}", [["a", text("x")], ["a", text("y")]]), '"a" appears twice'],
  ])("rejects %s", (_what, bytes, message) => {
    expect(() => decodeBundle(bytes)).toThrow(BundleFormatError);
    expect(() => decodeBundle(bytes)).toThrow(message);
  });
});

describe("bundle limits", () => {
  it.each([
    ["total size", raw("{}", [["a", new Uint8Array(100)]]), { maxTotalBytes: 90 }, "larger than the limit of 90"],
    ["entries", raw("{}", [["a", text("1")], ["b", text("2")]]), { maxEntries: 1 }, "2 files, more than the limit of 1"],
    ["path length", raw("{}", [["abcdef", text("1")]]), { maxPathBytes: 5 }, "path of 6 bytes"],
    ["header length", raw('{"k":"long"}', []), { maxMetaBytes: 4 }, "header is 12 bytes"],
    ["a declared size beyond the limit", raw("{}", [["a", { declared: 2n ** 62n }]]), {}, '"a" declares 4611686018427387904 bytes'],
  ])("decoder enforces %s", (_what, bytes, limits, message) => {
    expect(() => decodeBundle(bytes, limits)).toThrow(BundleLimitError);
    expect(() => decodeBundle(bytes, limits)).toThrow(message);
  });

  it("fails a too large upload on the first chunk past the limit", () => {
    const decoder = makeBundleDecoder({ maxTotalBytes: 1000 });
    decoder.push(raw("{}", [["a", { declared: 900n }]]));
    expect(() => decoder.push(new Uint8Array(990))).toThrow(BundleLimitError);
  });

  it.each([
    ["size", sample, { maxTotalBytes: 50 }, BundleLimitError, "more than the limit of 50"],
    ["entries", sample, { maxEntries: 2 }, BundleLimitError, "3 files"],
    ["a bad path", { meta: {}, files: new Map([["../x", text("1")]]) }, {}, BundleFormatError, '"../x" contains ".."'],
  ])("encoder refuses %s before sending anything", (_what, bundle: Bundle, limits, type, message) => {
    expect(() => encodeBundleChunks(bundle, limits).next()).toThrow(type);
    expect(() => encodeBundle(bundle, limits)).toThrow(message);
  });
});
