// Registry credentials from Docker's config file ($DOCKER_CONFIG/config.json, else
// ~/.docker/config.json): `auths` entries with base64 `auth` or username/password, or an
// `identitytoken` (an OAuth2 refresh token). Credential helpers (`credsStore`, `credHelpers`)
// are not run: the lookup reports them so an auth failure can say so instead of "no credentials".
import { readFile } from "node:fs/promises";
import { homedir } from "node:os";
import { join } from "node:path";
import { DockerConfigError } from "./errors.ts";

/** Credentials for one registry. */
export type RegistryCredentials =
  | { kind: "none" }
  | { kind: "basic"; username: string; password: string }
  | { kind: "identity-token"; token: string; username?: string }
  /** The config names a credential helper for this registry, which we do not run. */
  | { kind: "helper"; helper: string; field: "credsStore" | "credHelpers" };

/** Credentials and where they came from (a file path, or a description), for error messages. */
export interface CredentialLookup {
  credentials: RegistryCredentials;
  source: string;
}

/** Finds credentials for a registry host[:port] (as written in image references). */
export type CredentialSource = (registry: string) => Promise<CredentialLookup>;

/** The parts of config.json we use. */
export interface DockerConfig {
  auths: Record<string, { auth?: string; username?: string; password?: string; identitytoken?: string }>;
  credsStore?: string;
  credHelpers?: Record<string, string>;
}

/** Every name Docker Hub goes by in config files (`docker login` writes the v1 URL). */
const DOCKER_HUB_ALIASES = new Set(["docker.io", "index.docker.io", "registry-1.docker.io", "registry.hub.docker.com"]);

/** A config key or registry name as a bare lowercase host[:port]; Docker Hub's aliases become docker.io. */
export function normalizeRegistryHost(keyOrHost: string): string {
  const host = keyOrHost.trim().replace(/^[a-z][a-z0-9+.-]*:\/\//i, "").split("/")[0]!.toLowerCase();
  return DOCKER_HUB_ALIASES.has(host) ? "docker.io" : host;
}

/** Parses config.json text; `path` only names the file in errors. */
export function parseDockerConfig(text: string, path: string): DockerConfig {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new DockerConfigError(`${path} is not valid JSON: ${(error as Error).message}`, { cause: error });
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) throw new DockerConfigError(`${path} must hold a JSON object`);
  const { auths, credsStore, credHelpers } = value as Record<string, unknown>;
  const config: DockerConfig = { auths: isRecord(auths) ? (auths as DockerConfig["auths"]) : {} };
  if (typeof credsStore === "string" && credsStore !== "") config.credsStore = credsStore;
  if (isRecord(credHelpers)) config.credHelpers = credHelpers as Record<string, string>;
  return config;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/**
 * The credentials a config holds for `registry`. Stored secrets in `auths` win (we can use them);
 * otherwise a helper named for the registry (`credHelpers`) or for all (`credsStore`) is reported.
 */
export function findRegistryCredentials(config: DockerConfig, registry: string, path: string): RegistryCredentials {
  const host = normalizeRegistryHost(registry);
  const key = Object.keys(config.auths).find((k) => normalizeRegistryHost(k) === host);
  const entry = key === undefined ? undefined : config.auths[key];
  if (entry && key !== undefined) {
    const where = `auths["${key}"] in ${path}`;
    if (typeof entry.identitytoken === "string" && entry.identitytoken !== "") {
      const username = entry.username ?? (typeof entry.auth === "string" ? decodeAuth(entry.auth, where).username : undefined);
      return username === undefined ? { kind: "identity-token", token: entry.identitytoken } : { kind: "identity-token", token: entry.identitytoken, username };
    }
    if (typeof entry.auth === "string" && entry.auth !== "") return { kind: "basic", ...decodeAuth(entry.auth, where) };
    if (typeof entry.username === "string" && typeof entry.password === "string") return { kind: "basic", username: entry.username, password: entry.password };
  }
  const helperKey = Object.keys(config.credHelpers ?? {}).find((k) => normalizeRegistryHost(k) === host);
  if (helperKey !== undefined) return { kind: "helper", helper: config.credHelpers![helperKey]!, field: "credHelpers" };
  if (config.credsStore !== undefined) return { kind: "helper", helper: config.credsStore, field: "credsStore" };
  return { kind: "none" };
}

/** `auth` is base64 of `user:password`; the password may itself hold colons. */
function decodeAuth(auth: string, where: string): { username: string; password: string } {
  const text = Buffer.from(auth, "base64").toString("utf8");
  const colon = text.indexOf(":");
  if (colon <= 0) throw new DockerConfigError(`${where}: "auth" is not base64 of user:password`);
  return { username: text.slice(0, colon), password: text.slice(colon + 1) };
}

/** $DOCKER_CONFIG/config.json, else ~/.docker/config.json. */
export function dockerConfigPath(env: Readonly<Record<string, string | undefined>> = process.env, home: string = homedir()): string {
  const dir = env.DOCKER_CONFIG && env.DOCKER_CONFIG !== "" ? env.DOCKER_CONFIG : join(home, ".docker");
  return join(dir, "config.json");
}

/** Reads and parses the config; undefined when the file does not exist. */
export async function loadDockerConfig(path: string): Promise<DockerConfig | undefined> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw new DockerConfigError(`cannot read ${path}: ${(error as Error).message}`, { cause: error });
  }
  return parseDockerConfig(text, path);
}

/** A CredentialSource over Docker's config file; `env` and `home` are for tests and the CLI. */
export function dockerConfigCredentials(options: { env?: Readonly<Record<string, string | undefined>>; home?: string } = {}): CredentialSource {
  const path = dockerConfigPath(options.env ?? process.env, options.home ?? homedir());
  return async (registry) => {
    const config = await loadDockerConfig(path);
    if (config === undefined) return { credentials: { kind: "none" }, source: `${path} (absent)` };
    return { credentials: findRegistryCredentials(config, registry, path), source: path };
  };
}

/** A CredentialSource with fixed credentials (e.g. from --creds flags or the environment). */
export function staticCredentials(credentials: RegistryCredentials, source = "the given credentials"): CredentialSource {
  return async () => ({ credentials, source });
}
