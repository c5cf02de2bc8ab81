// application/x-skiff-bundle: the deploy upload. A length-prefixed framing that needs no
// archive library and can be produced and consumed chunk by chunk:
//
//   "skiff-bundle/1\n"                 magic (15 bytes)
//   u32 metaLength, meta JSON          a JSON object (UTF-8), e.g. {"spec": ..., "traffic": ...}
//   u32 entryCount
//   entryCount x { u32 pathLength, path (UTF-8, relative posix), u64 size, size bytes }
//
// Integers are big-endian. Nothing may follow the last entry. Pure: no I/O here.
import { checkRelativePath } from "../store/index.ts";
import { BundleFormatError, BundleLimitError } from "./errors.ts";

/** Content type of a deploy upload. */
export const BUNDLE_CONTENT_TYPE = "application/x-skiff-bundle";
/** First bytes of every bundle; the version digit changes with the format. */
export const BUNDLE_MAGIC = "skiff-bundle/1\n";

/** Bounds a decoder (and the encoder, to fail early on the client) enforces. */
export interface BundleLimits {
  /** Whole bundle, framing included. */
  maxTotalBytes: number;
  maxEntries: number;
  maxPathBytes: number;
  maxMetaBytes: number;
}

/** Default limits: 2 GiB (models are large), 100k files (node_modules are many), 1 KiB paths, 1 MiB header. */
export const DEFAULT_BUNDLE_LIMITS: BundleLimits = {
  maxTotalBytes: 2 * 1024 ** 3,
  maxEntries: 100_000,
  maxPathBytes: 1024,
  maxMetaBytes: 1024 ** 2,
};

/** A decoded (or to be encoded) bundle. */
export interface Bundle {
  meta: Record<string, unknown>;
  files: Map<string, Uint8Array>;
}

const MAGIC_BYTES = new TextEncoder().encode(BUNDLE_MAGIC);
const utf8 = new TextEncoder();

/** Size in bytes of the encoded bundle (for Content-Length and limit checks). */
export function bundleByteLength(bundle: Bundle): number {
  let total = MAGIC_BYTES.length + 4 + utf8.encode(JSON.stringify(bundle.meta)).length + 4;
  for (const [path, content] of bundle.files) total += 4 + utf8.encode(path).length + 8 + content.length;
  return total;
}

/** Encodes a bundle as a sequence of chunks (file contents are yielded as is, not copied); throws on bad paths or limits. */
export function* encodeBundleChunks(bundle: Bundle, limits: Partial<BundleLimits> = {}): Generator<Uint8Array> {
  checkEncodable(bundle, { ...DEFAULT_BUNDLE_LIMITS, ...limits });
  const meta = utf8.encode(JSON.stringify(bundle.meta));
  yield concat([MAGIC_BYTES, u32(meta.length), meta, u32(bundle.files.size)]);
  // Sorted, so equal bundles encode to equal bytes.
  for (const path of [...bundle.files.keys()].sort()) {
    const content = bundle.files.get(path)!;
    const pathBytes = utf8.encode(path);
    yield concat([u32(pathBytes.length), pathBytes, u64(content.length)]);
    if (content.length > 0) yield content;
  }
}

/** Encodes a bundle into one byte array. */
export function encodeBundle(bundle: Bundle, limits: Partial<BundleLimits> = {}): Uint8Array {
  return concat([...encodeBundleChunks(bundle, limits)]);
}

function checkEncodable(bundle: Bundle, limits: BundleLimits): void {
  if (bundle.files.size > limits.maxEntries) throw new BundleLimitError(`bundle has ${bundle.files.size} files, more than the limit of ${limits.maxEntries}`);
  for (const path of bundle.files.keys()) checkPath(path, limits);
  const total = bundleByteLength(bundle);
  if (total > limits.maxTotalBytes) throw new BundleLimitError(`bundle is ${total} bytes, more than the limit of ${limits.maxTotalBytes}`);
}

