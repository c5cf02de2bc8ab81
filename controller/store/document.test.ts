import { describe, expect, it } from "vitest";
import { parseFunctionDocument, serializeFunctionDocument } from "./document.ts";
import { CorruptStateError } from "./errors.ts";
import { makeRevisionId, sha256Hex } from "./hash.ts";
import { makeTestSpec } from "./store-contract.ts";
import type { FunctionRecord } from "./types.ts";

const context = { file: "/state/functions/f.json", name: "f", bundleDir: (n: string, id: string) => `/state/revisions/${n}/${id}` };
const hash = sha256Hex("x");
const id = makeRevisionId("f", hash);
const record: FunctionRecord = {
  name: "f",
  revisions: [{ id, fn: "f", spec: makeTestSpec("f"), bundleDir: `/state/revisions/f/${id}`, contentHash: hash, createdAtMs: 5 }],
  traffic: [{ revision: id, percent: 100 }],
  latestRevision: id,
  createdAtMs: 5,
  updatedAtMs: 6,
  generation: 2,
};

describe("function documents", () => {
  it("round-trips a record, deriving bundleDir instead of storing it", () => {
    const text = serializeFunctionDocument(record);
    expect(text).not.toContain("bundleDir");
    expect(parseFunctionDocument(text, context)).toEqual(record);
  });

  const mutate = (change: (doc: Record<string, any>) => void): string => {
    const doc = JSON.parse(serializeFunctionDocument(record));
    change(doc);
    return JSON.stringify(doc);
  };

  it.each([
    ["truncated JSON", serializeFunctionDocument(record).slice(0, 40), "not valid JSON"],
    ["another kind", mutate((d) => { d.kind = "x"; }), "kind"],
    ["another name", mutate((d) => { d.name = "g"; }), 'names function "g"'],
    ["a bad generation", mutate((d) => { d.generation = -1; }), "generation"],
    ["an id not matching the hash", mutate((d) => { d.revisions[0].id = "f-000000000000"; }), "revisions[0].id"],
    ["a duplicate revision", mutate((d) => { d.revisions.push(d.revisions[0]); }), "listed twice"],
    ["traffic to an unknown revision", mutate((d) => { d.traffic = [{ revision: "f-ffffffffffff", percent: 100 }]; }), "does not have"],
    ["traffic not summing to 100", mutate((d) => { d.traffic[0].percent = 10; }), "sum to 100"],
    ["an unknown latestRevision", mutate((d) => { d.latestRevision = "f-ffffffffffff"; }), "latestRevision"],
  ])("reports %s as corrupt, naming the file", (_what, text, detail) => {
    expect(() => parseFunctionDocument(text, context)).toThrow(CorruptStateError);
    expect(() => parseFunctionDocument(text, context)).toThrow(detail);
    expect(() => parseFunctionDocument(text, context)).toThrow(context.file);
  });
});
