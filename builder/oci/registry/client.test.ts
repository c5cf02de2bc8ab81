// RegistryClient and its auth over a scripted fetch: challenges, token caching per scope and
// expiry, retry-once with the body reopened, redirects that drop Authorization off-host.
import { describe, expect, it } from "vitest";
import { bytesBody, parseRangeEnd, RegistryClient, type BodySource } from "./client.ts";
import { staticCredentials, type RegistryCredentials } from "./docker-config.ts";
import { RegistryAuthError } from "./errors.ts";
import { challenge, fakeFetch, json, type FakeRequest } from "./fake-fetch.test-support.ts";

const digest = `sha256:${"c".repeat(64)}`;
const basic = (user: string, password: string) => `Basic ${Buffer.from(`${user}:${password}`).toString("base64")}`;
const creds = (c: RegistryCredentials) => staticCredentials(c, "test-config.json");
const BEARER = 'Bearer realm="https://auth.r.io/token",service="r.io"';

/** A registry that wants a Bearer token `tok-N` (N = how many the token server issued). */
function bearerRegistry(options: { lifetimeSec?: number } = {}) {
  let issued = 0;
  const valid = new Set<string>();
  const fake = fakeFetch((req) => {
    if (req.url.host === "auth.r.io") {
      const token = `tok-${++issued}`;
      valid.add(`Bearer ${token}`);
      return json(200, { token, expires_in: options.lifetimeSec ?? 300 });
    }
    if (!valid.has(req.headers.get("authorization") ?? "")) return challenge(`${BEARER},scope="repository:app:pull"`);
    return new Response(null, { status: 200 });
  });
  return { ...fake, tokenRequests: () => fake.requests.filter((r) => r.url.host === "auth.r.io"), expire: () => valid.clear() };
}

