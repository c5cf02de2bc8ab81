// The behaviour every FunctionStore must have, as a reusable vitest suite: the file store
// runs it in file-store.test.ts, the Kubernetes store will run it against a real apiserver.
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { validateFunctionSpec } from "../../spec/index.ts";
import type { FunctionSpec } from "../../spec/types.ts";
import { ConflictError, NotFoundError, ValidationError } from "./errors.ts";
import { LATEST_REVISION } from "./traffic.ts";
import type { Revision } from "../types.ts";
import type { FunctionStore, StoreEvent } from "./types.ts";

/** A store under test; `reopen` (if the store persists) opens a second store on the same state. */
export interface StoreFixture {
  store: FunctionStore;
  reopen?(): Promise<FunctionStore>;
  cleanup?(): Promise<void>;
}

/** A valid normalized spec named `name`, with `extra` function.yaml fields. */
export function makeTestSpec(name: string, extra: Record<string, unknown> = {}): FunctionSpec {
  return validateFunctionSpec({ name, ...extra });
}

/** A small file set whose content depends on `tag`. */
export function makeTestFiles(tag: string): Map<string, Uint8Array> {
  const text = (s: string) => new TextEncoder().encode(s);
  return new Map([
    ["index.mjs", text(`export default ${JSON.stringify(tag)};\n`)],
    ["assets/model.bin", text(`weights of ${tag}`)],
  ]);
}

/** What each group of contract cases gets: the store under test (fresh per test) and helpers. */
interface ContractContext {
  store(): FunctionStore;
  fixture(): StoreFixture;
  /** Replaces the store under test (after a reopen). */
  setStore(store: FunctionStore): void;
  put(fn: string, tag: string, extra?: Record<string, unknown>): Promise<Revision>;
}

/** Registers the FunctionStore contract suite; `makeStore` gives each test a fresh, empty store. */
export function describeStoreContract(name: string, makeStore: () => Promise<StoreFixture>): void {
  describe(`FunctionStore contract: ${name}`, () => {
    let fixture: StoreFixture;
    let store: FunctionStore;
    beforeEach(async () => {
      fixture = await makeStore();
      store = fixture.store;
    });
    afterEach(async () => {
      await store.close();
      await fixture.cleanup?.();
    });
    const ctx: ContractContext = {
      store: () => store,
      fixture: () => fixture,
      setStore: (next) => { store = next; },
      put: (fn, tag, extra) => store.putRevision(fn, makeTestFiles(tag), makeTestSpec(fn, extra)),
    };
    describe("revisions", () => revisionCases(ctx));
    describe("deploy and traffic", () => trafficCases(ctx));
    describe("rollback", () => rollbackCases(ctx));
    describe("listing, deleting and watching", () => lifecycleCases(ctx));
  });
}

