// Errors of the registry client. Every message is one line a user can act on: what failed,
// on which registry and repository (and digest), what the registry said (its error codes), and
// how to fix it when we know. Mapping an HTTP response to an error happens only here.

/** What a registry said in its `{"errors":[{code,message,detail}]}` body. */
export interface RegistryErrorDetail {
  code: string;
  message: string;
}

/** Where a failed request pointed. */
export interface RegistryErrorContext {
  registry: string;
  repository?: string;
  /** Blob or manifest digest, when the request named one. */
  digest?: string;
  /** What was being done, e.g. `get manifest "v1"` or `upload blob sha256:…`. */
  operation: string;
}

/** Any failure talking to a registry. */
export class RegistryError extends Error {
  override readonly name: string = "RegistryError";
  readonly registry: string;
  readonly repository: string | undefined;
  readonly digest: string | undefined;
  /** HTTP status of the failed response, when there was one. */
  readonly status: number | undefined;
  /** The registry's error codes (BLOB_UNKNOWN, MANIFEST_UNKNOWN, UNAUTHORIZED, DENIED, ...). */
  readonly codes: string[];

  constructor(message: string, context: RegistryErrorContext, options: { status?: number; codes?: string[]; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.registry = context.registry;
    this.repository = context.repository;
    this.digest = context.digest;
    this.status = options.status;
    this.codes = options.codes ?? [];
  }
}

/** 401 or 403: no credentials, rejected credentials, or not allowed. */
export class RegistryAuthError extends RegistryError {
  override readonly name = "RegistryAuthError";
}

/** 404 or an unknown blob/manifest/repository code. */
export class RegistryNotFoundError extends RegistryError {
  override readonly name = "RegistryNotFoundError";
}

/** Content did not hash to (or was not the size of) the digest it was fetched or stored by. */
export class DigestMismatchError extends RegistryError {
  override readonly name = "DigestMismatchError";
}

/** ~/.docker/config.json could not be used (unreadable, malformed, or names an unsupported helper). */
export class DockerConfigError extends Error {
  override readonly name = "DockerConfigError";
}

const NOT_FOUND_CODES = new Set(["BLOB_UNKNOWN", "MANIFEST_UNKNOWN", "NAME_UNKNOWN", "MANIFEST_BLOB_UNKNOWN", "BLOB_UPLOAD_UNKNOWN"]);

/** Parses a registry error body; an empty list when it is not the spec's JSON shape. */
export function parseErrorBody(body: string): RegistryErrorDetail[] {
  try {
    const value = JSON.parse(body) as { errors?: unknown };
    if (!Array.isArray(value.errors)) return [];
    return value.errors.flatMap((e: unknown) => {
      if (typeof e !== "object" || e === null) return [];
      const { code, message } = e as { code?: unknown; message?: unknown };
      return typeof code === "string" ? [{ code, message: typeof message === "string" ? message : "" }] : [];
    });
  } catch {
    return [];
  }
}

/** The failed response, as the mapping needs it. */
export interface FailedResponse {
  status: number;
  /** Response body text (may be empty, e.g. for HEAD). */
  body: string;
}

/**
 * Maps a failed registry response to a named error with a one-line message. `hint` is appended
 * after a semicolon (the auth layer says which credentials were used and how to fix them).
 */
export function makeResponseError(response: FailedResponse, context: RegistryErrorContext, hint?: string): RegistryError {
  const details = parseErrorBody(response.body);
  const codes = details.map((d) => d.code);
  const said = details.length > 0 ? details.map((d) => (d.message ? `${d.code}: ${d.message}` : d.code)).join("; ") : shortBody(response.body);
  const where = context.repository === undefined ? context.registry : `${context.registry}/${context.repository}`;
  const explanation = explain(response.status, codes);
  const message = `${context.operation} in ${where}: ${explanation} (${response.status}${said ? ` ${said}` : ""})${hint ? `; ${hint}` : ""}`;
  const options = { status: response.status, codes };
  if (response.status === 401 || response.status === 403 || codes.includes("UNAUTHORIZED") || codes.includes("DENIED")) {
    return new RegistryAuthError(message, context, options);
  }
  if (response.status === 404 || codes.some((c) => NOT_FOUND_CODES.has(c))) return new RegistryNotFoundError(message, context, options);
  return new RegistryError(message, context, options);
}

function explain(status: number, codes: readonly string[]): string {
  if (codes.includes("MANIFEST_BLOB_UNKNOWN")) return "the manifest references a blob the registry does not have";
  if (codes.includes("BLOB_UNKNOWN")) return "blob unknown to the registry";
  if (codes.includes("MANIFEST_UNKNOWN")) return "manifest not found";
  if (codes.includes("NAME_UNKNOWN")) return "repository not found";
  if (codes.includes("DIGEST_INVALID")) return "the uploaded content does not match its digest";
  if (codes.includes("TOOMANYREQUESTS") || status === 429) return "rate limited by the registry";
  if (status === 401) return "authentication required";
  if (status === 403) return "access denied";
  if (status === 404) return "not found";
  if (status >= 500) return "registry failure";
  return "request refused";
}

/** A non-JSON body in a few words (an HTML error page from a proxy, say). */
function shortBody(body: string): string {
  const text = body.replace(/<[^>]*>/g, " ").replace(/\s+/g, " ").trim();
  return text.length > 120 ? `${text.slice(0, 117)}...` : text;
}
