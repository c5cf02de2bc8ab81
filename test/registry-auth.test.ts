// Registry auth against a real docker-registry: htpasswd (Basic) and token auth (Bearer, with
// an in-test token server whose JWTs the registry verifies). Credentials come from a temp
// DOCKER_CONFIG, as `docker login` would have written them.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import type { ImageLayoutResult } from "../builder/oci/build-image.ts";
import { dockerConfigCredentials, pullImage, pushImageLayout, pushImageToReference, RegistryAuthError, RegistryClient } from "../builder/oci/registry/index.ts";
import { basicAuthConfig, buildLayout, dockerConfigEnv, makeFixture, registryTools, skopeoInspect, startRegistry, type TestRegistry } from "./harness/registry.ts";
import { describeWithTools } from "./harness/tools.ts";

let tmp: string;
let built: Promise<{ layoutDir: string; image: ImageLayoutResult }> | undefined;

/** The fixture's layout, built once for both suites. */
function layout(): Promise<{ layoutDir: string; image: ImageLayoutResult }> {
  built ??= (async () => {
    const layoutDir = join(tmp, "layout");
    return { layoutDir, image: await buildLayout(await makeFixture(tmp), layoutDir, "skiff/hello:v1") };
  })();
  return built;
}

beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), "skiff-registry-auth-"));
});
afterAll(() => rm(tmp, { recursive: true, force: true }));

/** A client whose credentials come from a temp DOCKER_CONFIG holding `config`. */
async function clientWith(registry: TestRegistry, config: unknown): Promise<RegistryClient> {
  return new RegistryClient({ registry: registry.host, credentials: dockerConfigCredentials({ env: await dockerConfigEnv(tmp, config) }) });
}

describeWithTools("registry client with htpasswd (Basic auth)", [...registryTools("htpasswd"), "skopeo"], () => {
  let registry: TestRegistry;
  beforeAll(async () => {
    registry = await startRegistry({ kind: "htpasswd", users: { alice: "s3cret:with-colon" } });
  }, 60_000);
  afterAll(() => registry?.stop());

  it("fails without credentials with a 401 naming the registry and how to log in", async () => {
    const { layoutDir } = await layout();
    const client = await clientWith(registry, {});
    const push = pushImageLayout(client, { layoutDir, repository: "skiff/hello", tag: "v1" });
    await expect(push).rejects.toBeInstanceOf(RegistryAuthError);
    await expect(push).rejects.toThrow(new RegExp(`in ${registry.host}/skiff/hello: authentication required \\(401.*\\); no credentials for ${registry.host} in .*config\\.json: run "docker login ${registry.host}"`));
  }, 120_000);

  it("pushes and pulls with credentials from DOCKER_CONFIG", async () => {
    const { layoutDir, image } = await layout();
    const client = await clientWith(registry, basicAuthConfig(`http://${registry.host}`, "alice", "s3cret:with-colon"));
    const pushed = await pushImageLayout(client, { layoutDir, repository: "skiff/hello", tag: "v1" });
    expect(pushed.manifestDigest).toBe(image.manifestDigest);
    expect((await skopeoInspect(`${registry.host}/skiff/hello:v1`, "alice:s3cret:with-colon")).Digest).toBe(image.manifestDigest);
    const pulled = await pullImage(client, { repository: "skiff/hello", reference: image.manifestDigest, storeDir: join(tmp, "store-basic") });
    expect(pulled.config.digest).toBe(image.configDigest);
  }, 120_000);

  it("says the registry rejected the user on a wrong password", async () => {
    const client = await clientWith(registry, { auths: { [registry.host]: { username: "alice", password: "wrong" } } });
    const pull = pullImage(client, { repository: "skiff/hello", reference: "v1", storeDir: join(tmp, "store-wrong") });
    await expect(pull).rejects.toMatchObject({ name: "RegistryAuthError", status: 401, registry: registry.host, codes: ["UNAUTHORIZED"] });
    await expect(pull).rejects.toThrow(/; the registry rejected user "alice" \(credentials from .*config\.json\): check the username and password$/);
  });

  it("names an unsupported credential helper instead of saying there are no credentials", async () => {
    const client = await clientWith(registry, { auths: { [registry.host]: {} }, credHelpers: { [registry.host]: "pass" } });
    await expect(pullImage(client, { repository: "skiff/hello", reference: "v1", storeDir: join(tmp, "store-helper") }))
      .rejects.toThrow(/names credential helper "pass" \(credHelpers\) for 127\.0\.0\.1:\d+, and credential helpers are not supported/);
  });
});

