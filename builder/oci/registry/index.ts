// Registry client on fetch: pull base images, push built images, Basic/Bearer auth with Docker's
// config file. Other folders import from here only.
export { RegistryClient, type BodySource, type FetchedManifest, type RegistryClientOptions, type RegistryRequest, type UploadStart } from "./client.ts";
export { repositoryScope, type RepositoryAction } from "./auth.ts";
export { blobPath, hasBlob, type BlobRef } from "./content-store.ts";
export {
  dockerConfigCredentials, dockerConfigPath, staticCredentials,
  type CredentialLookup, type CredentialSource, type RegistryCredentials,
} from "./docker-config.ts";
export { isLoopbackHost, registryBaseUrl } from "./endpoint.ts";
export { DigestMismatchError, DockerConfigError, RegistryAuthError, RegistryError, RegistryNotFoundError } from "./errors.ts";
export { MANIFEST_ACCEPT, MANIFEST_TYPES, type ContentDescriptor } from "./media-types.ts";
export { formatPlatform, hostPlatform, parsePlatform, type Platform } from "./platform.ts";
export { pullImage, type PulledImage, type PullImageOptions } from "./pull.ts";
export { resolveImage, type ManifestDocument, type ResolvedImage } from "./resolve.ts";
export { pushImageLayout, type PushedBlob, type PushImageOptions, type PushResult } from "./push.ts";
export { pullImageFromReference, pushImageToReference, type RemoteOptions } from "./remote.ts";
export { DEFAULT_UPLOAD_SIZES, type UploadSizes } from "./upload.ts";
