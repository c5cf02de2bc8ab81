import { describe, expect, it } from "vitest";
import { isLoopbackHost, registryBaseUrl } from "./endpoint.ts";

describe("registryBaseUrl", () => {
  it.each([
    ["127.0.0.1:5000", {}, "http://127.0.0.1:5000"],
    ["127.1.2.3", {}, "http://127.1.2.3"],
    ["localhost:5000", {}, "http://localhost:5000"],
    ["[::1]:5000", {}, "http://[::1]:5000"],
    ["ghcr.io", {}, "https://ghcr.io"],
    ["registry.lan:5000", {}, "https://registry.lan:5000"],
    ["registry.lan:5000", { insecure: true }, "http://registry.lan:5000"],
    ["docker.io", {}, "https://registry-1.docker.io"],
    ["128.0.0.1", {}, "https://128.0.0.1"],
  ])("%s %j -> %s", (registry, options, url) => {
    expect(registryBaseUrl(registry, options)).toBe(url);
  });

  it("does not take a host that merely starts with 127 or localhost as loopback", () => {
    expect(isLoopbackHost("127.0.0.1.evil.com")).toBe(false);
    expect(isLoopbackHost("localhost.evil.com")).toBe(false);
  });
});
