import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { findPackedRef, parseGitFile, parseHead, readGitRevision } from "./git-revision.ts";

const A = "a".repeat(40);
const B = "b".repeat(40);

describe("parseHead", () => {
  it.each([
    { text: `${A}\n`, want: { kind: "commit", id: A } },
    { text: `${"c".repeat(64)}\n`, want: { kind: "commit", id: "c".repeat(64) } },
    { text: "ref: refs/heads/main\n", want: { kind: "ref", ref: "refs/heads/main" } },
    { text: "ref: refs/heads/feature/x\n", want: { kind: "ref", ref: "refs/heads/feature/x" } },
    // reftable keeps this placeholder in HEAD; tags, remotes and odd paths are git's to resolve.
    { text: "ref: refs/heads/.invalid\n", want: { kind: "other" } },
    { text: "ref: refs/remotes/origin/main\n", want: { kind: "other" } },
    { text: "ref: refs/heads/../../etc\n", want: { kind: "other" } },
    { text: "a".repeat(39), want: { kind: "other" } },
  ])("$text", ({ text, want }) => {
    expect(parseHead(text)).toEqual(want);
  });
});

describe("findPackedRef", () => {
  const packed = `# pack-refs with: peeled fully-peeled sorted \n${A} refs/heads/main\n${B} refs/tags/v1\n^${A}\n`;
  it("finds a branch and skips peeled and comment lines", () => {
    expect(findPackedRef(packed, "refs/heads/main")).toBe(A);
    expect(findPackedRef(packed, "refs/heads/other")).toBeUndefined();
  });
});

describe("parseGitFile", () => {
  it("resolves gitdir against the folder holding the .git file", () => {
    expect(parseGitFile("gitdir: ../main/.git/worktrees/wt\n", "/src/wt")).toBe("/src/main/.git/worktrees/wt");
    expect(parseGitFile("nonsense", "/src/wt")).toBeUndefined();
  });
});

describe("readGitRevision (from .git files, no git run)", () => {
  let root: string;
  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), "skiff-git-rev-"));
  });
  afterAll(() => rm(root, { recursive: true, force: true }));

  /** A repository's git dir with HEAD and optional loose/packed refs, and a function folder below it. */
  async function repo(name: string, files: Record<string, string>): Promise<string> {
    for (const [path, text] of Object.entries(files)) {
      await mkdir(join(root, name, ".git", path, ".."), { recursive: true });
      await writeFile(join(root, name, ".git", path), text);
    }
    const fn = join(root, name, "functions", "hello");
    await mkdir(fn, { recursive: true });
    return fn;
  }

  it("follows HEAD to a loose branch ref, from a folder below the work tree's root", async () => {
    expect(await readGitRevision(await repo("loose", { HEAD: "ref: refs/heads/main\n", "refs/heads/main": `${A}\n` }))).toBe(A);
  });

  it("falls back to packed-refs, and reads a detached HEAD as is", async () => {
    expect(await readGitRevision(await repo("packed", { HEAD: "ref: refs/heads/main\n", "packed-refs": `${B} refs/heads/main\n` }))).toBe(B);
    expect(await readGitRevision(await repo("detached", { HEAD: `${A}\n` }))).toBe(A);
  });

  it("reads a worktree: HEAD in its own git dir, branches in the common dir", async () => {
    await repo("main", { HEAD: "ref: refs/heads/main\n", "refs/heads/main": `${A}\n`, "refs/heads/wt": `${B}\n`, "worktrees/wt/HEAD": "ref: refs/heads/wt\n", "worktrees/wt/commondir": "../..\n" });
    const wt = join(root, "wt");
    await mkdir(join(wt, "fn"), { recursive: true });
    await writeFile(join(wt, ".git"), `gitdir: ${join(root, "main", ".git", "worktrees", "wt")}\n`);
    expect(await readGitRevision(join(wt, "fn"))).toBe(B);
  });

  it("is undefined outside any repository", async () => {
    const plain = join(root, "plain", "fn");
    await mkdir(plain, { recursive: true });
    // tmpdir has no enclosing repository on a test machine; if it had, git would find it too.
    const enclosing = await readGitRevision(root);
    expect(await readGitRevision(plain)).toBe(enclosing);
  });
});
