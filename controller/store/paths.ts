// Validation of the relative paths of a revision's files. Paths come from uploads, so a
// bad one must never escape the revision directory or collide with another entry.
import { ValidationError } from "./errors.ts";

/** Longest accepted path, in UTF-8 bytes (well under PATH_MAX once the state dir is prefixed). */
export const MAX_PATH_BYTES = 1024;

/** Why `path` is not a safe relative posix path inside a revision, or undefined when it is. */
export function checkRelativePath(path: string): string | undefined {
  if (path === "") return "is empty";
  if (path.includes("\0")) return "contains a NUL byte";
  if (Buffer.byteLength(path, "utf8") > MAX_PATH_BYTES) return `is longer than ${MAX_PATH_BYTES} bytes`;
  if (path.includes("\\")) return 'contains "\\" (use "/" as the separator)';
  if (path.startsWith("/") || /^[A-Za-z]:/.test(path)) return "is absolute (paths must be relative)";
  const segments = path.split("/");
  if (segments.includes("..")) return 'contains ".." (paths must stay inside the revision)';
  if (segments.includes(".")) return 'contains "." as a segment';
  if (segments.includes("")) return "has an empty segment (a leading, trailing or doubled /)";
  return undefined;
}

/** Throws ValidationError naming `path` unless it is a safe relative posix path. */
export function validateRelativePath(path: string): void {
  const problem = checkRelativePath(path);
  if (problem !== undefined) throw new ValidationError(`invalid file path ${JSON.stringify(path)}: ${problem}`);
}

/** Throws ValidationError on an invalid path, a duplicate, or a file that is also another file's directory. */
export function validateRevisionPaths(paths: Iterable<string>): void {
  const seen = new Set<string>();
  for (const path of paths) {
    validateRelativePath(path);
    if (seen.has(path)) throw new ValidationError(`duplicate file path ${JSON.stringify(path)}`);
    seen.add(path);
  }
  // "a" and "a/b" cannot both be files; writing them would fail half-way with a confusing errno.
  for (const path of seen) {
    const segments = path.split("/");
    for (let i = 1; i < segments.length; i++) {
      const dir = segments.slice(0, i).join("/");
      if (seen.has(dir)) {
        throw new ValidationError(`file path ${JSON.stringify(path)} needs ${JSON.stringify(dir)} to be a directory, but it is also a file`);
      }
    }
  }
}
