// What `skiff build --image` prints about an image: a JSON summary (--json) and human lines.
import { relative } from "node:path";
import type { FunctionImage } from "./image-build.ts";
import { formatBytes } from "./io.ts";

/** The `image` member of `build --json`, with `push` when pushed. */
export function imageSummary(result: Omit<FunctionImage, "build">) {
  const { layout, base, push } = result;
  const { registry, repository, tag } = layout.reference;
  return {
    reference: `${registry}/${repository}:${tag}`,
    tag,
    layout: layout.layoutDir,
    manifestDigest: layout.manifestDigest,
    configDigest: layout.configDigest,
    layers: layout.layers,
    revision: layout.revision,
    base: {
      name: base.name,
      kind: base.kind,
      ...(base.manifestDigest && { manifestDigest: base.manifestDigest }),
      ...(base.bytesDownloaded !== undefined && { bytesDownloaded: base.bytesDownloaded }),
    },
    ...(push && {
      push: {
        reference: push.reference,
        manifestDigest: push.manifestDigest,
        bytesUploaded: push.bytesUploaded,
        blobs: push.blobs.map(({ digest, size, mediaType, action, bytesUploaded }) => ({ digest, size, mediaType, action, bytesUploaded })),
      },
    }),
  };
}

/** Human lines: the layout (and its base), then the pushed reference with its digest. */
export function imageLines(result: Omit<FunctionImage, "build">): string[] {
  const { layout, base, push } = result;
  const where = relative(process.cwd(), layout.layoutDir) || ".";
  const lines = [`image ${layout.manifestDigest} -> ${where} (tag ${layout.reference.tag}; oci:${where}:${layout.reference.tag})`];
  lines.push(base.kind === "scratch" ? "  base: none (--base scratch): the image holds the app layers only and needs a base providing node to run" : `  base: ${base.name}`);
  if (push) lines.push(`pushed ${push.reference} (${formatBytes(push.bytesUploaded)} uploaded; ${countActions(push.blobs)})`);
  return lines;
}

function countActions(blobs: readonly { action: string }[]): string {
  const counts = new Map<string, number>();
  for (const blob of blobs) counts.set(blob.action, (counts.get(blob.action) ?? 0) + 1);
  return [...counts].map(([action, n]) => `${n} ${action}`).join(", ");
}
