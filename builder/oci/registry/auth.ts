// Authentication against a registry, learned from its 401 challenges: Basic (htpasswd) sends
// the user's password with every request; Bearer fetches a token from the challenge's realm
// for the request's scopes (`repository:<name>:pull,push`) and caches it per scope set until
// it expires. Nothing is sent before the registry asks, so anonymous registries see none.
import { DockerConfigError, makeResponseError, RegistryAuthError, RegistryError } from "./errors.ts";
import { parseWwwAuthenticate, type Challenge } from "./challenge.ts";
import type { CredentialLookup, CredentialSource } from "./docker-config.ts";
import { isLoopbackHost } from "./endpoint.ts";

/** Actions on a repository a token can grant. */
export type RepositoryAction = "pull" | "push";

/** `repository:<name>:<actions>`, the scope syntax of the token spec. */
export function repositoryScope(repository: string, actions: readonly RepositoryAction[]): string {
  return `repository:${repository}:${actions.join(",")}`;
}

/** What the auth layer needs from its owner. */
export interface RegistryAuthOptions {
  registry: string;
  credentials: CredentialSource;
  fetch: typeof fetch;
  /** Milliseconds since the epoch (injected so token expiry is testable). */
  now: () => number;
  /** Allow credentials to a plain-http token realm off loopback. */
  insecure: boolean;
}

interface CachedToken {
  token: string;
  expiresAtMs: number;
}

/** A token endpoint's answer (token spec: `token` and/or `access_token`). */
export interface TokenResponse {
  token: string;
  expiresInSec: number;
}

/** Tokens live 60 s when the server does not say (token spec). */
const DEFAULT_TOKEN_LIFETIME_SEC = 60;

/** Parses a token endpoint's JSON body. */
export function parseTokenResponse(body: unknown): TokenResponse | undefined {
  if (typeof body !== "object" || body === null) return undefined;
  const { token, access_token: accessToken, expires_in: expiresIn } = body as Record<string, unknown>;
  const value = typeof token === "string" && token !== "" ? token : typeof accessToken === "string" && accessToken !== "" ? accessToken : undefined;
  if (value === undefined) return undefined;
  return { token: value, expiresInSec: typeof expiresIn === "number" && expiresIn > 0 ? expiresIn : DEFAULT_TOKEN_LIFETIME_SEC };
}

/** The token URL for a Bearer challenge: realm plus service and one `scope` parameter per scope. */
export function makeTokenUrl(challenge: Challenge, scopes: readonly string[]): URL {
  const realm = challenge.params.realm;
  if (!realm) throw new Error("Bearer challenge without a realm");
  const url = new URL(realm);
  if (challenge.params.service) url.searchParams.set("service", challenge.params.service);
  for (const scope of scopes) url.searchParams.append("scope", scope);
  return url;
}

/**
 * Adds the challenge's own scopes to ours when ours do not already cover them: a registry may
 * ask for more (after insufficient_scope), but usually names a subset (pull for a HEAD).
 */
export function mergeScopes(ours: readonly string[], challenge: Challenge): string[] {
  const theirs = (challenge.params.scope ?? "").split(" ").filter(Boolean);
  return [...ours, ...theirs.filter((scope, i) => theirs.indexOf(scope) === i && !ours.some((own) => covers(own, scope)))];
}

/** Whether scope `a` grants everything `b` asks for (`type:name:actions`, name may hold colons). */
function covers(a: string, b: string): boolean {
  if (a === b) return true;
  const split = (s: string) => {
    const last = s.lastIndexOf(":");
    return { resource: s.slice(0, last), actions: s.slice(last + 1).split(",") };
  };
  const [x, y] = [split(a), split(b)];
  return x.resource === y.resource && y.actions.every((action) => x.actions.includes(action) || x.actions.includes("*"));
}