describe("RegistryClient auth", () => {
  it("sends nothing to an anonymous registry", async () => {
    const fake = fakeFetch(() => new Response(null, { status: 200 }));
    const client = new RegistryClient({ registry: "r.io", fetch: fake.fetch, credentials: creds({ kind: "basic", username: "u", password: "p" }) });
    expect(await client.hasBlob("app", digest)).toBe(true);
    expect(fake.requests.map((r) => [r.method, r.url.href, r.headers.get("authorization")])).toEqual([["HEAD", `https://r.io/v2/app/blobs/${digest}`, null]]);
  });

  it("answers a Basic challenge once, then sends Basic up front", async () => {
    const fake = fakeFetch((req) => (req.headers.get("authorization") === basic("u", "p") ? new Response(null, { status: 404 }) : challenge('Basic realm="r"')));
    const client = new RegistryClient({ registry: "r.io", fetch: fake.fetch, credentials: creds({ kind: "basic", username: "u", password: "p" }) });
    expect(await client.hasBlob("app", digest)).toBe(false);
    expect(await client.hasBlob("app", digest)).toBe(false);
    expect(fake.requests.map((r) => r.headers.get("authorization"))).toEqual([null, basic("u", "p"), basic("u", "p")]);
  });

  it("gets a Bearer token for the request's scope with Basic credentials, and caches it", async () => {
    const registry = bearerRegistry();
    const client = new RegistryClient({ registry: "r.io", fetch: registry.fetch, credentials: creds({ kind: "basic", username: "u", password: "p" }) });
    await client.hasBlob("app", digest, ["pull", "push"]);
    await client.hasBlob("app", digest, ["pull", "push"]);
    const [token] = registry.tokenRequests();
    expect(registry.tokenRequests()).toHaveLength(1);
    expect(token!.url.searchParams.get("service")).toBe("r.io");
    // The challenge's pull scope is covered by pull,push and not asked for again.
    expect(token!.url.searchParams.getAll("scope")).toEqual(["repository:app:pull,push"]);
    expect(token!.headers.get("authorization")).toBe(basic("u", "p"));
    expect(registry.requests.at(-1)!.headers.get("authorization")).toBe("Bearer tok-1");
  });

  it("keeps one token per scope set, and one fetch when requests race on the first challenge", async () => {
    const registry = bearerRegistry();
    const client = new RegistryClient({ registry: "r.io", fetch: registry.fetch, credentials: creds({ kind: "none" }) });
    await Promise.all([1, 2, 3].map(() => client.hasBlob("app", digest)));
    expect(registry.tokenRequests()).toHaveLength(1);
    expect(registry.tokenRequests()[0]!.headers.get("authorization")).toBeNull(); // anonymous token
    await client.hasBlob("other", digest);
    expect(registry.tokenRequests().map((r) => r.url.searchParams.getAll("scope"))).toEqual([["repository:app:pull"], ["repository:other:pull"]]);
  });

  it("renews a token after it expires (injected clock) and after the registry refuses it", async () => {
    let nowMs = 1_000_000;
    const registry = bearerRegistry({ lifetimeSec: 60 });
    const client = new RegistryClient({ registry: "r.io", fetch: registry.fetch, credentials: creds({ kind: "none" }), now: () => nowMs });
    await client.hasBlob("app", digest);
    nowMs += 55_000; // inside the 10 s renewal margin of a 60 s token
    await client.hasBlob("app", digest);
    expect(registry.tokenRequests()).toHaveLength(2);
    registry.expire(); // the registry stops accepting tok-2 early
    await client.hasBlob("app", digest);
    expect(registry.tokenRequests()).toHaveLength(3);
  });

  it("asks for the wider scope an insufficient_scope challenge names", async () => {
    const fake = fakeFetch((req) => {
      if (req.url.host === "auth.r.io") return json(200, { access_token: `t-${req.url.searchParams.getAll("scope").join("+")}` });
      if (req.headers.get("authorization") === "Bearer t-repository:app:pull,push+repository:base:pull") return new Response(null, { status: 201 });
      return challenge(`${BEARER},scope="repository:app:pull,push repository:base:pull",error="insufficient_scope"`);
    });
    const client = new RegistryClient({ registry: "r.io", fetch: fake.fetch, credentials: creds({ kind: "none" }) });
    expect(await client.startUpload("app", { digest, from: "base" })).toEqual({ mounted: true });
  });

  it("POSTs an identity token as an OAuth2 refresh token", async () => {
    const fake = fakeFetch((req) => {
      if (req.url.host === "auth.r.io") return json(200, { access_token: "from-refresh" });
      return req.headers.get("authorization") === "Bearer from-refresh" ? new Response(null, { status: 200 }) : challenge(BEARER);
    });
    const client = new RegistryClient({ registry: "r.io", fetch: fake.fetch, credentials: creds({ kind: "identity-token", token: "refresh-me" }) });
    await client.hasBlob("app", digest);
    const token = fake.requests.find((r) => r.url.host === "auth.r.io")!;
    expect(token.method).toBe("POST");
    expect(Object.fromEntries(new URLSearchParams(token.body))).toEqual({ grant_type: "refresh_token", refresh_token: "refresh-me", client_id: "skiff", scope: "repository:app:pull", service: "r.io" });
  });

  it("retries a 401 once, reopening the body, then reports the rejected user", async () => {
    let opened = 0;
    const body: BodySource = { length: 2, open: () => (opened++, { body: new Uint8Array([1, 2]), close: () => {} }) };
    const fake = fakeFetch(() => challenge('Basic realm="r"'));
    const client = new RegistryClient({ registry: "r.io", fetch: fake.fetch, credentials: creds({ kind: "basic", username: "ann", password: "bad" }) });
    const put = client.completeUpload("app", new URL("https://r.io/v2/app/blobs/uploads/x?_state=s"), digest, body);
    await expect(put).rejects.toBeInstanceOf(RegistryAuthError);
    await expect(put).rejects.toThrow(`upload blob ${digest} in r.io/app: authentication required (401 UNAUTHORIZED: authentication required); the registry rejected user "ann" (credentials from test-config.json): check the username and password`);
    expect(fake.requests.filter((r) => r.method === "PUT")).toHaveLength(2); // the first attempt and one retry
    expect(opened).toBe(2);
    expect(fake.requests[0]!.url.searchParams.get("_state")).toBe("s");
    expect(fake.requests[0]!.url.searchParams.get("digest")).toBe(digest);
  });

  it("refuses to send credentials to a plain-http token server off loopback", async () => {
    const fake = fakeFetch(() => challenge('Bearer realm="http://auth.r.io/token"'));
    const client = new RegistryClient({ registry: "r.io", fetch: fake.fetch, credentials: creds({ kind: "basic", username: "u", password: "p" }) });
    await expect(client.hasBlob("app", digest)).rejects.toThrow("refusing to send credentials for r.io to plain-http token server http://auth.r.io");
    expect(fake.requests.some((r) => r.url.host === "auth.r.io")).toBe(false);
  });

  it("says a helper is not supported when the registry needs credentials", async () => {
    const fake = fakeFetch(() => challenge('Basic realm="r"'));
    const client = new RegistryClient({ registry: "r.io", fetch: fake.fetch, credentials: creds({ kind: "helper", helper: "desktop", field: "credsStore" }) });
    await expect(client.hasBlob("app", digest)).rejects.toThrow('test-config.json names credential helper "desktop" (credsStore) for r.io, and credential helpers are not supported');
  });
});

