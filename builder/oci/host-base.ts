// A base image made from this host: its node binary, the shared libraries node loads (with the
// dynamic loader), a minimal /etc/passwd and /etc/group with the `nonroot` user 65532, /tmp and
// the CA bundle when the host has one. It needs no registry (so it works offline and in tests),
// and it is reproducible: the same host files give the same digests.
import { createHash, randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdir, readdir, readFile, rename, rm, stat } from "node:fs/promises";
import { dirname, join } from "node:path";
import { promisify } from "node:util";
import { execFile } from "node:child_process";
import { type BaseImage, readImageFromLayout } from "./base.ts";
import { DEFAULT_PATH } from "./base-config.ts";
import { hostLibraries, resolveAll } from "./host-files.ts";
import { cachedHostLibraries, LIBRARIES_FILE } from "./host-libraries-cache.ts";
import { assembleImage, canonicalJson, formatCreated, IMAGE_USER, ociArchitecture, parseSourceDateEpoch } from "./image.ts";
import { makeLayer } from "./layers.ts";
import { writeImageLayout } from "./layout.ts";
import type { TarEntry } from "./tar.ts";

/** Where the host's CA bundle is on Debian and derivatives. */
export const CA_BUNDLE = "/etc/ssl/certs/ca-certificates.crt";

/** Bumped when what goes into the host base changes, so cached bases are rebuilt. */
const HOST_BASE_FORMAT = "1";

/** Settings of buildHostBase. */
export interface HostBaseOptions {
  /** OCI layout folder to write. */
  layoutDir: string;
  /** Tag in the layout (default "latest"). */
  tag?: string;
  /** SOURCE_DATE_EPOCH seconds for mtimes and `created` (default: the environment's, else 0). */
  sourceDateEpoch?: string;
  /** The node binary to ship (default process.execPath). */
  nodePath?: string;
}

/** A host base as written: a BaseImage plus where and under which tag it is. */
export interface HostBase extends BaseImage {
  manifestDigest: string;
  tag: string;
}

/** Minimal account files: root, and the `nonroot` user (65532, as distroless) replicas run as. */
export const PASSWD = "root:x:0:0:root:/root:/sbin/nologin\nnonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin\n";
export const GROUP = "root:x:0:\nnonroot:x:65532:\n";

/**
 * Host paths the base holds: node, its libraries (loader included) and the CA bundle if present.
 * With `librariesFile`, ldd's answer may come from that record (see host-libraries-cache.ts).
 */
async function hostPaths(nodePath: string, librariesFile?: string): Promise<string[]> {
  const libraries = librariesFile === undefined ? await hostLibraries(nodePath) : await cachedHostLibraries(nodePath, librariesFile);
  return [nodePath, ...libraries, ...(existsSync(CA_BUNDLE) ? [CA_BUNDLE] : [])];
}

/** Tar entries of the base: real files at canonical paths, the symlinks naming them, accounts and mount points. */
async function hostBaseEntries(paths: readonly string[]): Promise<TarEntry[]> {
  const { files, links } = await resolveAll(paths);
  const entries: TarEntry[] = [];
  for (const file of files) {
    const [data, info] = await Promise.all([readFile(file), stat(file)]);
    entries.push({ type: "file", path: file, data, mode: info.mode & 0o111 ? 0o755 : 0o644 });
  }
  for (const [path, target] of links) entries.push({ type: "symlink", path, target });
  entries.push(
    { type: "file", path: "etc/passwd", data: Buffer.from(PASSWD) },
    { type: "file", path: "etc/group", data: Buffer.from(GROUP) },
    { type: "dir", path: "tmp", mode: 0o1777 },
    // Mount points a container runtime needs: present in the image, they are not created at run
    // time inside a rootfs that is shared read-only between replicas.
    { type: "dir", path: "proc" },
    { type: "dir", path: "sys" },
    { type: "dir", path: "dev" },
  );
  return entries;
}

/** The base's PATH: the default, with node's directory first when the default lacks it. */
export function hostBasePath(nodePath: string): string {
  const dir = dirname(nodePath);
  return DEFAULT_PATH.split(":").includes(dir) ? DEFAULT_PATH : `${dir}:${DEFAULT_PATH}`;
}

