// OCI images of built functions: deterministic layers, config, manifest and image layout.
export { buildImageLayout, type BuildImageOptions, type ImageLayoutResult } from "./build-image.ts";
export { defaultImageLayoutDir } from "./layout.ts";
export { ImageReferenceError, parseImageReference, type ImageReference } from "./reference.ts";
