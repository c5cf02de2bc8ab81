// Uploading one blob from disk: monolithic (POST, then PUT with the whole body) for blobs up to
// a size, chunked (PATCH with Content-Range per chunk, then an empty PUT) above it. Chunks are
// read from the file as they are sent, so a big layer never sits in memory; each PATCH follows
// the Location the registry returned and resumes from the Range it says it has.
import { createReadStream } from "node:fs";
import { Readable } from "node:stream";
import type { BlobRef } from "./content-store.ts";
import { bytesBody, type BodySource, type RegistryClient } from "./client.ts";
import { RegistryError } from "./errors.ts";

/** Sizes that choose the upload shape. */
export interface UploadSizes {
  /** Blobs up to this size go in one PUT. */
  monolithicMaxBytes: number;
  /** PATCH size for bigger blobs. */
  chunkSizeBytes: number;
}

/** 16 MiB: one PUT covers all but native-module and model layers; chunks keep retries cheap. */
export const DEFAULT_UPLOAD_SIZES: UploadSizes = { monolithicMaxBytes: 16 * 1024 * 1024, chunkSizeBytes: 16 * 1024 * 1024 };

/** A blob file on disk. */
export interface BlobFile extends BlobRef {
  path: string;
}

/** `length` bytes of a file from `start`, opened anew for each attempt. */
export function fileBody(path: string, start: number, length: number): BodySource {
  if (length === 0) return bytesBody(new Uint8Array(0));
  return {
    length,
    open: () => {
      const stream = createReadStream(path, { start, end: start + length - 1 });
      return { body: Readable.toWeb(stream) as unknown as ReadableStream<Uint8Array>, close: () => stream.destroy() };
    },
  };
}

/** The next chunk to send: from the registry's committed offset, at most chunkSize bytes. */
export function nextChunk(size: number, committed: number, chunkSizeBytes: number): { start: number; length: number } | undefined {
  if (committed >= size) return undefined;
  return { start: committed, length: Math.min(chunkSizeBytes, size - committed) };
}

/** Uploads `blob` to the upload session at `location`; returns the bytes sent (retries included). */
export async function uploadBlob(client: RegistryClient, repository: string, blob: BlobFile, location: URL, sizes: UploadSizes): Promise<number> {
  if (blob.size <= sizes.monolithicMaxBytes) {
    await client.completeUpload(repository, location, blob.digest, fileBody(blob.path, 0, blob.size));
    return blob.size;
  }
  return uploadChunked(client, repository, blob, location, sizes.chunkSizeBytes);
}

async function uploadChunked(client: RegistryClient, repository: string, blob: BlobFile, first: URL, chunkSizeBytes: number): Promise<number> {
  if (!(chunkSizeBytes > 0)) throw new Error(`chunk size must be positive, got ${chunkSizeBytes}`);
  let location = first;
  let committed = 0;
  let sent = 0;
  for (let chunk = nextChunk(blob.size, committed, chunkSizeBytes); chunk; chunk = nextChunk(blob.size, committed, chunkSizeBytes)) {
    const answer = await client.patchUpload(repository, location, fileBody(blob.path, chunk.start, chunk.length), chunk.start, blob.digest);
    sent += chunk.length;
    location = answer.location;
    const end = chunk.start + chunk.length;
    // No Range header: assume the registry took the chunk. A shorter Range: resend from there.
    const next = answer.committed ?? end;
    if (next <= committed || next > end) {
      throw new RegistryError(`upload blob ${blob.digest} to ${client.registry}/${repository}: the registry reports ${next} bytes received after a chunk ending at ${end}`, { registry: client.registry, repository, digest: blob.digest, operation: "upload blob" });
    }
    committed = next;
  }
  await client.completeUpload(repository, location, blob.digest, bytesBody(new Uint8Array(0)));
  return sent;
}
