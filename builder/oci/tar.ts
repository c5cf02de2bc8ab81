// A deterministic tar writer for image layers: same entries in, same bytes out. ustar headers
// (PAX only for paths or link targets ustar cannot hold), sorted paths with every parent
// directory emitted, owner 0:0 with no user/group names, one fixed mtime, and no atime/ctime.

/** One entry of a layer: a directory, a file with its bytes, or a symbolic link (base images name libraries through them). */
export type TarEntry =
  | { type: "dir"; path: string; mode?: number }
  | { type: "file"; path: string; data: Uint8Array; mode?: number }
  | { type: "symlink"; path: string; target: string };

/** What every header shares. */
export interface TarOptions {
  /** mtime of every entry, in seconds since the epoch (SOURCE_DATE_EPOCH, else 0). */
  mtimeSec: number;
}

const BLOCK = 512;
const DIR_MODE = 0o755;
const FILE_MODE = 0o644;
/** Symlink permissions are ignored on Linux; 0777 is what every tool writes. */
const SYMLINK_MODE = 0o777;
/** Typeflags used: regular file, symlink, directory, PAX extended header. */
const TYPEFLAG = { file: "0", symlink: "2", dir: "5" } as const;
/** ustar's size field holds 11 octal digits. */
const MAX_USTAR_SIZE = 8 ** 11 - 1;

/** Builds a tar archive (with its two zero end blocks) from entries; paths are posix, relative. */
export function makeTar(entries: readonly TarEntry[], options: TarOptions): Buffer {
  const blocks: Buffer[] = [];
  for (const entry of normalizeEntries(entries)) blocks.push(...entryBlocks(entry, options.mtimeSec));
  blocks.push(Buffer.alloc(BLOCK * 2));
  return Buffer.concat(blocks);
}

/** Cleans paths, adds missing parent directories, drops exact duplicates and sorts by path bytes. */
export function normalizeEntries(entries: readonly TarEntry[]): TarEntry[] {
  const byPath = new Map<string, TarEntry>();
  for (const entry of entries) {
    const path = cleanPath(entry.path);
    const existing = byPath.get(path);
    if (existing && (existing.type !== "dir" || entry.type !== "dir")) throw new Error(`duplicate tar entry "${path}"`);
    byPath.set(path, { ...entry, path });
    const parts = path.split("/");
    for (let i = 1; i < parts.length; i++) {
      const parent = parts.slice(0, i).join("/");
      const seen = byPath.get(parent);
      if (seen && seen.type !== "dir") throw new Error(`tar entry "${parent}" is a ${seen.type} and a parent of "${path}"`);
      if (!seen) byPath.set(parent, { type: "dir", path: parent });
    }
  }
  // Byte-wise order (not locale): the same on every machine.
  return [...byPath.values()].sort((a, b) => Buffer.compare(Buffer.from(a.path), Buffer.from(b.path)));
}

function cleanPath(path: string): string {
  const parts = path.split("/").filter((p) => p !== "" && p !== ".");
  if (parts.length === 0 || parts.includes("..")) throw new Error(`bad tar entry path "${path}"`);
  return parts.join("/");
}

function entryBlocks(entry: TarEntry, mtimeSec: number): Buffer[] {
  const name = entry.type === "dir" ? `${entry.path}/` : entry.path;
  const data = entry.type === "file" ? entry.data : new Uint8Array(0);
  if (data.length > MAX_USTAR_SIZE) throw new Error(`tar entry "${entry.path}" is larger than 8 GiB`);
  const mode = entry.type === "symlink" ? SYMLINK_MODE : (entry.mode ?? (entry.type === "dir" ? DIR_MODE : FILE_MODE));
  const linkname = entry.type === "symlink" ? entry.target : "";
  if (entry.type === "symlink" && (linkname === "" || linkname.includes("\0"))) throw new Error(`tar entry "${entry.path}" has a bad symlink target`);
  const split = splitUstarName(name);
  const longLink = Buffer.byteLength(linkname) > 100;
  const out: Buffer[] = [];
  if (!split || longLink) {
    // Too long for the ustar fields: a PAX extended header carries the full path or target.
    const pax = Buffer.concat([...(split ? [] : [paxRecord("path", name)]), ...(longLink ? [paxRecord("linkpath", linkname)] : [])]);
    out.push(header({ name: "PaxHeaders/" + lastPart(name), prefix: "", size: pax.length, mode: FILE_MODE, mtimeSec, type: "x", linkname: "" }));
    out.push(...padded(pax));
  }
  const { name: short, prefix } = split ?? { name: lastPart(name), prefix: "" };
  const shortLink = longLink ? Buffer.from(linkname).subarray(0, 100).toString("latin1") : linkname;
  out.push(header({ name: short, prefix, size: data.length, mode, mtimeSec, type: TYPEFLAG[entry.type], linkname: shortLink }));
  out.push(...padded(data));
  return out;
}

