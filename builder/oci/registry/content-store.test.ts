import { createHash } from "node:crypto";
import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { blobPath, describeMismatch, digestHex, hasBlob, storeBlob, storeBytes } from "./content-store.ts";
import { DigestMismatchError } from "./errors.ts";

const context = { registry: "r.io", repository: "app", operation: "get blob" };
const blobOf = (bytes: Buffer) => ({ digest: `sha256:${createHash("sha256").update(bytes).digest("hex")}`, size: bytes.length });
const streamOf = (...chunks: Buffer[]) =>
  new ReadableStream<Uint8Array>({
    start(controller) {
      for (const chunk of chunks) controller.enqueue(chunk);
      controller.close();
    },
  });

describe("content store", () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "skiff-store-"));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it("stores a verified blob at blobs/sha256/<hex>", async () => {
    const data = Buffer.from("layer bytes");
    const blob = blobOf(data);
    expect(await storeBlob(dir, blob, streamOf(data.subarray(0, 4), data.subarray(4)), context)).toBe(data.length);
    expect(await readFile(join(dir, "blobs", "sha256", digestHex(blob.digest)))).toEqual(data);
    expect(await hasBlob(dir, blob)).toBe(true);
    expect(await hasBlob(dir, { ...blob, size: 1 })).toBe(false);
  });

  it.each([
    { name: "wrong content", sent: Buffer.from("other bytes"), error: /the registry sent content hashing to sha256:[0-9a-f]{64} for sha256:/ },
    { name: "too short", sent: Buffer.from("short"), error: /the registry sent 5 bytes, not the 11 its descriptor says/ },
    { name: "too long", sent: Buffer.from("layer bytes and more"), error: /the registry sent more than the 11 bytes its descriptor says/ },
  ])("refuses $name and leaves nothing behind", async ({ sent, error }) => {
    const blob = blobOf(Buffer.from("expected!!!"));
    const store = await mkdtemp(join(dir, "bad-"));
    const attempt = storeBlob(store, blob, streamOf(sent), context);
    await expect(attempt).rejects.toBeInstanceOf(DigestMismatchError);
    await expect(attempt).rejects.toThrow(error);
    expect(await readdir(join(store, "blobs", "sha256"))).toEqual([]);
  });

  it("checks in-memory bytes too", async () => {
    const data = Buffer.from("{}");
    await storeBytes(dir, blobOf(data), data, context);
    expect(await readFile(blobPath(dir, blobOf(data).digest), "utf8")).toBe("{}");
    await expect(storeBytes(dir, blobOf(Buffer.from("[]")), data, context)).rejects.toThrow(/get blob in r\.io\/app: the registry sent content hashing to/);
  });

  it("refuses digests that are not sha256 (they become file names)", () => {
    expect(() => blobPath(dir, "sha256:../../etc/passwd")).toThrow(/malformed digest/);
    expect(() => blobPath(dir, `sha512:${"a".repeat(128)}`)).toThrow(/unsupported or malformed digest/);
  });

  it("describes mismatches purely", () => {
    const blob = { digest: "sha256:a", size: 3 };
    expect(describeMismatch(blob, 3, "sha256:a")).toBeUndefined();
    expect(describeMismatch(blob, 2, "sha256:a")).toBe("2 bytes, not the 3 its descriptor says");
  });
});