/** Per-registry auth state; one per RegistryClient. */
export class RegistryAuth {
  private scheme: "unknown" | "basic" | "bearer" = "unknown";
  private bearer: Challenge | undefined;
  private readonly tokens = new Map<string, Promise<CachedToken>>();
  private lookup: Promise<CredentialLookup> | undefined;

  constructor(private readonly options: RegistryAuthOptions) {}

  /** The Authorization header for a request needing `scopes`; undefined until a challenge was seen. */
  async authorization(scopes: readonly string[]): Promise<string | undefined> {
    if (this.scheme === "basic") {
      const { credentials } = await this.credentials();
      if (credentials.kind === "basic") return `Basic ${Buffer.from(`${credentials.username}:${credentials.password}`).toString("base64")}`;
      return undefined;
    }
    if (this.scheme === "bearer") return `Bearer ${(await this.token(scopes)).token}`;
    return undefined;
  }

  /**
   * Learns from a 401's WWW-Authenticate; true when a retry can succeed. `sent` is the
   * Authorization the refused request carried: requests racing on the first challenge then
   * share one token (or one switch to Basic) instead of each fetching its own.
   */
  async handleChallenge(header: string | null, scopes: readonly string[], sent: string | undefined): Promise<boolean> {
    const challenges = parseWwwAuthenticate(header ?? "");
    const bearer = challenges.find((c) => c.scheme === "bearer");
    const basic = challenges.find((c) => c.scheme === "basic");
    if (bearer) {
      this.scheme = "bearer";
      this.bearer = bearer;
      await this.renewToken(scopes, mergeScopes(scopes, bearer), sent);
      return true;
    }
    if (basic) {
      this.scheme = "basic";
      const { credentials } = await this.credentials();
      // Already sent Basic: the registry rejected these credentials, retrying won't help.
      return credentials.kind === "basic" && !(sent ?? "").startsWith("Basic ");
    }
    return false;
  }

  /** Says which credentials were used and how to fix them, for 401/403 messages. */
  async hint(status: number, scopes: readonly string[] = []): Promise<string> {
    const { credentials, source } = await this.credentials();
    const registry = this.options.registry;
    const login = `run "docker login ${registry}" or add an "auths" entry for it`;
    if (this.scheme === "bearer" && scopes.length > 0 && (credentials.kind === "basic" || credentials.kind === "identity-token")) {
      // The token server accepted the credentials, but its token did not cover the request.
      const who = credentials.kind === "basic" ? `user "${credentials.username}"` : "the identity token";
      return `the token for ${who} (credentials from ${source}) does not grant "${scopes.join(" ")}"`;
    }
    switch (credentials.kind) {
      case "none":
        return status === 401 ? `no credentials for ${registry} in ${source}: ${login}` : `anonymous access is not allowed`;
      case "helper":
        return `${source} names credential helper "${credentials.helper}" (${credentials.field}) for ${registry}, and credential helpers are not supported: add an "auths" entry with "auth" (base64 of user:password) instead`;
      case "basic":
        return status === 401
          ? `the registry rejected user "${credentials.username}" (credentials from ${source}): check the username and password`
          : `user "${credentials.username}" (credentials from ${source}) is not allowed to do this`;
      case "identity-token":
        return status === 401 ? `the registry rejected the identity token from ${source}: ${login} again` : `the identity token from ${source} does not allow this`;
    }
  }

  private credentials(): Promise<CredentialLookup> {
    this.lookup ??= this.options.credentials(this.options.registry).catch((error: unknown) => {
      this.lookup = undefined;
      if (error instanceof DockerConfigError) throw error;
      throw new DockerConfigError(`cannot read credentials for ${this.options.registry}: ${(error as Error).message}`, { cause: error });
    });
    return this.lookup;
  }

