// Public API of the builder: bundle a function with esbuild into a runnable output folder.
export { buildFunction, type BuildFunctionOptions, type BuildResult } from "./build.ts";
export { BuildError, type BuildDiagnostic } from "./errors.ts";
export { BUILDER_VERSION, type BuildManifest, readManifest as readBuildManifest } from "./manifest.ts";
export { defaultOutDir } from "./paths.ts";
export { buildImageLayout, defaultImageLayoutDir, ImageReferenceError, parseImageReference, type BuildImageOptions, type ImageBuildInput, type ImageLayoutResult, type ImageReference } from "./oci/index.ts";
export { buildHostBase, ensureHostBase, loadBaseFromLayout, readImageFromLayout, type BaseImage, type BaseLayer, type HostBase, type LayoutImage, type OciImageConfig } from "./oci/index.ts";
