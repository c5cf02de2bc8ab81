import { describe, expect, it } from "vitest";
import { manifestReference, parseImageReference, parsePullReference } from "./reference.ts";

describe("parseImageReference", () => {
  it.each([
    { ref: "hello", want: { registry: "docker.io", repository: "library/hello", tag: "latest" } },
    { ref: "hello:v1", want: { registry: "docker.io", repository: "library/hello", tag: "v1" } },
    { ref: "team/hello:1.2.3", want: { registry: "docker.io", repository: "team/hello", tag: "1.2.3" } },
    { ref: "localhost/hello", want: { registry: "localhost", repository: "hello", tag: "latest" } },
    { ref: "127.0.0.1:5000/a/b-c_d:x", want: { registry: "127.0.0.1:5000", repository: "a/b-c_d", tag: "x" } },
    { ref: "ghcr.io/org/fn:sha-abc", want: { registry: "ghcr.io", repository: "org/fn", tag: "sha-abc" } },
  ])("$ref", ({ ref, want }) => {
    expect(parseImageReference(ref)).toEqual(want);
  });

  it.each([
    { ref: "", error: /repository part ""/ },
    { ref: "Hello", error: /lowercase/ },
    { ref: "hello:", error: /tag ""/ },
    { ref: "hello:-x", error: /tag "-x"/ },
    { ref: "hello@sha256:abc", error: /digest cannot be chosen/ },
    { ref: "a//b", error: /repository part ""/ },
    { ref: "reg.io:port/x", error: /registry host/ },
  ])("rejects $ref", ({ ref, error }) => {
    expect(() => parseImageReference(ref)).toThrow(error);
  });
});

describe("parsePullReference", () => {
  const digest = `sha256:${"a".repeat(64)}`;

  it.each([
    { ref: "node:20", want: { registry: "docker.io", repository: "library/node", tag: "20" } },
    { ref: `node@${digest}`, want: { registry: "docker.io", repository: "library/node", tag: "latest", digest } },
    { ref: `127.0.0.1:5000/base:v1@${digest}`, want: { registry: "127.0.0.1:5000", repository: "base", tag: "v1", digest } },
  ])("$ref", ({ ref, want }) => {
    expect(parsePullReference(ref)).toEqual(want);
    expect(manifestReference(parsePullReference(ref))).toBe(want.digest ?? want.tag);
  });

  it.each([`node@sha256:abc`, `node@md5:${"a".repeat(32)}`, `Node@${digest}`])("rejects %s", (ref) => {
    expect(() => parsePullReference(ref)).toThrow(/invalid image reference/);
  });
});
