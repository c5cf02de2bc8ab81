// Images of container revisions: built from the revision's stored bundle on the host base (node
// and its libraries from this machine), one OCI layout per revision under
// `<stateDir>/images/functions/<fn>/<revision>/`, tagged with the base they were built on, so a
// node upgrade on the host rebuilds them and an unchanged one is read back, not rebuilt.
import { rm } from "node:fs/promises";
import { join } from "node:path";
import { buildImageLayout, ensureHostBase, readBuildManifest, readImageFromLayout } from "../../builder/index.ts";
import type { ContainerImage, ContainerImageSource } from "../backends/container/index.ts";
import type { Revision } from "../types.ts";

/** Where a state dir keeps images. */
export function imageDirs(stateDir: string) {
  const root = join(stateDir, "images");
  return { base: join(root, "base"), functions: join(root, "functions") };
}

/** The image source the container backend asks for each revision. */
export function makeContainerImages(stateDir: string): ContainerImageSource {
  const dirs = imageDirs(stateDir);
  return async (revision: Revision): Promise<ContainerImage> => {
    const base = await ensureHostBase(dirs.base);
    const layoutDir = join(dirs.functions, revision.fn, revision.id);
    const tag = base.tag;
    const existing = await readImageFromLayout(layoutDir, tag).catch(() => undefined);
    if (existing) return { layoutDir, tag, manifestDigest: existing.manifestDigest, run: existing.config.config ?? {} };
    // Another base's image (or a half-written one) is replaced whole.
    await rm(layoutDir, { recursive: true, force: true });
    const manifest = await readBuildManifest(revision.bundleDir);
    const image = await buildImageLayout(
      { spec: revision.spec, outDir: revision.bundleDir, manifest: { assets: manifest?.assets ?? {}, inputsHash: manifest?.inputsHash ?? revision.contentHash } },
      // The revision's content hash labels the image: the state dir is no git work tree to ask.
      { dir: revision.bundleDir, reference: `${revision.fn}:${tag}`, layoutDir, revision: revision.contentHash, base },
    );
    return { layoutDir, tag, manifestDigest: image.manifestDigest, run: image.config.config ?? {} };
  };
}

/** Removes a deleted function's images. */
export async function removeFunctionImages(stateDir: string, fn: string): Promise<void> {
  await rm(join(imageDirs(stateDir).functions, fn), { recursive: true, force: true });
}
