// A local content store laid out like an OCI image layout's blobs (blobs/sha256/<hex>), filled
// from registry streams. Every blob is hashed and counted while it streams to a temp file and
// renamed into place only when digest and size match, so a present blob is always correct
// (and a second pull of the same base skips it).
import { createHash, randomBytes } from "node:crypto";
import { createWriteStream } from "node:fs";
import { mkdir, rename, rm, stat, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { Readable, Transform, type TransformCallback } from "node:stream";
import { pipeline } from "node:stream/promises";
import type { ReadableStream as WebReadableStream } from "node:stream/web";
import { DigestMismatchError, type RegistryErrorContext } from "./errors.ts";

/** A blob as manifests name it. */
export interface BlobRef {
  digest: string;
  size: number;
}

const SHA256 = /^sha256:([a-f0-9]{64})$/;

/** The hex of a `sha256:<64 hex>` digest; other algorithms and malformed digests throw. */
export function digestHex(digest: string): string {
  const match = SHA256.exec(digest);
  if (!match) throw new Error(`unsupported or malformed digest "${digest}" (expected sha256:<64 hex digits>)`);
  return match[1]!;
}

/** `<dir>/blobs/sha256/<hex>`, as in an OCI image layout. */
export function blobPath(dir: string, digest: string): string {
  return join(dir, "blobs", "sha256", digestHex(digest));
}

/** Whether the store holds the blob (content-addressed and written only after verification, so size suffices). */
export async function hasBlob(dir: string, blob: BlobRef): Promise<boolean> {
  const info = await stat(blobPath(dir, blob.digest)).catch(() => undefined);
  return info !== undefined && info.isFile() && info.size === blob.size;
}

/** How received content differs from its descriptor, or undefined when it is the blob. */
export function describeMismatch(blob: BlobRef, size: number, digest: string | undefined): string | undefined {
  if (size > blob.size) return `more than the ${blob.size} bytes its descriptor says`;
  if (size !== blob.size) return `${size} bytes, not the ${blob.size} its descriptor says`;
  if (digest !== undefined && digest !== blob.digest) return `content hashing to ${digest}`;
  return undefined;
}

function mismatchError(blob: BlobRef, what: string, context: RegistryErrorContext): DigestMismatchError {
  const where = context.repository === undefined ? context.registry : `${context.registry}/${context.repository}`;
  return new DigestMismatchError(`${context.operation} in ${where}: the registry sent ${what} for ${blob.digest}`, { ...context, digest: blob.digest });
}

/** Hashes and counts what passes through; fails as soon as more than the blob's size arrives. */
export class VerifyingStream extends Transform {
  private readonly hash = createHash("sha256");
  bytes = 0;

  constructor(private readonly blob: BlobRef, private readonly context: RegistryErrorContext) {
    super();
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.bytes += chunk.length;
    // Checked per chunk so a wrong or endless body stops early instead of filling the disk.
    if (this.bytes > this.blob.size) return callback(mismatchError(this.blob, describeMismatch(this.blob, this.bytes, undefined)!, this.context));
    this.hash.update(chunk);
    callback(null, chunk);
  }

  override _flush(callback: TransformCallback): void {
    const what = describeMismatch(this.blob, this.bytes, `sha256:${this.hash.digest("hex")}`);
    callback(what === undefined ? null : mismatchError(this.blob, what, this.context));
  }
}

/** Streams `body` into the store as `blob`, verifying it; returns the bytes written. */
export async function storeBlob(dir: string, blob: BlobRef, body: ReadableStream<Uint8Array>, context: RegistryErrorContext): Promise<number> {
  const path = blobPath(dir, blob.digest);
  await mkdir(dirname(path), { recursive: true });
  const temp = tempPath(path);
  const verify = new VerifyingStream(blob, context);
  try {
    // fetch's stream is the DOM type; at runtime it is Node's web stream.
    await pipeline(Readable.fromWeb(body as unknown as WebReadableStream<Uint8Array>), verify, createWriteStream(temp));
    await rename(temp, path);
    return verify.bytes;
  } finally {
    await rm(temp, { force: true });
  }
}

/** Throws DigestMismatchError unless `bytes` are exactly `blob`. */
export function verifyBytes(bytes: Uint8Array, blob: BlobRef, context: RegistryErrorContext): void {
  const what = describeMismatch(blob, bytes.length, `sha256:${createHash("sha256").update(bytes).digest("hex")}`);
  if (what !== undefined) throw mismatchError(blob, what, context);
}

/** Writes bytes already in memory (manifests, configs) after checking them against `blob`. */
export async function storeBytes(dir: string, blob: BlobRef, bytes: Uint8Array, context: RegistryErrorContext): Promise<void> {
  verifyBytes(bytes, blob, context);
  if (await hasBlob(dir, blob)) return;
  const path = blobPath(dir, blob.digest);
  await mkdir(dirname(path), { recursive: true });
  const temp = tempPath(path);
  try {
    await writeFile(temp, bytes);
    await rename(temp, path);
  } finally {
    await rm(temp, { force: true });
  }
}

function tempPath(path: string): string {
  return `${path}.tmp-${process.pid}-${randomBytes(4).toString("hex")}`;
}
