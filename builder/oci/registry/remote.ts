// The two calls the CLI needs, by image reference: push a layout to `REF`, pull `--base REF`.
// Each opens a client for the reference's registry with the caller's transport options.
import { manifestReference, parseImageReference, parsePullReference, type ImageReference, type PullReference } from "../reference.ts";
import { RegistryClient, type RegistryClientOptions } from "./client.ts";
import { pullImage, type PulledImage, type PullImageOptions } from "./pull.ts";
import { pushImageLayout, type PushImageOptions, type PushResult } from "./push.ts";

/** Transport options shared by push and pull (registry comes from the reference). */
export type RemoteOptions = Omit<RegistryClientOptions, "registry">;

/** Pushes the layout's image to `ref` (`[registry/]repo[:tag]`). */
export async function pushImageToReference(
  ref: string,
  options: RemoteOptions & Omit<PushImageOptions, "repository" | "tag">,
): Promise<PushResult & { target: ImageReference }> {
  const target = parseImageReference(ref);
  const client = new RegistryClient({ ...options, registry: target.registry });
  return { ...(await pushImageLayout(client, { ...options, repository: target.repository, tag: target.tag })), target };
}

/** Pulls `ref` (`[registry/]repo[:tag][@sha256:…]`) into `options.storeDir`. */
export async function pullImageFromReference(
  ref: string,
  options: RemoteOptions & Omit<PullImageOptions, "repository" | "reference">,
): Promise<PulledImage & { source: PullReference }> {
  const source = parsePullReference(ref);
  const client = new RegistryClient({ ...options, registry: source.registry });
  return { ...(await pullImage(client, { ...options, repository: source.repository, reference: manifestReference(source) })), source };
}