/** Throws BundleFormatError (bad path) or BundleLimitError (too long) naming the path. */
export function checkPath(path: string, limits: BundleLimits = DEFAULT_BUNDLE_LIMITS): void {
  if (utf8.encode(path).length > limits.maxPathBytes) {
    throw new BundleLimitError(`bundle path ${JSON.stringify(path.slice(0, 64))}... is longer than ${limits.maxPathBytes} bytes`);
  }
  const problem = checkRelativePath(path);
  if (problem !== undefined) throw new BundleFormatError(`bundle path ${JSON.stringify(path)} ${problem}`);
}

/** Decodes a whole bundle held in memory. */
export function decodeBundle(bytes: Uint8Array, limits: Partial<BundleLimits> = {}): Bundle {
  const decoder = makeBundleDecoder(limits);
  decoder.push(bytes);
  return decoder.end();
}

/** An incremental decoder: push chunks as they arrive, then end() for the bundle. Errors are thrown as soon as they are seen. */
export interface BundleDecoder {
  push(chunk: Uint8Array): void;
  /** The bundle; throws BundleFormatError if the input stopped early. */
  end(): Bundle;
}

type Phase = "magic" | "metaLength" | "meta" | "count" | "pathLength" | "path" | "size" | "content" | "done";

// The decoder fills one target buffer at a time (a 4- or 8-byte integer, the header, a
// path, or a file's content, allocated once at its declared size) and moves to the next
// phase when it is full, so chunk boundaries can fall anywhere and nothing is re-copied.
interface DecoderState {
  limits: BundleLimits;
  phase: Phase;
  target: Uint8Array;
  filled: number;
  totalBytes: number;
  meta: Record<string, unknown>;
  count: number;
  path: string;
  files: Map<string, Uint8Array>;
}

/** A fresh incremental decoder enforcing `limits` (defaults: DEFAULT_BUNDLE_LIMITS). */
export function makeBundleDecoder(limits: Partial<BundleLimits> = {}): BundleDecoder {
  const state: DecoderState = {
    limits: { ...DEFAULT_BUNDLE_LIMITS, ...limits },
    phase: "magic",
    target: new Uint8Array(MAGIC_BYTES.length),
    filled: 0,
    totalBytes: 0,
    meta: {},
    count: 0,
    path: "",
    files: new Map(),
  };
  return {
    push: (chunk) => push(state, chunk),
    end(): Bundle {
      if (state.phase !== "done") throw new BundleFormatError(`truncated bundle: ${describePosition(state)}`);
      return { meta: state.meta, files: state.files };
    },
  };
}

function push(state: DecoderState, chunk: Uint8Array): void {
  state.totalBytes += chunk.length;
  if (state.totalBytes > state.limits.maxTotalBytes) {
    throw new BundleLimitError(`bundle is larger than the limit of ${state.limits.maxTotalBytes} bytes`);
  }
  let offset = 0;
  while (offset < chunk.length) {
    if (state.phase === "done") throw new BundleFormatError("unexpected data after the last entry of the bundle");
    const n = Math.min(state.target.length - state.filled, chunk.length - offset);
    state.target.set(chunk.subarray(offset, offset + n), state.filled);
    state.filled += n;
    offset += n;
    // Zero-length targets (an empty file) complete without input, hence the inner loop.
    while (!isDone(state) && state.filled === state.target.length) advance(state);
  }
}

// A function, not an inline comparison: TypeScript would keep the loop's narrowing of
// state.phase across advance(), which changes it.
function isDone(state: DecoderState): boolean {
  return state.phase === "done";
}

function expectBytes(state: DecoderState, phase: Phase, length: number): void {
  state.phase = phase;
  state.target = new Uint8Array(length);
  state.filled = 0;
}