  /** A token for `scopes`: cached per scope set until it expires; concurrent callers share one fetch. */
  private async token(scopes: readonly string[]): Promise<CachedToken> {
    const key = scopeKey(scopes);
    const pending = this.tokens.get(key);
    if (pending) {
      const token = await pending.catch(() => undefined);
      if (token && token.expiresAtMs > this.options.now()) return token;
      // Someone renewed it while we waited: share theirs.
      const current = this.tokens.get(key);
      if (current && current !== pending) return current;
    }
    return this.startFetch(key, scopes);
  }

  /** After a 401: fetch a new token unless one newer than the refused one (`sent`) exists or is on its way. */
  private async renewToken(scopes: readonly string[], ask: readonly string[], sent: string | undefined): Promise<void> {
    const key = scopeKey(scopes);
    const pending = this.tokens.get(key);
    if (pending) {
      const token = await pending.catch(() => undefined);
      if (token && `Bearer ${token.token}` !== sent) return;
      const current = this.tokens.get(key);
      if (current && current !== pending) {
        await current;
        return;
      }
    }
    await this.startFetch(key, ask);
  }

  /** Starts a token fetch and caches its promise at once (synchronously), so racing callers find it. */
  private startFetch(key: string, ask: readonly string[]): Promise<CachedToken> {
    const fresh = this.fetchToken(ask);
    this.tokens.set(key, fresh);
    fresh.catch(() => {
      if (this.tokens.get(key) === fresh) this.tokens.delete(key);
    });
    return fresh;
  }

  private async fetchToken(scopes: readonly string[]): Promise<CachedToken> {
    const challenge = this.bearer!;
    const { credentials } = await this.credentials();
    const url = makeTokenUrl(challenge, scopes);
    const hasSecret = credentials.kind === "basic" || credentials.kind === "identity-token";
    if (hasSecret && url.protocol === "http:" && !isLoopbackHost(url.host) && !this.options.insecure) {
      throw new RegistryAuthError(`refusing to send credentials for ${this.options.registry} to plain-http token server ${url.origin} (use an insecure-registry option to allow it)`, { registry: this.options.registry, operation: "get a token" });
    }
    const started = this.options.now();
    const response = await this.requestToken(url, challenge, scopes, credentials);
    const body = await response.text();
    const operation = `get a token for "${scopes.join(" ")}" from ${url.origin}${url.pathname}`;
    if (!response.ok) throw makeResponseError({ status: response.status, body }, { registry: this.options.registry, operation }, response.status === 401 || response.status === 403 ? await this.hint(response.status) : undefined);
    const parsed = parseTokenResponse(safeJson(body));
    if (!parsed) throw new RegistryError(`${operation}: the answer holds no token`, { registry: this.options.registry, operation });
    // Renew a little early (10 s, or half the lifetime of short tokens) so no request races expiry.
    const marginSec = Math.min(10, parsed.expiresInSec / 2);
    return { token: parsed.token, expiresAtMs: started + (parsed.expiresInSec - marginSec) * 1000 };
  }

  /** GET with Basic (or anonymous); an identity token is an OAuth2 refresh token, POSTed as docker does. */
  private requestToken(url: URL, challenge: Challenge, scopes: readonly string[], credentials: CredentialLookup["credentials"]): Promise<Response> {
    if (credentials.kind === "identity-token") {
      const form = new URLSearchParams({ grant_type: "refresh_token", refresh_token: credentials.token, client_id: "skiff", scope: scopes.join(" ") });
      if (challenge.params.service) form.set("service", challenge.params.service);
      const realm = new URL(challenge.params.realm!);
      return this.options.fetch(realm, { method: "POST", body: form, redirect: "follow" });
    }
    const headers: Record<string, string> = {};
    if (credentials.kind === "basic") headers.authorization = `Basic ${Buffer.from(`${credentials.username}:${credentials.password}`).toString("base64")}`;
    return this.options.fetch(url, { headers, redirect: "follow" });
  }
}

function scopeKey(scopes: readonly string[]): string {
  return [...scopes].sort().join(" ");
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
