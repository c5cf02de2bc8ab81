import { createHash, randomBytes } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RegistryClient } from "./client.ts";
import { staticCredentials } from "./docker-config.ts";
import { fakeFetch } from "./fake-fetch.test-support.ts";
import { nextChunk, uploadBlob } from "./upload.ts";

describe("nextChunk", () => {
  it.each([
    [10, 0, 4, { start: 0, length: 4 }],
    [10, 8, 4, { start: 8, length: 2 }],
    [10, 10, 4, undefined],
    [0, 0, 4, undefined],
  ])("size %i committed %i chunk %i", (size, committed, chunk, want) => {
    expect(nextChunk(size, committed, chunk)).toEqual(want);
  });
});

describe("uploadBlob", () => {
  let dir: string;
  const data = randomBytes(10_000);
  const blob = { digest: `sha256:${createHash("sha256").update(data).digest("hex")}`, size: data.length, path: "" };
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "skiff-upload-"));
    blob.path = join(dir, "blob");
    await writeFile(blob.path, data);
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  /** A registry that keeps what it receives and, once, pretends to have got only half a chunk. */
  function chunkRegistry() {
    const received: Buffer[] = [];
    let size = 0;
    let shortened = false;
    let step = 0;
    const fake = fakeFetch((req) => {
      if (req.method === "PATCH") {
        const chunk = req.bytes;
        const [start] = req.headers.get("content-range")!.split("-").map(Number);
        expect(start).toBe(size); // chunks arrive in order, from where the registry said it was
        let keep = chunk.length;
        if (!shortened && size > 0) {
          shortened = true;
          keep = Math.floor(chunk.length / 2);
        }
        received.push(chunk.subarray(0, keep));
        size += keep;
        return new Response(null, { status: 202, headers: { location: `/v2/app/blobs/uploads/u?step=${++step}`, range: `0-${size - 1}` } });
      }
      if (req.method === "PUT") {
        expect(req.url.searchParams.get("step")).toBe(String(step)); // the last Location, not the first
        expect(req.url.searchParams.get("digest")).toBe(blob.digest);
        received.push(req.bytes);
        return new Response(null, { status: 201 });
      }
      throw new Error(`unexpected ${req.method}`);
    });
    return { ...fake, content: () => Buffer.concat(received) };
  }

  it("sends chunks from disk, following each Location and resuming from the returned Range", async () => {
    const registry = chunkRegistry();
    const client = new RegistryClient({ registry: "r.io", fetch: registry.fetch, credentials: staticCredentials({ kind: "none" }) });
    const sent = await uploadBlob(client, "app", blob, new URL("https://r.io/v2/app/blobs/uploads/u?step=0"), { monolithicMaxBytes: 100, chunkSizeBytes: 3000 });
    expect(registry.content().equals(data)).toBe(true);
    // 10 000 bytes in 3000-byte chunks, plus the half chunk the registry dropped once.
    expect(sent).toBe(data.length + 1500);
    // 0-2999, 3000-5999 (half kept), 4500-7499, 7500-9999, then the closing PUT.
    expect(registry.requests.map((r) => r.method)).toEqual(["PATCH", "PATCH", "PATCH", "PATCH", "PUT"]);
  });

  it("sends a small blob in one PUT", async () => {
    const registry = chunkRegistry();
    const client = new RegistryClient({ registry: "r.io", fetch: registry.fetch, credentials: staticCredentials({ kind: "none" }) });
    expect(await uploadBlob(client, "app", blob, new URL("https://r.io/v2/app/blobs/uploads/u?step=0"), { monolithicMaxBytes: data.length, chunkSizeBytes: 10 })).toBe(data.length);
    expect(registry.requests.map((r) => [r.method, r.headers.get("content-length")])).toEqual([["PUT", String(data.length)]]);
    expect(registry.content().equals(data)).toBe(true);
  });
});
