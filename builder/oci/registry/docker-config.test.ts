import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { dockerConfigCredentials, dockerConfigPath, findRegistryCredentials, normalizeRegistryHost, parseDockerConfig } from "./docker-config.ts";

const b64 = (s: string) => Buffer.from(s).toString("base64");

describe("normalizeRegistryHost", () => {
  it.each([
    ["https://index.docker.io/v1/", "docker.io"],
    ["index.docker.io", "docker.io"],
    ["registry-1.docker.io", "docker.io"],
    ["docker.io", "docker.io"],
    ["http://127.0.0.1:5000/v2/", "127.0.0.1:5000"],
    ["GHCR.io", "ghcr.io"],
    ["localhost:5000", "localhost:5000"],
  ])("%s -> %s", (key, host) => {
    expect(normalizeRegistryHost(key)).toBe(host);
  });
});

describe("findRegistryCredentials", () => {
  const find = (config: unknown, registry: string) => findRegistryCredentials(parseDockerConfig(JSON.stringify(config), "cfg.json"), registry, "cfg.json");

  it("decodes base64 auth (the password may hold colons) under any alias of the host", () => {
    expect(find({ auths: { "https://index.docker.io/v1/": { auth: b64("me:p:w") } } }, "docker.io")).toEqual({ kind: "basic", username: "me", password: "p:w" });
    expect(find({ auths: { "http://127.0.0.1:5000": { auth: b64("a:b") } } }, "127.0.0.1:5000")).toEqual({ kind: "basic", username: "a", password: "b" });
  });

  it("takes username and password fields", () => {
    expect(find({ auths: { "ghcr.io": { username: "u", password: "p" } } }, "ghcr.io")).toEqual({ kind: "basic", username: "u", password: "p" });
  });

  it("prefers an identity token (OAuth2 refresh token)", () => {
    expect(find({ auths: { "r.io": { auth: b64("<token>:"), identitytoken: "refresh" } } }, "r.io")).toEqual({ kind: "identity-token", token: "refresh", username: "<token>" });
  });

  it("reports credential helpers when no stored secret exists", () => {
    expect(find({ auths: { "r.io": {} }, credHelpers: { "r.io": "gcloud" }, credsStore: "desktop" }, "r.io")).toEqual({ kind: "helper", helper: "gcloud", field: "credHelpers" });
    expect(find({ auths: {}, credsStore: "desktop" }, "other.io")).toEqual({ kind: "helper", helper: "desktop", field: "credsStore" });
    // A stored secret wins: we can use it, the helper we cannot run.
    expect(find({ auths: { "r.io": { auth: b64("a:b") } }, credsStore: "desktop" }, "r.io")).toMatchObject({ kind: "basic" });
  });

  it("finds nothing for an unknown registry", () => {
    expect(find({ auths: { "a.io": { auth: b64("a:b") } } }, "b.io")).toEqual({ kind: "none" });
    expect(find({}, "b.io")).toEqual({ kind: "none" });
  });

  it("names the entry of a malformed auth, and the file of malformed JSON", () => {
    expect(() => find({ auths: { "r.io": { auth: b64("nocolon") } } }, "r.io")).toThrow('auths["r.io"] in cfg.json: "auth" is not base64 of user:password');
    expect(() => parseDockerConfig("{", "/home/x/.docker/config.json")).toThrow(/\/home\/x\/\.docker\/config\.json is not valid JSON/);
    expect(() => parseDockerConfig("[]", "c.json")).toThrow("c.json must hold a JSON object");
  });
});

describe("dockerConfigCredentials", () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "skiff-docker-config-"));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it("reads $DOCKER_CONFIG/config.json, else ~/.docker/config.json", async () => {
    expect(dockerConfigPath({ DOCKER_CONFIG: "/cfg" }, "/home/u")).toBe("/cfg/config.json");
    expect(dockerConfigPath({}, "/home/u")).toBe("/home/u/.docker/config.json");
    await writeFile(join(dir, "config.json"), JSON.stringify({ auths: { "r.io": { auth: b64("u:p") } } }));
    const lookup = await dockerConfigCredentials({ env: { DOCKER_CONFIG: dir } })("r.io");
    expect(lookup).toEqual({ credentials: { kind: "basic", username: "u", password: "p" }, source: join(dir, "config.json") });
  });

  it("treats an absent file as no credentials and says where it looked", async () => {
    const lookup = await dockerConfigCredentials({ env: {}, home: join(dir, "nohome") })("r.io");
    expect(lookup).toEqual({ credentials: { kind: "none" }, source: `${join(dir, "nohome", ".docker", "config.json")} (absent)` });
  });
});
