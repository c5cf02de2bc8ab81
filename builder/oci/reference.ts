// Image references (`[registry/]repository[:tag]`), parsed the way docker and skopeo read them.

/** A parsed image reference. */
export interface ImageReference {
  /** Registry host[:port]; `docker.io` when the reference names none. */
  registry: string;
  /** Repository path, e.g. `library/node` or `team/hello`. */
  repository: string;
  /** Tag; `latest` when none is given. */
  tag: string;
}

const COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const TAG = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;
const HOST = /^(?:localhost|[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*|\[[0-9a-fA-F:]+\])(?::[0-9]+)?$/;

/** Why a reference is not valid (the message names the reference and the rule). */
export class ImageReferenceError extends Error {
  override readonly name = "ImageReferenceError";
}

/** Parses `[registry/]repo[:tag]`; digests (`@sha256:`) are refused, a build makes its own digest. */
export function parseImageReference(ref: string): ImageReference {
  const fail = (why: string): never => {
    throw new ImageReferenceError(`invalid image reference "${ref}": ${why}`);
  };
  if (ref.includes("@")) fail("a digest cannot be chosen, use a tag (e.g. hello:v1)");
  const parts = ref.split("/");
  const first = parts[0] ?? "";
  // As docker does: the first part is a registry when it has a dot or a port or is localhost.
  const hasRegistry = parts.length > 1 && (first.includes(".") || first.includes(":") || first === "localhost");
  const registry = hasRegistry ? first : "docker.io";
  if (hasRegistry && !HOST.test(registry)) fail(`"${registry}" is not a registry host[:port]`);
  const path = hasRegistry ? parts.slice(1) : parts;
  const last = path[path.length - 1] ?? "";
  const colon = last.indexOf(":");
  const tag = colon === -1 ? "latest" : last.slice(colon + 1);
  path[path.length - 1] = colon === -1 ? last : last.slice(0, colon);
  if (!TAG.test(tag)) fail(`tag "${tag}" must be 1-128 of [A-Za-z0-9_.-], not starting with . or -`);
  for (const component of path) {
    if (!COMPONENT.test(component)) fail(`repository part "${component}" must be lowercase letters, digits and . _ - separators`);
  }
  const repository = registry === "docker.io" && path.length === 1 ? `library/${path[0]}` : path.join("/");
  if (repository.length > 255) fail("repository name is longer than 255 characters");
  return { registry, repository, tag };
}

/** A reference to pull: a tag, and a digest when the reference pins one. */
export interface PullReference extends ImageReference {
  /** `sha256:<64 hex>` when given; it then names the manifest and the tag is informational. */
  digest?: string;
}

const PINNED_DIGEST = /^sha256:[a-f0-9]{64}$/;

/** Parses `[registry/]repo[:tag][@sha256:<hex>]`: a base image may be pinned by digest. */
export function parsePullReference(ref: string): PullReference {
  const at = ref.indexOf("@");
  if (at === -1) return parseImageReference(ref);
  const digest = ref.slice(at + 1);
  if (!PINNED_DIGEST.test(digest)) throw new ImageReferenceError(`invalid image reference "${ref}": digest "${digest}" must be sha256:<64 lowercase hex digits>`);
  return { ...parseImageReference(ref.slice(0, at)), digest };
}

/** What to ask the registry's manifests endpoint for: the digest when pinned, else the tag. */
export function manifestReference(ref: PullReference): string {
  return ref.digest ?? ref.tag;
}