function advance(state: DecoderState): void {
  const { limits, target } = state;
  const view = new DataView(target.buffer, target.byteOffset, target.byteLength);
  switch (state.phase) {
    case "magic":
      if (!target.every((byte, i) => byte === MAGIC_BYTES[i])) {
        throw new BundleFormatError(`not a skiff bundle: it must start with ${JSON.stringify(BUNDLE_MAGIC)} (content type ${BUNDLE_CONTENT_TYPE})`);
      }
      return expectBytes(state, "metaLength", 4);
    case "metaLength": {
      const length = view.getUint32(0);
      if (length > limits.maxMetaBytes) throw new BundleLimitError(`bundle header is ${length} bytes, more than the limit of ${limits.maxMetaBytes}`);
      return expectBytes(state, "meta", length);
    }
    case "meta":
      state.meta = parseMeta(target);
      return expectBytes(state, "count", 4);
    case "count":
      state.count = view.getUint32(0);
      if (state.count > limits.maxEntries) throw new BundleLimitError(`bundle has ${state.count} files, more than the limit of ${limits.maxEntries}`);
      return state.count === 0 ? expectBytes(state, "done", 0) : expectBytes(state, "pathLength", 4);
    case "pathLength": {
      const length = view.getUint32(0);
      if (length > limits.maxPathBytes) throw new BundleLimitError(`bundle entry ${state.files.size + 1} has a path of ${length} bytes, more than the limit of ${limits.maxPathBytes}`);
      return expectBytes(state, "path", length);
    }
    case "path":
      state.path = parsePath(state, target);
      return expectBytes(state, "size", 8);
    case "size": {
      const size = view.getBigUint64(0);
      // Checked before allocating, so a lying header cannot make us reserve gigabytes.
      if (size > BigInt(limits.maxTotalBytes - state.totalBytes)) {
        throw new BundleLimitError(`bundle entry ${JSON.stringify(state.path)} declares ${size} bytes, more than the bundle size limit of ${limits.maxTotalBytes} allows`);
      }
      return expectBytes(state, "content", Number(size));
    }
    case "content":
      state.files.set(state.path, target);
      return state.files.size === state.count ? expectBytes(state, "done", 0) : expectBytes(state, "pathLength", 4);
    case "done":
      return;
  }
}

function parseMeta(bytes: Uint8Array): Record<string, unknown> {
  let meta: unknown;
  try {
    meta = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes));
  } catch (error) {
    throw new BundleFormatError(`bundle header is not valid JSON: ${(error as Error).message}`, { cause: error });
  }
  if (meta === null || typeof meta !== "object" || Array.isArray(meta)) throw new BundleFormatError("bundle header must be a JSON object");
  return meta as Record<string, unknown>;
}

function parsePath(state: DecoderState, bytes: Uint8Array): string {
  let path: string;
  try {
    path = new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch (error) {
    throw new BundleFormatError(`bundle entry ${state.files.size + 1} has a path that is not valid UTF-8`, { cause: error });
  }
  checkPath(path, state.limits);
  if (state.files.has(path)) throw new BundleFormatError(`bundle path ${JSON.stringify(path)} appears twice`);
  return path;
}

function describePosition(state: DecoderState): string {
  const entry = `entry ${state.files.size + 1} of ${state.count}`;
  const where: Record<Phase, string> = {
    magic: "it ended inside the magic bytes (is it a skiff bundle?)",
    metaLength: "it ended before the header length",
    meta: `it ended inside the header (${state.filled} of ${state.target.length} bytes)`,
    count: "it ended before the entry count",
    pathLength: `it ended before the path of ${entry}`,
    path: `it ended inside the path of ${entry}`,
    size: `it ended before the size of ${entry} (${JSON.stringify(state.path)})`,
    content: `it ended inside ${entry} (${JSON.stringify(state.path)}, ${state.filled} of ${state.target.length} bytes)`,
    done: "",
  };
  return where[state.phase];
}

function u32(n: number): Uint8Array {
  const out = new Uint8Array(4);
  new DataView(out.buffer).setUint32(0, n);
  return out;
}

function u64(n: number): Uint8Array {
  const out = new Uint8Array(8);
  new DataView(out.buffer).setBigUint64(0, BigInt(n));
  return out;
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((sum, part) => sum + part.length, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}