describe("RegistryClient transport", () => {
  it("follows a blob redirect to another host without the registry's Authorization", async () => {
    const fake = fakeFetch((req: FakeRequest) => {
      if (req.url.host === "cdn.example") return new Response("blob", { status: 200 });
      if (req.headers.get("authorization") !== basic("u", "p")) return challenge('Basic realm="r"');
      return new Response(null, { status: 307, headers: { location: "https://cdn.example/signed?x=1" } });
    });
    const client = new RegistryClient({ registry: "r.io", fetch: fake.fetch, credentials: creds({ kind: "basic", username: "u", password: "p" }) });
    expect(await (await client.fetchBlob("app", digest)).text()).toBe("blob");
    const cdn = fake.requests.at(-1)!;
    expect(cdn.url.href).toBe("https://cdn.example/signed?x=1");
    expect(cdn.headers.get("authorization")).toBeNull();
    expect(cdn.headers.get("accept-encoding")).toBe("identity");
  });

  it("resolves a relative upload Location against the request", async () => {
    const fake = fakeFetch(() => new Response(null, { status: 202, headers: { location: "/v2/app/blobs/uploads/u1?_state=abc" } }));
    const client = new RegistryClient({ registry: "127.0.0.1:5000", fetch: fake.fetch, credentials: creds({ kind: "none" }) });
    const start = await client.startUpload("app");
    expect(start).toEqual({ mounted: false, location: new URL("http://127.0.0.1:5000/v2/app/blobs/uploads/u1?_state=abc") });
    expect(fake.requests[0]!.url.href).toBe("http://127.0.0.1:5000/v2/app/blobs/uploads/");
  });

  it("sends Content-Range and Content-Length with each chunk and reads the Range back", async () => {
    const fake = fakeFetch(() => new Response(null, { status: 202, headers: { location: "https://r.io/next", range: "0-9" } }));
    const client = new RegistryClient({ registry: "r.io", fetch: fake.fetch, credentials: creds({ kind: "none" }) });
    const answer = await client.patchUpload("app", new URL("https://r.io/up"), bytesBody(new Uint8Array(5)), 5, digest);
    expect(answer).toEqual({ location: new URL("https://r.io/next"), committed: 10 });
    expect(fake.requests[0]!.headers.get("content-range")).toBe("5-9");
    expect(fake.requests[0]!.headers.get("content-length")).toBe("5");
  });

  it("names the registry and suggests the insecure option when https cannot connect", async () => {
    const failing = (async () => {
      throw new TypeError("fetch failed", { cause: Object.assign(new Error("wrong version number"), { code: "ERR_SSL_WRONG_VERSION_NUMBER" }) });
    }) as typeof fetch;
    const client = new RegistryClient({ registry: "reg.lan:5000", fetch: failing, credentials: creds({ kind: "none" }) });
    await expect(client.fetchManifest("app", "v1")).rejects.toThrow('get manifest "v1" in reg.lan:5000/app: cannot reach https://reg.lan:5000 (ERR_SSL_WRONG_VERSION_NUMBER); if reg.lan:5000 speaks plain http, allow it with the insecure-registry option');
  });
});

describe("parseRangeEnd", () => {
  it.each([["0-1023", 1024], ["bytes=0-9", 10], [" 0-0 ", 1], [null, undefined], ["junk", undefined]])("%s -> %s", (range, end) => {
    expect(parseRangeEnd(range)).toBe(end);
  });
});