// Content addressing, path validation and concurrency of putRevision.
function revisionCases(ctx: ContractContext): void {
  const put = ctx.put;
  it("stores a revision under a content-addressed id and creates the function without traffic", async () => {
    const revision = await put("hello", "a");
    expect(revision.id).toMatch(/^hello-[0-9a-f]{12}$/);
    expect(revision.contentHash).toMatch(/^[0-9a-f]{64}$/);
    expect(revision.id).toBe(`hello-${revision.contentHash.slice(0, 12)}`);
    expect(revision).toMatchObject({ fn: "hello", spec: makeTestSpec("hello") });
    const record = await ctx.store().getFunction("hello");
    expect(record).toMatchObject({ name: "hello", traffic: [], revisions: [revision] });
    expect(record?.latestRevision).toBeUndefined();
    expect(record?.generation).toBeGreaterThan(0);
  });

  it("gives the same id to the same files and spec, whatever the map order, and stores it once", async () => {
    const first = await put("hello", "a");
    const reversed = new Map([...makeTestFiles("a")].reverse());
    const second = await ctx.store().putRevision("hello", reversed, makeTestSpec("hello"));
    expect(second).toEqual(first);
    expect((await ctx.store().getFunction("hello"))?.revisions).toHaveLength(1);
  });

  it("gives a different id when a file or the spec changes", async () => {
    const base = await put("hello", "a");
    const otherFiles = await put("hello", "b");
    const otherSpec = await put("hello", "a", { timeout: "5s" });
    expect(new Set([base.id, otherFiles.id, otherSpec.id]).size).toBe(3);
    const record = await ctx.store().getFunction("hello");
    expect(record?.revisions.map((r) => r.id)).toEqual([base.id, otherFiles.id, otherSpec.id]);
  });

  it.each([
    ["/etc/passwd", "absolute"],
    ["../escape", ".."],
    ["a/../../b", ".."],
    ["a\0b", "NUL"],
    ["", "empty"],
    ["a//b", "empty segment"],
  ])("rejects the file path %j (%s), naming it, and stores nothing", async (path) => {
    const files = new Map([[path, new Uint8Array([1])]]);
    const error = await ctx.store().putRevision("hello", files, makeTestSpec("hello")).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as Error).message).toContain(JSON.stringify(path));
    expect(await ctx.store().getFunction("hello")).toBeUndefined();
  });

  it("rejects a spec of another function and an invalid function name", async () => {
    await expect(ctx.store().putRevision("hello", makeTestFiles("a"), makeTestSpec("other"))).rejects.toBeInstanceOf(ValidationError);
    await expect(ctx.store().putRevision("Bad_Name", makeTestFiles("a"), makeTestSpec("hello"))).rejects.toThrow(/Bad_Name/);
    expect(await ctx.store().listFunctions()).toEqual([]);
  });

  it("serializes concurrent uploads to one function without losing any", async () => {
    const revisions = await Promise.all(["a", "b", "c", "d", "e"].map((tag) => put("hello", tag)));
    const record = await ctx.store().getFunction("hello");
    expect(record?.revisions.map((r) => r.id).sort()).toEqual(revisions.map((r) => r.id).sort());
    expect(record?.generation).toBe(5);
  });
}

// deployRevision and setTraffic.
function trafficCases(ctx: ContractContext): void {
  const put = ctx.put;
  it("deploys a revision as latest with 100% of traffic, and a repeat deploy changes nothing", async () => {
    const revision = await put("hello", "a");
    const record = await ctx.store().deployRevision("hello", revision.id);
    expect(record).toMatchObject({ latestRevision: revision.id, traffic: [{ revision: revision.id, percent: 100 }] });
    const again = await ctx.store().deployRevision("hello", revision.id);
    expect(again.generation).toBe(record.generation);
  });

  it("deploys with a split where @latest names the deployed revision", async () => {
    const a = await put("hello", "a");
    await ctx.store().deployRevision("hello", a.id);
    const b = await put("hello", "b");
    const record = await ctx.store().deployRevision("hello", b.id, [
      { revision: a.id, percent: 90 },
      { revision: LATEST_REVISION, percent: 10 },
    ]);
    expect(record.latestRevision).toBe(b.id);
    expect(record.traffic).toEqual([{ revision: a.id, percent: 90 }, { revision: b.id, percent: 10 }]);
  });

  it("reports unknown functions and revisions as NotFoundError", async () => {
    await expect(ctx.store().deployRevision("nope", "nope-000000000000")).rejects.toBeInstanceOf(NotFoundError);
    await put("hello", "a");
    await expect(ctx.store().deployRevision("hello", "hello-000000000000")).rejects.toBeInstanceOf(NotFoundError);
    await expect(ctx.store().setTraffic("nope", [{ revision: "x", percent: 100 }])).rejects.toBeInstanceOf(NotFoundError);
    await expect(ctx.store().rollback("nope")).rejects.toBeInstanceOf(NotFoundError);
  });

  it("sets a traffic split without changing the latest revision", async () => {
    const a = await put("hello", "a");
    const b = await put("hello", "b");
    await ctx.store().deployRevision("hello", b.id);
    const record = await ctx.store().setTraffic("hello", [{ revision: a.id, percent: 25 }, { revision: b.id, percent: 75 }]);
    expect(record).toMatchObject({ latestRevision: b.id, traffic: [{ revision: a.id, percent: 25 }, { revision: b.id, percent: 75 }] });
  });

  it.each([
    ["percents not summing to 100", (a: string) => [{ revision: a, percent: 60 }]],
    ["a fractional percent", (a: string) => [{ revision: a, percent: 99.5 }, { revision: a, percent: 0.5 }]],
    ["an unknown revision", () => [{ revision: "hello-ffffffffffff", percent: 100 }]],
    ["a duplicate revision", (a: string) => [{ revision: a, percent: 50 }, { revision: a, percent: 50 }]],
    ["an empty list", () => []],
  ])("rejects traffic with %s", async (_what, make) => {
    const a = await put("hello", "a");
    await ctx.store().deployRevision("hello", a.id);
    await expect(ctx.store().setTraffic("hello", make(a.id))).rejects.toBeInstanceOf(ValidationError);
    expect((await ctx.store().getFunction("hello"))?.traffic).toEqual([{ revision: a.id, percent: 100 }]);
  });
}

