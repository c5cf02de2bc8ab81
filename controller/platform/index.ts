// Public API of the local platform (`skiff up`) and of the state dir other commands read.
export { startPlatform, type Platform, type PlatformLogger, type PlatformOptions } from "./platform.ts";
export { readPlatformInfo, resolveStateDir, type PlatformInfo } from "./state-files.ts";
export { imageDirs, makeContainerImages } from "./container-images.ts";
