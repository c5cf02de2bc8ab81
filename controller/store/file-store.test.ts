import { mkdir, mkdtemp, readFile, readdir, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { CorruptStateError } from "./errors.ts";
import { openFileStore } from "./file-store.ts";
import { describeStoreContract, makeTestFiles, makeTestSpec } from "./store-contract.ts";

describeStoreContract("file store", async () => {
  const stateDir = await mkdtemp(join(tmpdir(), "skiff-store-"));
  let clock = 1_000;
  const open = () => openFileStore({ stateDir, now: () => clock++ });
  return { store: await open(), reopen: open, cleanup: () => rm(stateDir, { recursive: true, force: true }) };
});

describe("file store on disk", () => {
  let stateDir: string;
  beforeEach(async () => {
    stateDir = await mkdtemp(join(tmpdir(), "skiff-store-"));
  });
  afterEach(async () => {
    await rm(stateDir, { recursive: true, force: true });
  });

  it("writes one document per function and the revision files under revisions/<fn>/<id>/", async () => {
    const store = await openFileStore({ stateDir });
    const revision = await store.putRevision("hello", makeTestFiles("a"), makeTestSpec("hello"));
    expect(revision.bundleDir).toBe(join(stateDir, "revisions", "hello", revision.id));
    expect(await readFile(join(revision.bundleDir, "assets/model.bin"), "utf8")).toBe("weights of a");
    const document = JSON.parse(await readFile(join(stateDir, "functions", "hello.json"), "utf8"));
    expect(document).toMatchObject({ kind: "skiff.function/v1", name: "hello", revisions: [{ id: revision.id }] });
    expect(await readdir(join(stateDir, "revisions", "hello"))).toEqual([revision.id]);
  });

  it("keeps the isolation: a container revision of the same files is another revision, and survives a reopen", async () => {
    const store = await openFileStore({ stateDir });
    const plain = await store.putRevision("hello", makeTestFiles("a"), makeTestSpec("hello"));
    const explicit = await store.putRevision("hello", makeTestFiles("a"), makeTestSpec("hello"), { isolation: "process" });
    const boxed = await store.putRevision("hello", makeTestFiles("a"), makeTestSpec("hello"), { isolation: "container" });
    expect(explicit.id).toBe(plain.id);
    expect(plain.isolation).toBeUndefined();
    expect(boxed.id).not.toBe(plain.id);
    expect(boxed.isolation).toBe("container");
    await store.close();
    const reopened = await openFileStore({ stateDir });
    expect(reopened.problems()).toEqual([]);
    expect((await reopened.getFunction("hello"))?.revisions.map((r) => r.isolation)).toEqual([undefined, "container"]);
    await expect(reopened.putRevision("hello", makeTestFiles("a"), makeTestSpec("hello"), { isolation: "vm" as "container" })).rejects.toThrow(/unknown isolation "vm"/);
  });

  it("copies a directory (following symlinks) to the same revision as the equivalent map", async () => {
    const source = join(stateDir, "build");
    await mkdir(join(source, "assets"), { recursive: true });
    await writeFile(join(source, "index.mjs"), 'export default "a";\n');
    await writeFile(join(stateDir, "outside.bin"), "weights of a");
    await symlink(join(stateDir, "outside.bin"), join(source, "assets", "model.bin"));
    const store = await openFileStore({ stateDir: join(stateDir, "state") });
    const fromDir = await store.putRevision("hello", { fromDir: source }, makeTestSpec("hello"));
    const fromMap = await store.putRevision("hello", makeTestFiles("a"), makeTestSpec("hello"));
    expect(fromMap.id).toBe(fromDir.id);
    await expect(store.putRevision("hello", { fromDir: join(stateDir, "missing") }, makeTestSpec("hello"))).rejects.toThrow(/missing/);
  });

  it("removes leftover temp files and unreferenced revision directories when it opens", async () => {
    const store = await openFileStore({ stateDir });
    const revision = await store.putRevision("hello", makeTestFiles("a"), makeTestSpec("hello"));
    await store.close();
    await writeFile(join(stateDir, "functions", ".hello.json.tmp-1-abc"), "{half a docu");
    await mkdir(join(stateDir, "revisions", "hello", ".staging.tmp-1-abc"));
    await mkdir(join(stateDir, "revisions", "hello", "hello-0123456789ab"));
    await mkdir(join(stateDir, "revisions", "gone", "gone-0123456789ab"), { recursive: true });
    const reopened = await openFileStore({ stateDir });
    expect(reopened.problems()).toEqual([]);
    expect(await readdir(join(stateDir, "functions"))).toEqual(["hello.json"]);
    expect(await readdir(join(stateDir, "revisions"))).toEqual(["hello"]);
    expect(await readdir(join(stateDir, "revisions", "hello"))).toEqual([revision.id]);
  });

  it("reports a corrupt document by file name, keeps serving the others, and lets it be deleted", async () => {
    const store = await openFileStore({ stateDir });
    await store.putRevision("good", makeTestFiles("a"), makeTestSpec("good"));
    await store.putRevision("bad", makeTestFiles("a"), makeTestSpec("bad"));
    await store.close();
    const badFile = join(stateDir, "functions", "bad.json");
    await writeFile(badFile, '{"kind": "skiff.function/v1", "name": "bad", "revis');
    const reopened = await openFileStore({ stateDir });
    expect(reopened.problems()).toEqual([{ name: "bad", file: badFile, message: expect.stringContaining(badFile) }]);
    expect((await reopened.listFunctions()).map((f) => f.name)).toEqual(["good"]);
    const error = await reopened.getFunction("bad").catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CorruptStateError);
    expect((error as Error).message).toMatch(/not valid JSON/);
    await expect(reopened.putRevision("bad", makeTestFiles("b"), makeTestSpec("bad"))).rejects.toBeInstanceOf(CorruptStateError);
    expect(await reopened.deleteFunction("bad")).toBe(true);
    expect(reopened.problems()).toEqual([]);
    expect(await readdir(join(stateDir, "revisions"))).toEqual(["good"]);
  });

  it("treats a document whose revision files are missing as corrupt", async () => {
    const store = await openFileStore({ stateDir });
    const revision = await store.putRevision("hello", makeTestFiles("a"), makeTestSpec("hello"));
    await rm(revision.bundleDir, { recursive: true });
    const reopened = await openFileStore({ stateDir });
    await expect(reopened.getFunction("hello")).rejects.toThrow(/files of revision .* are missing/);
  });

  it("deletes a function's revision files with it", async () => {
    const store = await openFileStore({ stateDir });
    await store.putRevision("hello", makeTestFiles("a"), makeTestSpec("hello"));
    await store.deleteFunction("hello");
    expect(await readdir(join(stateDir, "functions"))).toEqual([]);
    expect(await readdir(join(stateDir, "revisions"))).toEqual([]);
  });
});
