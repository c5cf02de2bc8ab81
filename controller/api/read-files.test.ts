import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, expect, it } from "vitest";
import { openFileStore } from "../store/index.ts";
import { makeTestSpec } from "../store/store-contract.ts";
import { readFilesFromDir } from "./read-files.ts";

let dir = "";
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

it("reads a build directory into the same revision the store makes from it", async () => {
  dir = await mkdtemp(join(tmpdir(), "skiff-read-files-"));
  const build = join(dir, "build");
  await mkdir(join(build, "node_modules", "x"), { recursive: true });
  await writeFile(join(build, "index.mjs"), "export default 1");
  await writeFile(join(build, "node_modules", "x", "x.node"), new Uint8Array([0, 1]));
  const files = await readFilesFromDir(build);
  expect([...files.keys()]).toEqual(["index.mjs", "node_modules/x/x.node"]);
  const store = await openFileStore({ stateDir: join(dir, "state") });
  const fromMap = await store.putRevision("hello", files, makeTestSpec("hello"));
  const fromDir = await store.putRevision("hello", { fromDir: build }, makeTestSpec("hello"));
  expect(fromDir.id).toBe(fromMap.id);
  await store.close();
});
