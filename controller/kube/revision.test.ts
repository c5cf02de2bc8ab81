import { describe, expect, it } from "vitest";
import { validateFunctionSpec } from "../../spec/index.ts";
import { makeRevisionHash, makeRevisionId, sha256Hex } from "../store/index.ts";
import { makeKubeRevision, makeKubeRevisionId } from "./revision.ts";
import { IMAGE, makeTestRevision } from "./testdata/fixtures.ts";

describe("makeKubeRevision", () => {
  it("names a revision <fn>-<12 hex> with the store's hash, the image as its only file", () => {
    const spec = validateFunctionSpec({ name: "hello" });
    const revision = makeKubeRevision(IMAGE, spec);
    expect(revision.id).toMatch(/^hello-[0-9a-f]{12}$/);
    expect(revision.contentHash).toBe(makeRevisionHash([["@image", sha256Hex(IMAGE)]], spec));
    expect(revision.id).toBe(makeRevisionId("hello", revision.contentHash));
  });

  it("is the same for specs that normalize alike, whatever their key order", () => {
    const a = makeTestRevision({ timeout: "30s", env: { A: "1", B: "2" } });
    const b = makeTestRevision({ env: { B: "2", A: "1" }, timeout: "30000ms" });
    expect(a.id).toBe(b.id);
  });

  it("changes with the image and with the spec", () => {
    const base = makeTestRevision();
    expect(makeTestRevision({}, `${IMAGE}x`).id).not.toBe(base.id);
    expect(makeTestRevision({ timeout: "31s" }).id).not.toBe(base.id);
  });

  it("keeps ids within 63 characters for long function names", () => {
    const long = "f".repeat(63);
    const id = makeKubeRevisionId(long, "0123456789abcdef");
    expect(id).toBe(`${"f".repeat(50)}-0123456789ab`);
    expect(id).toHaveLength(63);
    expect(makeKubeRevisionId("f".repeat(50), "0123456789abcdef")).toHaveLength(63);
  });
});
