// Which host files a binary needs in an image, and under which names. `ldd` names libraries by
// the paths the loader searches (/lib/x86_64-linux-gnu/libc.so.6), which on merged-/usr systems
// run through symlinks (/lib -> usr/lib; libstdc++.so.6 -> libstdc++.so.6.0.30). An image must
// hold each real file at its canonical path plus every symlink met on the way, so that the
// loader, following the same names inside the container, lands on the same bytes.
import { execFile } from "node:child_process";
import { lstat, readlink } from "node:fs/promises";
import { posix } from "node:path";
import { promisify } from "node:util";

/** Libraries of a binary as `ldd` printed them: absolute paths (the loader included), in order. */
export function parseLddOutput(text: string): string[] {
  const paths: string[] = [];
  const missing: string[] = [];
  for (const raw of text.split("\n")) {
    const line = raw.trim();
    if (line === "" || /statically linked|not a dynamic executable/.test(line)) continue;
    // "libc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x...)", "/lib64/ld-linux-x86-64.so.2 (0x...)",
    // "linux-vdso.so.1 (0x...)" (in the kernel, no file), "libfoo.so => not found".
    const arrow = /^(\S+) => (.+?)(?: \(0x[0-9a-f]+\))?$/.exec(line);
    if (arrow) {
      if (arrow[2] === "not found") missing.push(arrow[1]!);
      else if (arrow[2]!.startsWith("/")) paths.push(arrow[2]!);
      continue;
    }
    const bare = /^(\/\S+) \(0x[0-9a-f]+\)$/.exec(line);
    if (bare) paths.push(bare[1]!);
  }
  if (missing.length > 0) throw new Error(`shared libraries not found on this host: ${missing.join(", ")}`);
  return [...new Set(paths)];
}

/** The two questions asked of the filesystem while resolving (injectable for tests). */
export interface LinkReader {
  /** The symlink's target, or undefined when the path is not a symlink. */
  readLink(path: string): Promise<string | undefined>;
}

/** What it takes to reach a path: its canonical path and the symlinks met (path -> target as written). */
export interface ResolvedPath {
  real: string;
  links: Map<string, string>;
}

const MAX_LINKS = 40; // as the kernel's ELOOP limit

/** Resolves an absolute path component by component, recording every symlink it goes through. */
export async function resolvePath(path: string, fs: LinkReader, links = new Map<string, string>()): Promise<ResolvedPath> {
  let followed = 0;
  const walk = async (abs: string): Promise<string> => {
    let current = "/";
    for (const part of abs.split("/").filter((p) => p !== "" && p !== ".")) {
      const next = part === ".." ? posix.dirname(current) : posix.join(current, part);
      const target = await fs.readLink(next);
      if (target === undefined) {
        current = next;
        continue;
      }
      if (++followed > MAX_LINKS) throw new Error(`too many symlinks resolving ${path}`);
      links.set(next, target);
      current = await walk(posix.resolve(posix.dirname(next), target));
    }
    return current;
  };
  return { real: await walk(path), links };
}

/** The real filesystem as a LinkReader. */
export const hostLinkReader: LinkReader = {
  async readLink(path) {
    const info = await lstat(path);
    return info.isSymbolicLink() ? readlink(path) : undefined;
  },
};

/** Runs `ldd` on a binary and returns the libraries it loads. */
export async function hostLibraries(binary: string): Promise<string[]> {
  try {
    const { stdout } = await promisify(execFile)("ldd", [binary], { timeout: 10_000 });
    return parseLddOutput(stdout);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "ENOENT") throw new Error("ldd was not found: it is needed to find the shared libraries of node (apt-get install libc-bin)", { cause: error });
    throw error;
  }
}

/** Real files (canonical paths) and symlinks (path -> target) needed to reach every one of `paths`. */
export async function resolveAll(paths: readonly string[], fs: LinkReader = hostLinkReader): Promise<{ files: string[]; links: Map<string, string> }> {
  const links = new Map<string, string>();
  const files = new Set<string>();
  for (const path of paths) files.add((await resolvePath(path, fs, links)).real);
  return { files: [...files].sort(), links };
}
