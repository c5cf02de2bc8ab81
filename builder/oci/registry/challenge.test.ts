import { describe, expect, it } from "vitest";
import { parseWwwAuthenticate } from "./challenge.ts";

describe("parseWwwAuthenticate", () => {
  it.each([
    { header: 'Basic realm="Registry Realm"', want: [{ scheme: "basic", params: { realm: "Registry Realm" } }] },
    {
      header: 'Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/node:pull"',
      want: [{ scheme: "bearer", params: { realm: "https://auth.docker.io/token", service: "registry.docker.io", scope: "repository:library/node:pull" } }],
    },
    {
      header: 'Bearer realm="https://r/token", service="r", scope="repository:a:pull,push repository:b:pull", error="insufficient_scope"',
      want: [{ scheme: "bearer", params: { realm: "https://r/token", service: "r", scope: "repository:a:pull,push repository:b:pull", error: "insufficient_scope" } }],
    },
    {
      header: 'Basic realm="a", Bearer realm="https://t", service=reg',
      want: [{ scheme: "basic", params: { realm: "a" } }, { scheme: "bearer", params: { realm: "https://t", service: "reg" } }],
    },
    { header: 'BEARER Realm="x\\"y"', want: [{ scheme: "bearer", params: { realm: 'x"y' } }] },
    { header: 'Basic realm="unclosed', want: [{ scheme: "basic", params: { realm: "unclosed" } }] },
    { header: "Negotiate", want: [{ scheme: "negotiate", params: {} }] },
    { header: "", want: [] },
    { header: ' , ,Basic  realm = "spaced" ', want: [{ scheme: "basic", params: { realm: "spaced" } }] },
  ])("$header", ({ header, want }) => {
    expect(parseWwwAuthenticate(header)).toEqual(want);
  });
});