// rollback with and without a named revision.
function rollbackCases(ctx: ContractContext): void {
  const put = ctx.put;
  it("rolls back to the revision before the current target, then refuses at the oldest", async () => {
    const a = await put("hello", "a");
    const b = await put("hello", "b");
    await ctx.store().deployRevision("hello", b.id);
    const record = await ctx.store().rollback("hello");
    expect(record.traffic).toEqual([{ revision: a.id, percent: 100 }]);
    expect(record.latestRevision).toBe(b.id);
    await expect(ctx.store().rollback("hello")).rejects.toBeInstanceOf(ConflictError);
  });

  it("rolls back to a named revision and rejects an unknown one", async () => {
    const a = await put("hello", "a");
    const b = await put("hello", "b");
    const c = await put("hello", "c");
    await ctx.store().deployRevision("hello", c.id);
    expect((await ctx.store().rollback("hello", a.id)).traffic).toEqual([{ revision: a.id, percent: 100 }]);
    await expect(ctx.store().rollback("hello", "hello-ffffffffffff")).rejects.toBeInstanceOf(NotFoundError);
    expect((await ctx.store().getFunction("hello"))?.revisions.map((r) => r.id)).toEqual([a.id, b.id, c.id]);
  });

  it("needs a named revision when traffic is split or absent", async () => {
    const a = await put("hello", "a");
    await expect(ctx.store().rollback("hello")).rejects.toBeInstanceOf(ConflictError);
    const b = await put("hello", "b");
    await ctx.store().setTraffic("hello", [{ revision: a.id, percent: 50 }, { revision: b.id, percent: 50 }]);
    await expect(ctx.store().rollback("hello")).rejects.toThrow(/name the revision/);
  });
}

// listFunctions, deleteFunction, watch and persistence.
function lifecycleCases(ctx: ContractContext): void {
  const put = ctx.put;
  it("lists functions sorted by name and returns copies", async () => {
    await put("zeta", "a");
    await put("alpha", "a");
    const list = await ctx.store().listFunctions();
    expect(list.map((f) => f.name)).toEqual(["alpha", "zeta"]);
    list[0]!.traffic.push({ revision: "x", percent: 100 });
    expect((await ctx.store().getFunction("alpha"))?.traffic).toEqual([]);
    expect(await ctx.store().getFunction("missing")).toBeUndefined();
  });

  it("deletes a function once", async () => {
    await put("hello", "a");
    expect(await ctx.store().deleteFunction("hello")).toBe(true);
    expect(await ctx.store().deleteFunction("hello")).toBe(false);
    expect(await ctx.store().getFunction("hello")).toBeUndefined();
    expect(await ctx.store().listFunctions()).toEqual([]);
  });

  it("tells watchers about every change, in order, until they unsubscribe", async () => {
    const events: StoreEvent[] = [];
    const stop = ctx.store().watch((event) => events.push(event));
    const a = await put("hello", "a");
    await ctx.store().deployRevision("hello", a.id);
    await ctx.store().deleteFunction("hello");
    stop();
    await put("hello", "b");
    expect(events.map((e) => [e.type, e.name, e.record?.latestRevision])).toEqual([
      ["put", "hello", undefined],
      ["put", "hello", a.id],
      ["deleted", "hello", undefined],
    ]);
  });

  it("keeps its state across a reopen", async () => {
    const reopen = ctx.fixture().reopen;
    if (!reopen) return;
    const a = await put("hello", "a");
    await ctx.store().deployRevision("hello", a.id);
    const before = await ctx.store().getFunction("hello");
    await ctx.store().close();
    ctx.setStore(await reopen());
    expect(await ctx.store().getFunction("hello")).toEqual(before);
  });
}
