// RegistryClient: the distribution API over fetch for one registry. It picks the scheme,
// answers auth challenges (retrying a request once after a 401), follows redirects without
// leaking Authorization to other hosts, and turns failures into errors that name the
// registry, repository and digest. Pull and push are built on top of it (pull.ts, push.ts).
import { createHash } from "node:crypto";
import { RegistryAuth, repositoryScope, type RepositoryAction } from "./auth.ts";
import { dockerConfigCredentials, type CredentialSource } from "./docker-config.ts";
import { registryBaseUrl } from "./endpoint.ts";
import { makeResponseError, RegistryError, type RegistryErrorContext } from "./errors.ts";
import { MANIFEST_ACCEPT } from "./media-types.ts";

/** How to reach and authenticate to one registry. */
export interface RegistryClientOptions {
  /** host[:port] as written in image references (`docker.io` for Docker Hub). */
  registry: string;
  /** Plain http for a registry off loopback (loopback registries always get plain http). */
  insecure?: boolean;
  /** Where credentials come from; defaults to Docker's config file ($DOCKER_CONFIG or ~/.docker). */
  credentials?: CredentialSource;
  /** The fetch to use (tests wrap it to count requests and bytes). */
  fetch?: typeof fetch;
  /** Clock for token expiry, milliseconds since the epoch. */
  now?: () => number;
  userAgent?: string;
}

/** A request body that can be opened again: a request retried after a 401 re-reads it from disk. */
export interface BodySource {
  length: number;
  /** A fresh body, and how to release it (close the file) once the request is answered. */
  open(): { body: BodyInit; close(): void };
}

/** One request to the registry's API. */
export interface RegistryRequest {
  method: "GET" | "HEAD" | "POST" | "PUT" | "PATCH" | "DELETE";
  /** A path under the registry (`/v2/...`) or an absolute URL (an upload Location). */
  url: string | URL;
  repository: string;
  /** Token scopes the request needs, e.g. repository:<name>:pull,push. */
  scopes: readonly string[];
  headers?: Record<string, string>;
  body?: BodySource;
  /** Statuses that count as success and are returned instead of thrown. */
  expect: readonly number[];
  /** What is being done, for error messages (e.g. `push blob sha256:…`). */
  operation: string;
  digest?: string;
}

/** A manifest (or index) as the registry stored it: the exact bytes, and how it was served. */
export interface FetchedManifest {
  bytes: Buffer;
  contentType: string | null;
  /** sha256 of the bytes: the manifest's identity. */
  digest: string;
  /** The registry's Docker-Content-Digest header, when it sent one. */
  headerDigest: string | undefined;
}

/** How starting an upload went: mounted from another repository, or an upload URL to send to. */
export type UploadStart = { mounted: true } | { mounted: false; location: URL };

const MAX_REDIRECTS = 5;

/** A client for one registry. */
export class RegistryClient {
  readonly registry: string;
  /** `http(s)://host[:port]`. */
  readonly baseUrl: string;
  private readonly auth: RegistryAuth;
  private readonly fetchImpl: typeof fetch;
  private readonly userAgent: string;

  constructor(options: RegistryClientOptions) {
    this.registry = options.registry;
    this.baseUrl = registryBaseUrl(options.registry, { insecure: options.insecure ?? false });
    this.fetchImpl = options.fetch ?? fetch;
    this.userAgent = options.userAgent ?? "skiff";
    this.auth = new RegistryAuth({
      registry: options.registry,
      credentials: options.credentials ?? dockerConfigCredentials(),
      fetch: this.fetchImpl,
      now: options.now ?? Date.now,
      insecure: options.insecure ?? false,
    });
  }

  /** The scopes of an operation on a repository (pull, or pull+push). */
  static scopes(repository: string, actions: readonly RepositoryAction[]): string[] {
    return [repositoryScope(repository, actions)];
  }

  /** Whether the repository has the blob (HEAD); `actions` picks the token scope (push reuses its token). */
  async hasBlob(repository: string, digest: string, actions: readonly RepositoryAction[] = ["pull"]): Promise<boolean> {
    const response = await this.send({
      method: "HEAD", url: `/v2/${repository}/blobs/${digest}`, repository, scopes: RegistryClient.scopes(repository, actions),
      expect: [200, 404], operation: `check blob ${digest}`, digest,
    });
    return response.status === 200;
  }