/** Builds the host base into an OCI layout and returns it. */
export async function buildHostBase(options: HostBaseOptions): Promise<HostBase> {
  const nodePath = options.nodePath ?? process.execPath;
  const tag = options.tag ?? "latest";
  const epochSec = parseSourceDateEpoch(options.sourceDateEpoch ?? process.env.SOURCE_DATE_EPOCH);
  const paths = await hostPaths(nodePath);
  const layer = makeLayer("base", await hostBaseEntries(paths), epochSec);
  const architecture = ociArchitecture(process.arch);
  const created = formatCreated(epochSec);
  const version = await nodeVersion(nodePath);
  const config = {
    architecture,
    os: "linux",
    created,
    config: {
      User: IMAGE_USER,
      Env: [`PATH=${hostBasePath(nodePath)}`],
      Entrypoint: [nodePath],
      WorkingDir: "/",
      Labels: { "dev.skiff.base": "host", "dev.skiff.node-version": version },
    },
    rootfs: { type: "layers", diff_ids: [layer.diffId] },
    history: [{ created, created_by: `skiff host base: node ${version} and ${paths.length - 1} files it needs, from the host` }],
  };
  const image = assembleImage(config, [layer], [], architecture);
  await writeImageLayout(options.layoutDir, image, tag);
  return { ...(await readImageFromLayout(options.layoutDir, tag)), tag };
}

async function nodeVersion(nodePath: string): Promise<string> {
  if (nodePath === process.execPath) return process.version;
  const { stdout } = await promisify(execFile)(nodePath, ["--version"], { timeout: 10_000 });
  return stdout.trim();
}

/**
 * A key for the host files the base is made of (paths, sizes, mtimes): a node or library upgrade
 * changes it, and so rebuilds the base; otherwise the cached one is used. `librariesFile`: where
 * ldd's answer is remembered between runs.
 */
export async function hostBaseKey(nodePath: string, sourceDateEpoch: string | undefined, librariesFile?: string): Promise<string> {
  const { files, links } = await resolveAll(await hostPaths(nodePath, librariesFile));
  const facts = await Promise.all(files.map(async (f) => {
    const info = await stat(f);
    return [f, info.size, Math.trunc(info.mtimeMs)];
  }));
  const basis = { format: HOST_BASE_FORMAT, nodePath, sourceDateEpoch: sourceDateEpoch ?? "", facts, links: [...links] };
  return createHash("sha256").update(canonicalJson(basis)).digest("hex").slice(0, 16);
}

const building = new Map<string, Promise<HostBase>>();

/**
 * The host base cached under `cacheDir/host-<key>/` (built on first use, atomically: a half-built
 * base is never found). Bases of older keys are removed once a new one is in place.
 */
export function ensureHostBase(cacheDir: string, options: Omit<HostBaseOptions, "layoutDir" | "tag"> = {}): Promise<HostBase> {
  const nodePath = options.nodePath ?? process.execPath;
  const sourceDateEpoch = options.sourceDateEpoch ?? process.env.SOURCE_DATE_EPOCH;
  const run = async (): Promise<HostBase> => {
    const tag = `host-${await hostBaseKey(nodePath, sourceDateEpoch, join(cacheDir, LIBRARIES_FILE))}`;
    const layoutDir = join(cacheDir, tag);
    const cached = await readImageFromLayout(layoutDir, tag).catch(() => undefined);
    if (cached) return { ...cached, tag };
    await mkdir(cacheDir, { recursive: true });
    const temp = `${layoutDir}.tmp-${process.pid}-${randomBytes(4).toString("hex")}`;
    try {
      await buildHostBase({ layoutDir: temp, tag, nodePath, ...(sourceDateEpoch !== undefined && { sourceDateEpoch }) });
      await rename(temp, layoutDir).catch((error: unknown) => {
        // Another builder got there first: its base is the same bytes.
        if (!existsSync(join(layoutDir, "index.json"))) throw error;
      });
    } finally {
      await rm(temp, { recursive: true, force: true });
    }
    for (const name of await readdir(cacheDir)) {
      if (name.startsWith("host-") && name !== tag && !name.includes(".tmp-")) await rm(join(cacheDir, name), { recursive: true, force: true });
    }
    return { ...(await readImageFromLayout(layoutDir, tag)), tag };
  };
  const key = `${cacheDir}\0${nodePath}\0${sourceDateEpoch ?? ""}`;
  let pending = building.get(key);
  if (!pending) {
    pending = run().finally(() => building.delete(key));
    building.set(key, pending);
  }
  return pending;
}
