// OCI images of built functions: deterministic layers, config, manifest and image layout.
export { buildImageLayout, type BuildImageOptions, type ImageBuildInput, type ImageLayoutResult } from "./build-image.ts";
export { type BaseImage, type BaseLayer, type LayoutImage, type OciImageConfig, type OciRunConfig, loadBaseFromLayout, makeBaseLayers, readImageFromLayout } from "./base.ts";
export { buildHostBase, ensureHostBase, type HostBase, type HostBaseOptions } from "./host-base.ts";
export { defaultImageLayoutDir } from "./layout.ts";
export { ImageReferenceError, parseImageReference, parsePullReference, type ImageReference, type PullReference } from "./reference.ts";