  /** GETs a blob; the caller reads (and verifies) the body stream. */
  async fetchBlob(repository: string, digest: string): Promise<Response> {
    return this.send({
      method: "GET", url: `/v2/${repository}/blobs/${digest}`, repository, scopes: RegistryClient.scopes(repository, ["pull"]),
      // identity: a CDN must not gzip a layer again on the way, or the bytes would not match.
      headers: { "accept-encoding": "identity" }, expect: [200], operation: `get blob ${digest}`, digest,
    });
  }

  /** GETs a manifest or index by tag or digest, accepting OCI and Docker media types. */
  async fetchManifest(repository: string, reference: string): Promise<FetchedManifest> {
    const isDigest = reference.includes(":");
    const response = await this.send({
      method: "GET", url: `/v2/${repository}/manifests/${reference}`, repository, scopes: RegistryClient.scopes(repository, ["pull"]),
      headers: { accept: MANIFEST_ACCEPT }, expect: [200], operation: `get manifest ${isDigest ? reference : `"${reference}"`}`,
      ...(isDigest ? { digest: reference } : {}),
    });
    const bytes = Buffer.from(await response.arrayBuffer());
    const digest = `sha256:${createHash("sha256").update(bytes).digest("hex")}`;
    return { bytes, contentType: response.headers.get("content-type"), digest, headerDigest: response.headers.get("docker-content-digest") ?? undefined };
  }

  /** PUTs a manifest or index under a tag or digest; returns the digest the registry reports (or ours). */
  async putManifest(repository: string, reference: string, bytes: Buffer, mediaType: string): Promise<string> {
    const response = await this.send({
      method: "PUT", url: `/v2/${repository}/manifests/${reference}`, repository, scopes: RegistryClient.scopes(repository, ["pull", "push"]),
      headers: { "content-type": mediaType }, body: bytesBody(bytes), expect: [201, 200], operation: `put manifest "${reference}"`,
    });
    await response.body?.cancel();
    return response.headers.get("docker-content-digest") ?? `sha256:${createHash("sha256").update(bytes).digest("hex")}`;
  }

  /** POSTs a new upload; with `mountFrom`, asks for a cross-repository mount first (201 = mounted). */
  async startUpload(repository: string, mount?: { digest: string; from: string }): Promise<UploadStart> {
    const url = new URL(`/v2/${repository}/blobs/uploads/`, this.baseUrl);
    const scopes = RegistryClient.scopes(repository, ["pull", "push"]);
    if (mount) {
      url.searchParams.set("mount", mount.digest);
      url.searchParams.set("from", mount.from);
      scopes.push(repositoryScope(mount.from, ["pull"]));
    }
    const response = await this.send({
      method: "POST", url, repository, scopes, expect: [201, 202],
      operation: mount ? `mount blob ${mount.digest} from "${mount.from}"` : "start an upload", ...(mount ? { digest: mount.digest } : {}),
    });
    await response.body?.cancel();
    if (response.status === 201) return { mounted: true };
    return { mounted: false, location: this.location(response, url, repository) };
  }

  /** PATCHes one chunk at `start`; returns the next Location and the registry's committed end offset (exclusive). */
  async patchUpload(repository: string, location: URL, body: BodySource, start: number, digest: string): Promise<{ location: URL; committed: number | undefined }> {
    const headers: Record<string, string> = { "content-type": "application/octet-stream", "content-length": String(body.length) };
    if (body.length > 0) headers["content-range"] = `${start}-${start + body.length - 1}`;
    const response = await this.send({
      method: "PATCH", url: location, repository, scopes: RegistryClient.scopes(repository, ["pull", "push"]), headers, body,
      expect: [202, 204], operation: `upload a chunk of blob ${digest} at offset ${start}`, digest,
    });
    await response.body?.cancel();
    return { location: this.location(response, location, repository), committed: parseRangeEnd(response.headers.get("range")) };
  }

  /** Finishes an upload with PUT `?digest=` (with the whole blob, or empty after chunks). */
  async completeUpload(repository: string, location: URL, digest: string, body: BodySource): Promise<void> {
    const url = new URL(location);
    // Distribution's Location already carries a signed `_state` query: add to it, never concatenate.
    url.searchParams.set("digest", digest);
    const response = await this.send({
      method: "PUT", url, repository, scopes: RegistryClient.scopes(repository, ["pull", "push"]),
      headers: { "content-type": "application/octet-stream", "content-length": String(body.length) }, body,
      expect: [201, 204], operation: `upload blob ${digest}`, digest,
    });
    await response.body?.cancel();
  }

