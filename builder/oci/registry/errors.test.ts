import { describe, expect, it } from "vitest";
import { makeResponseError, parseErrorBody, RegistryAuthError, RegistryError, RegistryNotFoundError } from "./errors.ts";

const body = (...errors: { code: string; message?: string }[]) => JSON.stringify({ errors });
const context = { registry: "r.io", repository: "team/app", operation: 'get manifest "v1"' };

describe("makeResponseError", () => {
  it.each([
    { status: 404, body: body({ code: "MANIFEST_UNKNOWN", message: "manifest unknown" }), type: RegistryNotFoundError, message: 'get manifest "v1" in r.io/team/app: manifest not found (404 MANIFEST_UNKNOWN: manifest unknown)' },
    { status: 404, body: body({ code: "BLOB_UNKNOWN", message: "blob unknown to registry" }), type: RegistryNotFoundError, message: 'get manifest "v1" in r.io/team/app: blob unknown to the registry (404 BLOB_UNKNOWN: blob unknown to registry)' },
    { status: 404, body: body({ code: "NAME_UNKNOWN" }), type: RegistryNotFoundError, message: 'get manifest "v1" in r.io/team/app: repository not found (404 NAME_UNKNOWN)' },
    { status: 400, body: body({ code: "MANIFEST_BLOB_UNKNOWN", message: "blob unknown to registry" }), type: RegistryNotFoundError, message: /the manifest references a blob the registry does not have \(400 MANIFEST_BLOB_UNKNOWN/ },
    { status: 401, body: body({ code: "UNAUTHORIZED", message: "authentication required" }), type: RegistryAuthError, message: 'get manifest "v1" in r.io/team/app: authentication required (401 UNAUTHORIZED: authentication required)' },
    { status: 403, body: body({ code: "DENIED", message: "requested access to the resource is denied" }), type: RegistryAuthError, message: /access denied \(403 DENIED: requested access/ },
    { status: 400, body: body({ code: "DIGEST_INVALID" }), type: RegistryError, message: /does not match its digest \(400 DIGEST_INVALID\)/ },
    { status: 429, body: body({ code: "TOOMANYREQUESTS", message: "slow down" }), type: RegistryError, message: /rate limited by the registry \(429 TOOMANYREQUESTS: slow down\)/ },
    { status: 502, body: "<html><body><h1>502 Bad Gateway</h1></body></html>", type: RegistryError, message: 'get manifest "v1" in r.io/team/app: registry failure (502 502 Bad Gateway)' },
    { status: 404, body: "", type: RegistryNotFoundError, message: 'get manifest "v1" in r.io/team/app: not found (404)' },
  ])("$status $body", ({ status, body, type, message }) => {
    const error = makeResponseError({ status, body }, context);
    expect(error).toBeInstanceOf(type);
    expect(error.status).toBe(status);
    expect(error.registry).toBe("r.io");
    expect(error.repository).toBe("team/app");
    if (typeof message === "string") expect(error.message).toBe(message);
    else expect(error.message).toMatch(message);
  });

  it("keeps every code and appends the hint", () => {
    const error = makeResponseError({ status: 401, body: body({ code: "UNAUTHORIZED" }, { code: "DENIED" }) }, { ...context, digest: "sha256:x" }, "log in");
    expect(error.codes).toEqual(["UNAUTHORIZED", "DENIED"]);
    expect(error.digest).toBe("sha256:x");
    expect(error.message).toMatch(/\(401 UNAUTHORIZED; DENIED\); log in$/);
  });
});

describe("parseErrorBody", () => {
  it("reads the spec's shape and ignores anything else", () => {
    expect(parseErrorBody(body({ code: "X", message: "m" }))).toEqual([{ code: "X", message: "m" }]);
    expect(parseErrorBody('{"errors":[{"message":"no code"}, 3]}')).toEqual([]);
    expect(parseErrorBody("not json")).toEqual([]);
  });
});