describeWithTools("registry client with token auth (Bearer)", [...registryTools("token"), "skopeo"], () => {
  let registry: TestRegistry;
  beforeAll(async () => {
    registry = await startRegistry({
      kind: "token",
      users: { bob: "pw" },
      // bob may push anywhere but readonly/*; anonymous gets nothing.
      grant: (subject, repository, actions) => (subject === undefined ? [] : repository.startsWith("readonly/") ? actions.filter((a) => a === "pull") : actions),
    });
  }, 60_000);
  afterAll(() => registry?.stop());

  it("pushes, mounts and pulls with tokens fetched per scope and reused", async () => {
    const { layoutDir, image } = await layout();
    const client = await clientWith(registry, basicAuthConfig(registry.host, "bob", "pw"));
    const pushed = await pushImageLayout(client, { layoutDir, repository: "skiff/hello", tag: "v1" });
    expect(pushed.manifestDigest).toBe(image.manifestDigest);
    // One token for the whole push: every request shared the pull,push scope.
    expect(registry.tokenRequests).toEqual([{ subject: "bob", scopes: ["repository:skiff/hello:pull,push"], status: 200 }]);

    const mounted = await pushImageLayout(client, { layoutDir, repository: "skiff/copy", tag: "v1", mountFrom: "skiff/hello" });
    expect(mounted.blobs.map((b) => b.action)).toEqual(["mounted", "mounted", "mounted"]);
    expect(registry.tokenRequests.map((r) => r.scopes)).toContainEqual(["repository:skiff/copy:pull,push", "repository:skiff/hello:pull"]);

    const pulled = await pullImage(client, { repository: "skiff/copy", reference: "v1", storeDir: join(tmp, "store-token") });
    expect(pulled.digest).toBe(image.manifestDigest);
  }, 120_000);

  it("pushes by reference string (the CLI's entry point)", async () => {
    const { layoutDir, image } = await layout();
    const env = await dockerConfigEnv(tmp, basicAuthConfig(registry.host, "bob", "pw"));
    const result = await pushImageToReference(`${registry.host}/skiff/by-ref:v9`, { layoutDir, credentials: dockerConfigCredentials({ env }) });
    expect(result.reference).toBe(`${registry.host}/skiff/by-ref:v9@${image.manifestDigest}`);
    expect(result.target).toEqual({ registry: registry.host, repository: "skiff/by-ref", tag: "v9" });
  }, 120_000);

  it("fails without credentials: the anonymous token grants nothing", async () => {
    const client = await clientWith(registry, {});
    await expect(pullImage(client, { repository: "skiff/hello", reference: "v1", storeDir: join(tmp, "store-anon") }))
      .rejects.toThrow(new RegExp(`in ${registry.host}/skiff/hello: authentication required \\(401 UNAUTHORIZED.*; no credentials for ${registry.host}`));
  });

  it("names the token server when it rejects the password", async () => {
    const client = await clientWith(registry, basicAuthConfig(registry.host, "bob", "nope"));
    const pull = pullImage(client, { repository: "skiff/hello", reference: "v1", storeDir: join(tmp, "store-bad") });
    await expect(pull).rejects.toBeInstanceOf(RegistryAuthError);
    await expect(pull).rejects.toThrow(/get a token for "repository:skiff\/hello:pull" from http:\/\/127\.0\.0\.1:\d+\/token in 127\.0\.0\.1:\d+: authentication required \(401 .*\); the registry rejected user "bob"/);
  });

  it("says the token does not grant push on a read-only repository", async () => {
    const { layoutDir } = await layout();
    const client = await clientWith(registry, basicAuthConfig(registry.host, "bob", "pw"));
    await expect(pushImageLayout(client, { layoutDir, repository: "readonly/hello", tag: "v1" }))
      .rejects.toThrow(/in 127\.0\.0\.1:\d+\/readonly\/hello: authentication required \(401 .*\); the token for user "bob" .* does not grant "repository:readonly\/hello:pull,push"/);
  });
});
