// The registry client against a real registry (Debian's docker-registry, anonymous): push a
// layout built by buildImageLayout, read it back with skopeo and with our pull, and count the
// bytes each push sends so only changed blobs go over the wire.
import { createHash } from "node:crypto";
import { appendFile, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { canonicalJson, makeImage, MEDIA_TYPES } from "../builder/oci/image.ts";
import { makeLayer } from "../builder/oci/layers.ts";
import { REF_NAME, writeImageLayout } from "../builder/oci/layout.ts";
import type { ImageLayoutResult } from "../builder/oci/build-image.ts";
import { blobPath, MANIFEST_TYPES, pullImage, pushImageLayout, RegistryClient, RegistryNotFoundError, staticCredentials } from "../builder/oci/registry/index.ts";
import type { FunctionSpec } from "../spec/index.ts";
import { buildLayout, countingFetch, makeFixture, registryTools, skopeoInspect, skopeoInspectLayout, startRegistry, type TestRegistry } from "./harness/registry.ts";
import { describeWithTools } from "./harness/tools.ts";

let tmp: string;
let registry: TestRegistry;
let fixture: string;
let layoutDir: string;
let v1: ImageLayoutResult;
const counter = countingFetch();
let client: RegistryClient;

const sha256 = (bytes: Uint8Array) => `sha256:${createHash("sha256").update(bytes).digest("hex")}`;

describeWithTools("registry client against docker-registry (anonymous)", [...registryTools("anonymous"), "skopeo"], () => {
  beforeAll(async () => {
    tmp = await mkdtemp(join(tmpdir(), "skiff-registry-test-"));
    registry = await startRegistry();
    fixture = await makeFixture(tmp);
    layoutDir = join(tmp, "layout");
    v1 = await buildLayout(fixture, layoutDir, `${registry.host}/skiff/hello:v1`);
    // No credentials at all: an anonymous registry must never need them.
    client = new RegistryClient({ registry: registry.host, fetch: counter.fetch, credentials: staticCredentials({ kind: "none" }) });
  }, 120_000);
  afterAll(async () => {
    await registry?.stop();
    await rm(tmp, { recursive: true, force: true });
  });

  it("pushes a built layout over plain http; skopeo reads it and reports our digest", async () => {
    expect(client.baseUrl).toBe(`http://${registry.host}`);
    expect(v1.layers.map((l) => l.kind)).toEqual(["assets", "bundle"]);
    counter.reset();
    const result = await pushImageLayout(client, { layoutDir, layoutTag: "v1", repository: "skiff/hello", tag: "v1" });
    expect(result.manifestDigest).toBe(v1.manifestDigest);
    expect(result.blobs.map((b) => b.action)).toEqual(["uploaded", "uploaded", "uploaded"]);
    const blobBytes = result.blobs.reduce((n, b) => n + b.size, 0);
    expect(result.bytesUploaded).toBe(blobBytes);
    expect(counter.uploadBytes()).toBe(blobBytes);

    const inspected = await skopeoInspect(`${registry.host}/skiff/hello:v1`);
    expect(inspected.Digest).toBe(v1.manifestDigest);
    expect(inspected.Labels["dev.skiff.function"]).toBe("hello");
  });

  it("pushes again without uploading a byte (every blob HEAD-skipped)", async () => {
    counter.reset();
    const result = await pushImageLayout(client, { layoutDir, layoutTag: "v1", repository: "skiff/hello", tag: "v1" });
    expect(result.blobs.map((b) => b.action)).toEqual(["skipped", "skipped", "skipped"]);
    expect(result.bytesUploaded).toBe(0);
    expect(counter.uploadBytes()).toBe(0);
    expect(counter.seen.filter((r) => r.method === "POST")).toEqual([]);
  });

  it("mounts every blob from another repository instead of uploading", async () => {
    counter.reset();
    const result = await pushImageLayout(client, { layoutDir, layoutTag: "v1", repository: "skiff/copy", tag: "v1", mountFrom: "skiff/hello" });
    expect(result.blobs.map((b) => b.action)).toEqual(["mounted", "mounted", "mounted"]);
    expect(counter.uploadBytes()).toBe(0);
    expect((await skopeoInspect(`${registry.host}/skiff/copy:v1`)).Digest).toBe(v1.manifestDigest);
  });

  it("uploads only the bundle layer and config after a code-only change", async () => {
    await appendFile(join(fixture, "index.ts"), '\nconsole.log("registry test: code changed");\n');
    const v2 = await buildLayout(fixture, layoutDir, `${registry.host}/skiff/hello:v2`);
    const [assets, bundle] = v2.layers;
    expect(assets!.digest).toBe(v1.layers[0]!.digest);
    expect(bundle!.digest).not.toBe(v1.layers[1]!.digest);
    counter.reset();
    const result = await pushImageLayout(client, { layoutDir, layoutTag: "v2", repository: "skiff/hello", tag: "v2" });
    const config = result.blobs.find((b) => b.digest === v2.configDigest)!;
    expect(Object.fromEntries(result.blobs.map((b) => [b.digest, b.action]))).toEqual({
      [assets!.digest]: "skipped",
      [bundle!.digest]: "uploaded",
      [v2.configDigest]: "uploaded",
    });
    expect(result.bytesUploaded).toBe(bundle!.size + config.size);
    expect(counter.uploadBytes()).toBe(bundle!.size + config.size);
    expect((await skopeoInspect(`${registry.host}/skiff/hello:v2`)).Digest).toBe(v2.manifestDigest);
  }, 120_000);

  it("pulls the pushed image back by tag and by digest, every blob verified and cached", async () => {
    const store = join(tmp, "store");
    const byTag = await pullImage(client, { repository: "skiff/hello", reference: "v1", storeDir: store, layoutTag: "pulled" });
    expect(byTag.digest).toBe(v1.manifestDigest);
    expect(byTag.manifest.digest).toBe(v1.manifestDigest);
    expect(byTag.config.digest).toBe(v1.configDigest);
    expect(byTag.layers.map((l) => l.digest)).toEqual(v1.layers.map((l) => l.digest));
    expect((byTag.configJson.rootfs as { diff_ids: string[] }).diff_ids).toEqual(v1.layers.map((l) => l.diffId));
    for (const digest of [v1.manifestDigest, v1.configDigest, ...v1.layers.map((l) => l.digest)]) {
      const pulled = await readFile(blobPath(store, digest));
      expect(sha256(pulled)).toBe(digest);
      expect(pulled.equals(await readFile(blobPath(layoutDir, digest)))).toBe(true);
    }
    expect(byTag.bytesDownloaded).toBe(v1.layers.reduce((n, l) => n + l.size, 0) + byTag.config.size);
    // With layoutTag the store is an OCI layout an independent reader accepts.
    expect((await skopeoInspectLayout(`${store}:pulled`)).Digest).toBe(v1.manifestDigest);

    const again = await pullImage(client, { repository: "skiff/hello", reference: v1.manifestDigest, storeDir: store });
    expect(again.digest).toBe(v1.manifestDigest);
    expect(again.bytesDownloaded).toBe(0);
  });

  it("uploads in chunks (PATCH with Content-Range, following Location) when forced to", async () => {
    counter.reset();
    const chunkSizeBytes = 64 * 1024;
    const result = await pushImageLayout(client, {
      layoutDir, layoutTag: "v1", repository: "skiff/chunked", tag: "v1", upload: { monolithicMaxBytes: 1024, chunkSizeBytes },
    });
    const assets = result.blobs.find((b) => b.digest === v1.layers[0]!.digest)!;
    expect(assets.action).toBe("uploaded");
    const patches = counter.seen.filter((r) => r.method === "PATCH");
    expect(patches.length).toBeGreaterThanOrEqual(Math.ceil(assets.size / chunkSizeBytes));
    expect(patches.every((p) => p.status === 202 && p.bytes <= chunkSizeBytes)).toBe(true);
    expect(result.bytesUploaded).toBe(result.blobs.reduce((n, b) => n + b.size, 0));
    expect((await skopeoInspect(`${registry.host}/skiff/chunked:v1`)).Digest).toBe(v1.manifestDigest);
    const pulled = await pullImage(client, { repository: "skiff/chunked", reference: "v1", storeDir: join(tmp, "store-chunked") });
    expect(pulled.bytesDownloaded).toBeGreaterThan(assets.size);
  });

  it("pushes an index of two platforms and pulls the entry for the platform asked for", async () => {
    const multi = join(tmp, "multi");
    const images = await writeTwoPlatformLayout(multi);
    const result = await pushImageLayout(client, { layoutDir: multi, layoutTag: "multi", repository: "skiff/multi", tag: "multi" });
    expect(result.mediaType).toBe(MEDIA_TYPES.index);
    const store = join(tmp, "store-multi");
    for (const arch of ["amd64", "arm64"] as const) {
      const pulled = await pullImage(client, { repository: "skiff/multi", reference: "multi", storeDir: store, platform: { os: "linux", architecture: arch } });
      expect(pulled.digest).toBe(result.manifestDigest);
      expect(pulled.index?.digest).toBe(result.manifestDigest);
      expect(pulled.manifest.digest).toBe(images[arch]);
      expect(pulled.configJson.architecture).toBe(arch);
    }
    await expect(pullImage(client, { repository: "skiff/multi", reference: "multi", storeDir: store, platform: { os: "linux", architecture: "s390x" } }))
      .rejects.toThrow(/no linux\/s390x image in the index \(it has linux\/amd64, linux\/arm64\)/);
  });

  it("pulls Docker schema 2 manifests and manifest lists", async () => {
    // Same blobs, Docker media types (as Docker Hub serves most images).
    const pushed = await pullImage(client, { repository: "skiff/hello", reference: "v1", storeDir: join(tmp, "store"), layers: false });
    const manifest = Buffer.from(canonicalJson({
      schemaVersion: 2, mediaType: MANIFEST_TYPES.dockerManifest,
      config: { mediaType: "application/vnd.docker.container.image.v1+json", digest: pushed.config.digest, size: pushed.config.size },
      layers: pushed.layers.map((l) => ({ mediaType: "application/vnd.docker.image.rootfs.diff.tar.gzip", digest: l.digest, size: l.size })),
    }));
    await client.putManifest("skiff/hello", "docker", manifest, MANIFEST_TYPES.dockerManifest);
    const list = Buffer.from(canonicalJson({
      schemaVersion: 2, mediaType: MANIFEST_TYPES.dockerList,
      manifests: [{ mediaType: MANIFEST_TYPES.dockerManifest, digest: sha256(manifest), size: manifest.length, platform: { os: "linux", architecture: pushed.configJson.architecture } }],
    }));
    await client.putManifest("skiff/hello", "docker-list", list, MANIFEST_TYPES.dockerList);
    const store = join(tmp, "store-docker");
    const single = await pullImage(client, { repository: "skiff/hello", reference: "docker", storeDir: store });
    expect(single.mediaType).toBe(MANIFEST_TYPES.dockerManifest);
    expect(single.digest).toBe(sha256(manifest));
    const fromList = await pullImage(client, { repository: "skiff/hello", reference: "docker-list", storeDir: store });
    expect(fromList.mediaType).toBe(MANIFEST_TYPES.dockerList);
    expect(fromList.manifest.digest).toBe(sha256(manifest));
    expect(fromList.bytesDownloaded).toBe(0);
  });

  it("fails clearly on a missing tag, repository and blob", async () => {
    const store = join(tmp, "store-missing");
    const missingTag = pullImage(client, { repository: "skiff/hello", reference: "nope", storeDir: store });
    await expect(missingTag).rejects.toBeInstanceOf(RegistryNotFoundError);
    await expect(missingTag).rejects.toThrow(`get manifest "nope" in ${registry.host}/skiff/hello: manifest not found (404 MANIFEST_UNKNOWN: manifest unknown)`);
    // distribution 2.8 answers MANIFEST_UNKNOWN (not NAME_UNKNOWN) for a repository it never saw.
    await expect(pullImage(client, { repository: "skiff/absent", reference: "v1", storeDir: store })).rejects.toThrow(`in ${registry.host}/skiff/absent: manifest not found (404`);
    const digest = `sha256:${"0".repeat(64)}`;
    const blob = client.fetchBlob("skiff/hello", digest);
    await expect(blob).rejects.toMatchObject({ name: "RegistryNotFoundError", digest, codes: ["BLOB_UNKNOWN"], repository: "skiff/hello" });
    await expect(blob).rejects.toThrow(`get blob ${digest} in ${registry.host}/skiff/hello: blob unknown to the registry (404 BLOB_UNKNOWN`);
  });

  it("refuses a manifest whose blobs were never pushed, naming the code", async () => {
    const orphan = Buffer.from(canonicalJson({ schemaVersion: 2, mediaType: MEDIA_TYPES.manifest, config: { mediaType: MEDIA_TYPES.config, digest: `sha256:${"1".repeat(64)}`, size: 2 }, layers: [] }));
    await expect(client.putManifest("skiff/hello", "orphan", orphan, MEDIA_TYPES.manifest)).rejects.toThrow(/MANIFEST_BLOB_UNKNOWN/);
  });
});

/** A layout tagged `multi` whose entry is an index of an amd64 and an arm64 image (tiny layers). */
async function writeTwoPlatformLayout(dir: string): Promise<Record<"amd64" | "arm64", string>> {
  const spec = { name: "multi", env: {} } as unknown as FunctionSpec;
  const digests = {} as Record<"amd64" | "arm64", string>;
  const entries = [];
  for (const architecture of ["amd64", "arm64"] as const) {
    const layer = makeLayer("bundle", [{ type: "file", path: "app/arch.txt", data: Buffer.from(architecture) }], 0);
    const image = makeImage({ spec, layers: [layer], revision: "test", inputsHash: "test", architecture, createdSec: 0 });
    await writeImageLayout(dir, image, architecture);
    digests[architecture] = image.manifestDescriptor.digest;
    entries.push(image.manifestDescriptor);
  }
  const index = Buffer.from(canonicalJson({ schemaVersion: 2, mediaType: MEDIA_TYPES.index, manifests: entries }));
  await writeFile(join(dir, "blobs", "sha256", sha256(index).slice(7)), index);
  const layoutIndex = JSON.parse(await readFile(join(dir, "index.json"), "utf8")) as { manifests: unknown[] };
  layoutIndex.manifests.push({ mediaType: MEDIA_TYPES.index, digest: sha256(index), size: index.length, annotations: { [REF_NAME]: "multi" } });
  await writeFile(join(dir, "index.json"), canonicalJson(layoutIndex));
  return digests;
}