function lastPart(name: string): string {
  const trimmed = name.replace(/\/$/, "");
  return Buffer.from(trimmed.slice(trimmed.lastIndexOf("/") + 1)).subarray(0, 99).toString("latin1");
}

/** Splits a path into ustar name (<=100 bytes) and prefix (<=155 bytes), or undefined if it cannot. */
export function splitUstarName(path: string): { name: string; prefix: string } | undefined {
  if (Buffer.byteLength(path) <= 100) return { name: path, prefix: "" };
  const trailing = path.endsWith("/") ? "/" : "";
  const body = trailing ? path.slice(0, -1) : path;
  for (let i = body.indexOf("/"); i !== -1; i = body.indexOf("/", i + 1)) {
    const prefix = body.slice(0, i);
    const name = body.slice(i + 1) + trailing;
    if (Buffer.byteLength(prefix) <= 155 && Buffer.byteLength(name) <= 100) return { name, prefix };
  }
  return undefined;
}

/** A PAX record `<len> key=value\n`, where len counts itself. */
function paxRecord(key: string, value: string): Buffer {
  const rest = ` ${key}=${value}\n`;
  let len = Buffer.byteLength(rest);
  while (String(len).length + Buffer.byteLength(rest) !== len) len = String(len).length + Buffer.byteLength(rest);
  return Buffer.from(`${len}${rest}`);
}

function padded(data: Uint8Array): Buffer[] {
  if (data.length === 0) return [];
  const rem = data.length % BLOCK;
  return rem === 0 ? [Buffer.from(data)] : [Buffer.from(data), Buffer.alloc(BLOCK - rem)];
}

interface HeaderFields {
  name: string;
  prefix: string;
  size: number;
  mode: number;
  mtimeSec: number;
  type: "0" | "2" | "5" | "x";
  /** Symlink target (typeflag 2), at most 100 bytes; longer ones go in a PAX linkpath. */
  linkname: string;
}

function header(f: HeaderFields): Buffer {
  const h = Buffer.alloc(BLOCK);
  h.write(f.name, 0, 100, "utf8");
  writeOctal(h, 100, 8, f.mode & 0o7777);
  writeOctal(h, 108, 8, 0); // uid
  writeOctal(h, 116, 8, 0); // gid
  writeOctal(h, 124, 12, f.size);
  writeOctal(h, 136, 12, f.mtimeSec);
  h.write("        ", 148, 8, "latin1"); // checksum counts as spaces while summing
  h.write(f.type, 156, 1, "latin1");
  h.write(f.linkname, 157, 100, "utf8");
  h.write("ustar\u000000", 257, 8, "latin1");
  h.write(f.prefix, 345, 155, "utf8");
  let sum = 0;
  for (const byte of h) sum += byte;
  h.write(`${sum.toString(8).padStart(6, "0")}\u0000 `, 148, 8, "latin1");
  return h;
}

/** Zero-padded octal in `width - 1` digits followed by NUL. */
function writeOctal(buf: Buffer, offset: number, width: number, value: number): void {
  if (!Number.isInteger(value) || value < 0) throw new Error(`tar header field must be a non-negative integer, got ${value}`);
  buf.write(`${value.toString(8).padStart(width - 1, "0")}\u0000`, offset, width, "latin1");
}