  /**
   * Sends one request: Authorization from what earlier challenges taught, one retry after a 401
   * (with the body reopened), redirects followed by hand so Authorization stays on this registry.
   */
  async send(request: RegistryRequest): Promise<Response> {
    const context: RegistryErrorContext = { registry: this.registry, repository: request.repository, operation: request.operation, ...(request.digest ? { digest: request.digest } : {}) };
    let retried = false;
    for (;;) {
      const { response, authorization } = await this.sendFollowing(request, context);
      if (request.expect.includes(response.status)) return response;
      const body = request.method === "HEAD" ? "" : await response.text().catch(() => "");
      if (response.status === 401 && !retried) {
        retried = true;
        if (await this.auth.handleChallenge(response.headers.get("www-authenticate"), request.scopes, authorization)) continue;
      }
      const hint = response.status === 401 || response.status === 403 ? await this.auth.hint(response.status, retried ? request.scopes : []) : undefined;
      throw makeResponseError({ status: response.status, body }, context, hint);
    }
  }

  /** Sends, following GET/HEAD redirects; returns the final response and the Authorization it carried. */
  private async sendFollowing(request: RegistryRequest, context: RegistryErrorContext): Promise<{ response: Response; authorization: string | undefined }> {
    let url = new URL(request.url, this.baseUrl);
    for (let hop = 0; ; hop++) {
      const sameHost = url.origin === new URL(this.baseUrl).origin;
      const authorization = sameHost ? await this.auth.authorization(request.scopes) : undefined;
      const response = await this.fetchOnce(request, url, authorization, context);
      const location = response.headers.get("location");
      const redirect = [301, 302, 303, 307, 308].includes(response.status) && location !== null;
      if (!redirect || (request.method !== "GET" && request.method !== "HEAD")) return { response, authorization };
      if (hop >= MAX_REDIRECTS) throw new RegistryError(`${context.operation} in ${this.registry}/${request.repository}: more than ${MAX_REDIRECTS} redirects`, context);
      await response.body?.cancel();
      url = new URL(location, url);
    }
  }

  private async fetchOnce(request: RegistryRequest, url: URL, authorization: string | undefined, context: RegistryErrorContext): Promise<Response> {
    const headers: Record<string, string> = { "user-agent": this.userAgent, ...request.headers };
    if (authorization) headers.authorization = authorization;
    const opened = request.body?.open();
    try {
      const init: RequestInit & { duplex?: "half" } = { method: request.method, headers, redirect: "manual" };
      if (opened) {
        init.body = opened.body;
        init.duplex = "half"; // required by fetch for stream bodies
      }
      return await this.fetchImpl(url, init);
    } catch (error) {
      throw this.networkError(error, url, context);
    } finally {
      opened?.close();
    }
  }

  private networkError(error: unknown, url: URL, context: RegistryErrorContext): RegistryError {
    const cause = (error as { cause?: { message?: string; code?: string } }).cause;
    const detail = cause?.code ?? cause?.message ?? (error as Error).message;
    // A TLS failure against a plain-http registry is the usual cause; DNS or refused connections are not.
    const tlsLike = url.protocol === "https:" && /SSL|TLS|CERT|EPROTO|ECONNRESET|certificate/i.test(`${cause?.code ?? ""} ${cause?.message ?? ""}`);
    const tls = tlsLike ? `; if ${this.registry} speaks plain http, allow it with the insecure-registry option` : "";
    return new RegistryError(`${context.operation} in ${this.registry}/${context.repository}: cannot reach ${url.origin} (${detail})${tls}`, context, { cause: error });
  }

  /** The response's Location resolved against the request URL (distribution sends absolute ones, the spec allows relative). */
  private location(response: Response, requestUrl: URL, repository: string): URL {
    const location = response.headers.get("location");
    if (!location) throw new RegistryError(`upload to ${this.registry}/${repository}: the registry sent no Location for the upload`, { registry: this.registry, repository, operation: "upload" });
    return new URL(location, requestUrl);
  }
}

/** A Range header `0-<end>` (or `bytes=0-<end>`) as the exclusive end offset; undefined when absent or odd. */
export function parseRangeEnd(range: string | null): number | undefined {
  const match = /^(?:bytes=)?(\d+)-(\d+)$/.exec((range ?? "").trim());
  if (!match) return undefined;
  return Number(match[2]) + 1;
}

/** A body of bytes already in memory. */
export function bytesBody(bytes: Uint8Array): BodySource {
  // A Buffer may sit on a shared pool's ArrayBufferLike; fetch sends exactly the view either way.
  return { length: bytes.length, open: () => ({ body: bytes as Uint8Array<ArrayBuffer>, close: () => {} }) };
}
