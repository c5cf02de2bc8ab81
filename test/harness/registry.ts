// A real registry per suite: Debian's docker-registry (distribution v2) on 127.0.0.1 with a
// free port and storage in a temp dir. Auth is one of: none; htpasswd (bcrypt entries made by
// `htpasswd -Bbn`); or token auth, with a small in-test token server that issues RS256 JWTs
// carrying an x5c header with a self-signed cert the registry trusts (auth.token.rootcertbundle).
// Below it, what registry suites share: an image fixture, a counting fetch, skopeo, DOCKER_CONFIG.
import { execFile } from "node:child_process";
import { createPrivateKey, randomBytes, sign, X509Certificate, type KeyObject } from "node:crypto";
import { once } from "node:events";
import { appendFile, cp, mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { stringify } from "yaml";
import { buildFunction, buildImageLayout, type ImageLayoutResult } from "../../builder/index.ts";
import { loadFunctionSpec } from "../../spec/index.ts";
import { freePort } from "./ports.ts";
import { REPO_ROOT, startProcess, type TestProcess } from "./processes.ts";
import { waitFor } from "./wait-for.ts";

const run = promisify(execFile);

/** Users and passwords. */
export type Users = Record<string, string>;

/** Who may do what on a repository, asked by the token server per requested scope. */
export type GrantFn = (subject: string | undefined, repository: string, actions: string[]) => string[];

/** How the registry authenticates. */
export type RegistryAuthMode =
  | { kind: "anonymous" }
  | { kind: "htpasswd"; users: Users }
  /** Token auth: `users` log in to the token server with Basic; `grant` defaults to all for users, nothing for anonymous. */
  | { kind: "token"; users: Users; grant?: GrantFn };

/** One request the token server answered. */
export interface TokenRequest {
  subject: string | undefined;
  scopes: string[];
  status: number;
}

/** A running registry owned by the calling suite. */
export interface TestRegistry {
  /** `127.0.0.1:<port>`: the registry part of image references. */
  readonly host: string;
  readonly url: string;
  readonly dir: string;
  /** Requests seen by the token server (token mode only). */
  readonly tokenRequests: TokenRequest[];
  output(): string;
  stop(): Promise<void>;
}

/** The tools a registry of `kind` needs (for describeWithTools). */
export function registryTools(kind: RegistryAuthMode["kind"]): string[] {
  return ["docker-registry", ...(kind === "htpasswd" ? ["htpasswd"] : []), ...(kind === "token" ? ["openssl"] : [])];
}

const SERVICE = "skiff-test-registry";
const ISSUER = "skiff-test-token-issuer";

/** Starts docker-registry with `auth` and resolves once it answers /v2/. */
export async function startRegistry(auth: RegistryAuthMode = { kind: "anonymous" }): Promise<TestRegistry> {
  const dir = await mkdtemp(join(tmpdir(), "skiff-registry-"));
  const port = await freePort();
  const host = `127.0.0.1:${port}`;
  const tokenRequests: TokenRequest[] = [];
  let tokenServer: Server | undefined;
  let authConfig: Record<string, unknown> | undefined;
  if (auth.kind === "htpasswd") authConfig = { htpasswd: { realm: "skiff-test", path: await writeHtpasswd(dir, auth.users) } };
  if (auth.kind === "token") {
    const started = await startTokenServer(dir, auth.users, auth.grant ?? defaultGrant, tokenRequests);
    tokenServer = started.server;
    authConfig = { token: { realm: started.realm, service: SERVICE, issuer: ISSUER, rootcertbundle: started.certPath } };
  }
  const config = {
    version: 0.1,
    log: { level: "warn", accesslog: { disabled: true } },
    storage: { filesystem: { rootdirectory: join(dir, "data") }, delete: { enabled: true } },
    http: { addr: host, secret: randomBytes(16).toString("hex") },
    ...(authConfig ? { auth: authConfig } : {}),
  };
  const configPath = join(dir, "config.yml");
  await writeFile(configPath, stringify(config));
  const proc = startProcess("docker-registry", ["serve", configPath]);
  await waitReady(proc, `http://${host}`);
  return {
    host,
    url: `http://${host}`,
    dir,
    tokenRequests,
    output: () => proc.output(),
    stop: async () => {
      proc.kill("SIGTERM");
      await proc.exited;
      if (tokenServer) await new Promise((resolve) => tokenServer!.close(resolve));
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** Polls /v2/ until the registry answers (200, or 401 with auth); fails at once if it exits. */
async function waitReady(proc: TestProcess, url: string): Promise<void> {
  let exited = false;
  void proc.exited.then(() => (exited = true));
  await waitFor(
    async () => {
      if (exited) throw new Error(`docker-registry exited:\n${proc.output()}`);
      const response = await fetch(`${url}/v2/`);
      await response.body?.cancel();
      return response.status === 200 || response.status === 401;
    },
    { what: `docker-registry on ${url} to answer /v2/`, timeoutMs: 15_000, intervalMs: 25 },
  );
  if (exited) throw new Error(`docker-registry exited:\n${proc.output()}`);
}

/** bcrypt entries, the only kind distribution's htpasswd accepts. */
async function writeHtpasswd(dir: string, users: Users): Promise<string> {
  const lines: string[] = [];
  for (const [user, password] of Object.entries(users)) {
    const { stdout } = await run("htpasswd", ["-Bbn", user, password]);
    lines.push(stdout.trim());
  }
  const path = join(dir, "htpasswd");
  await writeFile(path, lines.join("\n") + "\n");
  return path;
}

const defaultGrant: GrantFn = (subject, _repository, actions) => (subject === undefined ? [] : actions);

/** A token server on 127.0.0.1: GET /token with optional Basic auth, answering JWTs for the requested scopes. */
async function startTokenServer(dir: string, users: Users, grant: GrantFn, log: TokenRequest[]): Promise<{ server: Server; realm: string; certPath: string }> {
  const keyPath = join(dir, "token-key.pem");
  const certPath = join(dir, "token-cert.pem");
  await run("openssl", ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", keyPath, "-out", certPath, "-days", "2", "-subj", `/CN=${ISSUER}`]);
  const key = createPrivateKey(await readFile(keyPath));
  const certDer = new X509Certificate(await readFile(certPath)).raw.toString("base64");
  const server = createServer((req, res) => answerToken(req, res, { users, grant, log, key, certDer }));
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const { port } = server.address() as AddressInfo;
  return { server, realm: `http://127.0.0.1:${port}/token`, certPath };
}

interface TokenServerState {
  users: Users;
  grant: GrantFn;
  log: TokenRequest[];
  key: KeyObject;
  certDer: string;
}

function answerToken(req: IncomingMessage, res: ServerResponse, state: TokenServerState): void {
  const url = new URL(req.url ?? "/", "http://token");
  const scopes = url.searchParams.getAll("scope");
  const basic = /^Basic (.+)$/i.exec(req.headers.authorization ?? "");
  let subject: string | undefined;
  if (basic) {
    const [user, ...rest] = Buffer.from(basic[1]!, "base64").toString("utf8").split(":");
    if (user === undefined || state.users[user] !== rest.join(":")) {
      state.log.push({ subject: user, scopes, status: 401 });
      res.writeHead(401, { "content-type": "application/json" }).end(JSON.stringify({ details: "incorrect username or password" }));
      return;
    }
    subject = user;
  }
  state.log.push({ subject, scopes, status: 200 });
  const access = scopes.flatMap((scope) => {
    const [type, name, actions] = scope.split(":");
    if (type !== "repository" || !name || !actions) return [];
    return [{ type, name, actions: state.grant(subject, name, actions.split(",")) }];
  });
  const token = makeJwt(state, { sub: subject ?? "", access });
  res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ token, access_token: token, expires_in: 300, issued_at: new Date().toISOString() }));
}

/** An RS256 JWT as distribution 2.8 verifies it: x5c chain to the trusted root, iss, aud, exp/nbf. */
function makeJwt(state: TokenServerState, claims: { sub: string; access: unknown[] }): string {
  const nowSec = Math.floor(Date.now() / 1000);
  const header = { typ: "JWT", alg: "RS256", x5c: [state.certDer] };
  const body = { iss: ISSUER, aud: SERVICE, iat: nowSec, nbf: nowSec - 5, exp: nowSec + 300, jti: randomBytes(8).toString("hex"), ...claims };
  const input = `${base64url(JSON.stringify(header))}.${base64url(JSON.stringify(body))}`;
  return `${input}.${sign("RSA-SHA256", Buffer.from(input), state.key).toString("base64url")}`;
}

function base64url(text: string): string {
  return Buffer.from(text).toString("base64url");
}

// ---- shared by the registry suites ----

/** A copy of functions/hello with a 300 KB random asset, so its image has two layers. */
export async function makeFixture(root: string): Promise<string> {
  const dir = join(root, "hello");
  await cp(join(REPO_ROOT, "functions", "hello"), dir, { recursive: true, filter: (src) => !src.includes(".skiff") });
  await appendFile(join(dir, "function.yaml"), "assets: [data/]\n");
  await mkdir(join(dir, "data"));
  // Random bytes do not compress: the assets layer stays ~300 KB, enough for several chunks.
  await writeFile(join(dir, "data", "blob.bin"), randomBytes(300 * 1024));
  return dir;
}

/** Builds the fixture and writes its image into `layoutDir` under `ref`'s tag. */
export async function buildLayout(dir: string, layoutDir: string, ref: string): Promise<ImageLayoutResult> {
  const spec = await loadFunctionSpec(dir);
  const build = await buildFunction({ dir, spec, force: true });
  return buildImageLayout(build, { dir, reference: ref, layoutDir, sourceDateEpoch: "0", revision: "test" });
}

/** One request seen by a counting fetch. */
export interface SeenRequest {
  method: string;
  url: string;
  status: number;
  /** Request body bytes (its Content-Length). */
  bytes: number;
}

/** A fetch that records every request, and the blob bytes sent to upload URLs. */
export function countingFetch(): { fetch: typeof fetch; seen: SeenRequest[]; uploadBytes(): number; reset(): void } {
  const seen: SeenRequest[] = [];
  const counted: typeof fetch = async (input, init) => {
    const response = await fetch(input, init);
    const bytes = Number(new Headers(init?.headers).get("content-length") ?? 0);
    seen.push({ method: init?.method ?? "GET", url: String(input), status: response.status, bytes });
    return response;
  };
  return {
    fetch: counted,
    seen,
    uploadBytes: () => seen.filter((r) => r.url.includes("/blobs/uploads/") && (r.method === "PATCH" || r.method === "PUT")).reduce((n, r) => n + r.bytes, 0),
    reset: () => void seen.splice(0),
  };
}

/** `skopeo inspect` of a registry image over plain http. */
export async function skopeoInspect(ref: string, creds?: string): Promise<{ Digest: string; Architecture: string; Labels: Record<string, string> }> {
  const { stdout } = await run("skopeo", ["inspect", "--tls-verify=false", ...(creds ? ["--creds", creds] : []), `docker://${ref}`]);
  return JSON.parse(stdout) as { Digest: string; Architecture: string; Labels: Record<string, string> };
}

/** `skopeo inspect` of an OCI layout (`DIR:TAG`). */
export async function skopeoInspectLayout(dirAndTag: string): Promise<{ Digest: string; Architecture: string }> {
  const { stdout } = await run("skopeo", ["inspect", `oci:${dirAndTag}`]);
  return JSON.parse(stdout) as { Digest: string; Architecture: string };
}

/** A DOCKER_CONFIG dir under `parent` holding `config`; returns the env to pass to dockerConfigCredentials. */
export async function dockerConfigEnv(parent: string, config: unknown): Promise<{ DOCKER_CONFIG: string }> {
  const dir = await mkdtemp(join(parent, "docker-config-"));
  await writeFile(join(dir, "config.json"), JSON.stringify(config));
  return { DOCKER_CONFIG: dir };
}

/** An `auths` config entry with base64 user:password. */
export function basicAuthConfig(host: string, user: string, password: string): unknown {
  return { auths: { [host]: { auth: Buffer.from(`${user}:${password}`).toString("base64") } } };
}
