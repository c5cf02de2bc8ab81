// Resolving a reference to one image manifest: GET it (verified against the digest it was asked
// by and the registry's Docker-Content-Digest), and when it is an index or manifest list, pick
// the platform's entry and GET that (verified against the entry's digest and size).
import type { RegistryClient } from "./client.ts";
import { DigestMismatchError, RegistryError, type RegistryErrorContext } from "./errors.ts";
import { classifyManifest, isImageManifestMediaType, parseImageManifest, parseIndex, type ContentDescriptor, type ManifestKind } from "./media-types.ts";
import { formatPlatform, selectPlatformEntry, type Platform } from "./platform.ts";

/** A manifest document with its exact bytes. */
export interface ManifestDocument {
  descriptor: ContentDescriptor;
  bytes: Buffer;
}

/** What a reference resolved to. */
export interface ResolvedImage {
  /** The index (or manifest list) the reference named, when it was one. */
  index?: ManifestDocument;
  /** The image manifest: the reference's own, or the platform's entry of the index. */
  manifest: ManifestDocument;
  config: ContentDescriptor;
  layers: ContentDescriptor[];
}

/** Resolves `repository:reference` (tag or digest) to the image manifest for `platform`. */
export async function resolveImage(client: RegistryClient, repository: string, reference: string, platform: Platform): Promise<ResolvedImage> {
  const context = (operation: string, digest?: string): RegistryErrorContext => ({ registry: client.registry, repository, operation, ...(digest ? { digest } : {}) });
  const top = await fetchManifestDocument(client, repository, reference, undefined);
  let manifest = top;
  if (top.kind.kind === "index") {
    const entries = parseOrThrow(() => parseIndex(top.doc), context(`read index ${top.descriptor.digest}`));
    const entry = parseOrThrow(() => chooseEntry(entries, platform), context(`choose a platform from ${top.descriptor.digest}`));
    manifest = await fetchManifestDocument(client, repository, entry.digest, entry);
    if (manifest.kind.kind !== "manifest") throw new RegistryError(`${entry.digest} in ${client.registry}/${repository} is a nested index; only one level is supported`, context("resolve", entry.digest));
  }
  const digest = manifest.descriptor.digest;
  const { config, layers } = parseOrThrow(() => parseImageManifest(manifest.doc), context(`read manifest ${digest}`, digest));
  const strip = ({ descriptor, bytes }: ManifestDocument): ManifestDocument => ({ descriptor, bytes });
  return { ...(top.kind.kind === "index" ? { index: strip(top) } : {}), manifest: strip(manifest), config, layers };
}

function chooseEntry(entries: ContentDescriptor[], platform: Platform): ContentDescriptor {
  const entry = selectPlatformEntry(entries, platform);
  if (entry.mediaType && !isImageManifestMediaType(entry.mediaType)) throw new Error(`the ${formatPlatform(platform)} entry ${entry.digest} has media type ${entry.mediaType}, not an image manifest`);
  return entry;
}

/** GETs, verifies, parses and classifies one manifest; `expected` is its index entry, when it has one. */
async function fetchManifestDocument(client: RegistryClient, repository: string, reference: string, expected: ContentDescriptor | undefined): Promise<ManifestDocument & { doc: unknown; kind: ManifestKind }> {
  const fetched = await client.fetchManifest(repository, reference);
  const pinned = reference.includes(":");
  const context: RegistryErrorContext = { registry: client.registry, repository, operation: `get manifest ${pinned ? reference : `"${reference}"`}`, digest: pinned ? reference : fetched.digest };
  const where = `${client.registry}/${repository}`;
  if (expected) {
    if (fetched.digest !== expected.digest || fetched.bytes.length !== expected.size) {
      throw new DigestMismatchError(`${context.operation} in ${where}: the registry sent ${fetched.bytes.length} bytes hashing to ${fetched.digest}, not the index entry's ${expected.size} bytes`, context);
    }
  } else if (pinned && fetched.digest !== reference) {
    throw new DigestMismatchError(`${context.operation} in ${where}: the registry sent content hashing to ${fetched.digest}`, context);
  }
  if (fetched.headerDigest?.startsWith("sha256:") && fetched.headerDigest !== fetched.digest) {
    throw new DigestMismatchError(`${context.operation} in ${where}: Docker-Content-Digest says ${fetched.headerDigest} but the content hashes to ${fetched.digest}`, context);
  }
  const doc = parseOrThrow(() => JSON.parse(fetched.bytes.toString("utf8")) as unknown, context);
  const kind = parseOrThrow(() => classifyManifest(fetched.contentType, doc), context);
  const descriptor: ContentDescriptor = { ...(expected ?? {}), mediaType: kind.mediaType, digest: fetched.digest, size: fetched.bytes.length };
  return { descriptor, bytes: fetched.bytes, doc, kind };
}

/** Runs a pure parser; its plain Error becomes a RegistryError naming registry and repository. */
export function parseOrThrow<T>(parse: () => T, context: RegistryErrorContext): T {
  try {
    return parse();
  } catch (error) {
    throw new RegistryError(`${context.operation} in ${context.registry}/${context.repository}: ${(error as Error).message}`, context, { cause: error });
  }
}
