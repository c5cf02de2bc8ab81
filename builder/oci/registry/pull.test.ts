// pullImage over a scripted registry: digests checked at every step, platform chosen from an
// index, the store reused, and the store recorded as an OCI layout.
import { createHash } from "node:crypto";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RegistryClient } from "./client.ts";
import { staticCredentials } from "./docker-config.ts";
import { DigestMismatchError } from "./errors.ts";
import { fakeFetch, json } from "./fake-fetch.test-support.ts";
import { MANIFEST_TYPES } from "./media-types.ts";
import { pullImage } from "./pull.ts";

const sha = (b: Buffer) => `sha256:${createHash("sha256").update(b).digest("hex")}`;
const desc = (mediaType: string, b: Buffer, extra: object = {}) => ({ mediaType, digest: sha(b), size: b.length, ...extra });

/** A tiny image per architecture, a Docker manifest list over both, served by a fake registry. */
function makeRepo() {
  const blobs = new Map<string, Buffer>();
  const manifests = new Map<string, { type: string; bytes: Buffer }>();
  const put = (b: Buffer) => (blobs.set(sha(b), b), b);
  const images: Record<string, { manifest: Buffer; layer: Buffer }> = {};
  const entries = [];
  for (const architecture of ["amd64", "arm64"]) {
    const layer = put(Buffer.from(`layer-${architecture}`));
    const config = put(Buffer.from(JSON.stringify({ architecture, os: "linux", rootfs: { type: "layers", diff_ids: [sha(layer)] } })));
    const manifest = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: MANIFEST_TYPES.dockerManifest, config: desc("application/vnd.docker.container.image.v1+json", config), layers: [desc("application/vnd.docker.image.rootfs.diff.tar.gzip", layer)] }));
    manifests.set(sha(manifest), { type: MANIFEST_TYPES.dockerManifest, bytes: manifest });
    images[architecture] = { manifest, layer };
    entries.push(desc(MANIFEST_TYPES.dockerManifest, manifest, { platform: { os: "linux", architecture, ...(architecture === "arm64" ? { variant: "v8" } : {}) } }));
  }
  const list = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: MANIFEST_TYPES.dockerList, manifests: entries }));
  manifests.set("latest", { type: MANIFEST_TYPES.dockerList, bytes: list });
  manifests.set("single", { type: MANIFEST_TYPES.dockerManifest, bytes: images.amd64!.manifest });
  const tamper = { blob: undefined as string | undefined, headerDigest: undefined as string | undefined };
  const fake = fakeFetch((req) => {
    const [, , , kind, ref] = req.url.pathname.split("/"); // /v2/app/<kind>/<ref>
    if (kind === "manifests") {
      const m = manifests.get(ref!);
      if (!m) return json(404, { errors: [{ code: "MANIFEST_UNKNOWN", message: "manifest unknown" }] });
      return new Response(new Uint8Array(m.bytes), { headers: { "content-type": m.type, "docker-content-digest": tamper.headerDigest ?? sha(m.bytes) } });
    }
    const b = blobs.get(ref!);
    if (!b) return json(404, { errors: [{ code: "BLOB_UNKNOWN" }] });
    return new Response(new Uint8Array(ref === tamper.blob ? Buffer.from("evil!") : b));
  });
  return { fake, images, list, tamper, manifests, client: new RegistryClient({ registry: "r.io", fetch: fake.fetch, credentials: staticCredentials({ kind: "none" }) }) };
}

describe("pullImage", () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "skiff-pull-"));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it("chooses the platform's manifest from a Docker manifest list and stores every blob", async () => {
    const repo = makeRepo();
    const store = join(dir, "a");
    const pulled = await pullImage(repo.client, { repository: "app", reference: "latest", storeDir: store, platform: { os: "linux", architecture: "arm64" }, layoutTag: "base" });
    expect(pulled.digest).toBe(sha(repo.list));
    expect(pulled.mediaType).toBe(MANIFEST_TYPES.dockerList);
    expect(pulled.manifest.digest).toBe(sha(repo.images.arm64!.manifest));
    expect(pulled.configJson.architecture).toBe("arm64");
    expect(await readFile(join(store, "blobs", "sha256", sha(repo.images.arm64!.layer).slice(7)), "utf8")).toBe("layer-arm64");
    // The store is now an OCI layout with the pulled image under "base".
    const index = JSON.parse(await readFile(join(store, "index.json"), "utf8")) as { manifests: { digest: string; annotations: Record<string, string>; platform: object }[] };
    expect(index.manifests).toEqual([expect.objectContaining({ digest: pulled.manifest.digest, annotations: { "org.opencontainers.image.ref.name": "base" }, platform: { os: "linux", architecture: "arm64" } })]);

    const again = await pullImage(repo.client, { repository: "app", reference: "latest", storeDir: store, platform: { os: "linux", architecture: "arm64" } });
    expect(again.bytesDownloaded).toBe(0);
    expect(repo.fake.requests.filter((r) => r.url.pathname.includes("/blobs/"))).toHaveLength(2); // config + layer, once
  });

  it("stops after the config when layers are not wanted", async () => {
    const repo = makeRepo();
    const pulled = await pullImage(repo.client, { repository: "app", reference: "single", storeDir: join(dir, "b"), platform: { os: "linux", architecture: "amd64" }, layers: false });
    expect(pulled.layers).toHaveLength(1);
    expect(repo.fake.requests.filter((r) => r.url.pathname.includes("/blobs/"))).toHaveLength(1);
  });

  it("refuses a single-platform image of another architecture", async () => {
    const repo = makeRepo();
    await expect(pullImage(repo.client, { repository: "app", reference: "single", storeDir: join(dir, "c"), platform: { os: "linux", architecture: "arm64" } }))
      .rejects.toThrow('pull "single" in r.io/app: the image is linux/amd64 only, not linux/arm64');
  });

  it("detects a tampered layer, a wrong pinned digest and a lying Docker-Content-Digest", async () => {
    const repo = makeRepo();
    repo.tamper.blob = sha(repo.images.amd64!.layer);
    const tampered = pullImage(repo.client, { repository: "app", reference: "latest", storeDir: join(dir, "d"), platform: { os: "linux", architecture: "amd64" } });
    await expect(tampered).rejects.toBeInstanceOf(DigestMismatchError);
    await expect(tampered).rejects.toThrow(`get blob ${repo.tamper.blob} in r.io/app: the registry sent 5 bytes, not the 11 its descriptor says for ${repo.tamper.blob}`);

    // A registry answering a digest request with other bytes.
    const pinned = `sha256:${"d".repeat(64)}`;
    repo.manifests.set(pinned, { type: MANIFEST_TYPES.dockerList, bytes: repo.list });
    await expect(pullImage(repo.client, { repository: "app", reference: pinned, storeDir: join(dir, "e") }))
      .rejects.toThrow(`get manifest ${pinned} in r.io/app: the registry sent content hashing to ${sha(repo.list)}`);

    repo.tamper.headerDigest = pinned;
    await expect(pullImage(repo.client, { repository: "app", reference: "single", storeDir: join(dir, "f"), platform: { os: "linux", architecture: "amd64" } }))
      .rejects.toThrow(`Docker-Content-Digest says ${pinned} but the content hashes to`);
  });
});
