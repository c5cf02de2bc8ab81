import { describe, expect, it } from "vitest";
import { classifyManifest, MANIFEST_ACCEPT, MANIFEST_TYPES, parseImageManifest, parseIndex } from "./media-types.ts";

const digest = `sha256:${"b".repeat(64)}`;

describe("classifyManifest", () => {
  it.each([
    [MANIFEST_TYPES.ociIndex, {}, "index"],
    [MANIFEST_TYPES.dockerList, {}, "index"],
    [MANIFEST_TYPES.ociManifest, {}, "manifest"],
    [`${MANIFEST_TYPES.dockerManifest}; charset=utf-8`, {}, "manifest"],
    // Old registries answer application/json: the document's own mediaType decides.
    ["application/json", { mediaType: MANIFEST_TYPES.dockerList }, "index"],
    // OCI allows no mediaType at all: the shape decides.
    [null, { manifests: [] }, "index"],
    ["text/plain", { config: {}, layers: [] }, "manifest"],
  ] as const)("%s %j -> %s", (contentType, doc, kind) => {
    expect(classifyManifest(contentType, doc).kind).toBe(kind);
  });

  it("keeps the served media type (a re-push must send the same one)", () => {
    expect(classifyManifest(MANIFEST_TYPES.dockerManifest, {}).mediaType).toBe(MANIFEST_TYPES.dockerManifest);
  });

  it("refuses schema 1 and unknown types", () => {
    expect(() => classifyManifest("application/vnd.docker.distribution.manifest.v1+prettyjws", {})).toThrow(/schema 1 manifests .* are not supported/);
    expect(() => classifyManifest("application/x-whatever", {})).toThrow('unsupported manifest media type "application/x-whatever"');
  });

  it("accepts every type in one Accept header, OCI included (distribution 404s OCI images otherwise)", () => {
    for (const type of Object.values(MANIFEST_TYPES)) expect(MANIFEST_ACCEPT).toContain(type);
  });
});

describe("parseImageManifest and parseIndex", () => {
  it("returns config and layer descriptors", () => {
    const layer = { mediaType: "application/vnd.oci.image.layer.v1.tar+gzip", digest, size: 10 };
    expect(parseImageManifest({ config: { mediaType: "c", digest, size: 2 }, layers: [layer] })).toEqual({ config: { mediaType: "c", digest, size: 2 }, layers: [layer] });
    expect(parseIndex({ manifests: [{ digest, size: 3, platform: { os: "linux", architecture: "amd64" } }] })[0]).toMatchObject({ digest, mediaType: "" });
  });

  it("refuses malformed descriptors, naming which", () => {
    expect(() => parseImageManifest({ config: { digest: "sha256:short", size: 1 }, layers: [] })).toThrow("the manifest's config is not a descriptor");
    expect(() => parseImageManifest({ config: { digest, size: 1 }, layers: [{ digest, size: -1 }] })).toThrow("layer 0 of the manifest");
    expect(() => parseIndex({})).toThrow("index has no manifests list");
  });
});
