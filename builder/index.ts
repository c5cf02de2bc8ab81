// Public API of the builder: bundle a function with esbuild, build its OCI image, push and pull images.
export { buildFunction, type BuildFunctionOptions, type BuildResult } from "./build.ts";
export { BuildError, type BuildDiagnostic } from "./errors.ts";
export { BUILDER_VERSION, type BuildManifest, readManifest as readBuildManifest } from "./manifest.ts";
export { defaultOutDir } from "./paths.ts";
export { buildImageLayout, defaultImageLayoutDir, ImageReferenceError, parseImageReference, type BuildImageOptions, type ImageBuildInput, type ImageLayoutResult, type ImageReference } from "./oci/index.ts";
export { buildHostBase, ensureHostBase, loadBaseFromLayout, makeBaseLayers, parsePullReference, readImageFromLayout, type BaseImage, type BaseLayer, type HostBase, type LayoutImage, type OciImageConfig, type PullReference } from "./oci/index.ts";
export {
  DockerConfigError, pullImageFromReference, pushImageToReference, RegistryError,
  type CredentialSource, type PulledImage, type PushedBlob, type PushResult, type RemoteOptions,
} from "./oci/registry/index.ts";
